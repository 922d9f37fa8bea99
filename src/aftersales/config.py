"""Settings: the only reader of the environment (pydantic-settings, prefix ``AFTERSALES_``)."""

from __future__ import annotations

from functools import lru_cache
from typing import Annotated
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

__all__ = ["Settings", "get_settings"]


class Settings(BaseSettings):
    """Runtime configuration. Every field can be set as ``AFTERSALES_<FIELD>``."""

    model_config = SettingsConfigDict(env_prefix="AFTERSALES_", extra="ignore")

    database_url: str = "sqlite:///aftersales.db"
    """SQLAlchemy URL of the operational store (SQLite file by default; ``postgresql+psycopg://...``)."""

    database_url_file: str | None = None
    """A file holding the store URL (a mounted secret), read by ``aftersales serve`` instead of
    ``database_url``, so that the store's password need not be written on a command line."""

    reporting_timezone: str = "UTC"
    """IANA zone in which calendar periods (day, month, quarter) are cut."""

    import_batch_size: int = 5_000
    """Rows per transaction when importing files."""

    log_level: str = "info"
    """Log level of the API's worker processes (``aftersales serve --workers N`` passes ``--log-level``)."""

    webhook_allow_hosts: Annotated[tuple[str, ...], NoDecode] = ()
    """Webhook destinations allowed although not public, for local development: host names or IP
    ranges (``localhost,127.0.0.0/8``), comma-separated. Empty by default: loopback, private,
    link-local, multicast and unspecified addresses are refused (docs/api.md, Webhooks)."""

    @field_validator("webhook_allow_hosts", mode="before")
    @classmethod
    def _split_hosts(cls, v: object) -> object:
        return tuple(p.strip() for p in v.split(",") if p.strip()) if isinstance(v, str) else v

    @field_validator("reporting_timezone")
    @classmethod
    def _known_zone(cls, v: str) -> str:
        try:
            ZoneInfo(v)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {v!r} (use an IANA name such as Europe/Oslo)") from None
        return v


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, read once from the environment."""
    return Settings()
