"""Settings: every ``AFTERSALES_*`` variable, read and validated by pydantic-settings (imported
through :mod:`aftersales.config`, which loads this module on first use)."""

from __future__ import annotations

from functools import lru_cache
from typing import Annotated
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from aftersales.config import DEFAULT_DATABASE_URL

__all__ = ["Settings", "get_settings"]


class Settings(BaseSettings):
    """Runtime configuration. Every field can be set as ``AFTERSALES_<FIELD>``."""

    model_config = SettingsConfigDict(env_prefix="AFTERSALES_", extra="ignore")

    database_url: str = DEFAULT_DATABASE_URL
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

    # -- act plane: customers' defaults, e-mail, journeys (issue 15; docs/journeys.md, docs/email.md) --

    default_timezone: str = "UTC"
    """IANA zone of a customer whose own ``timezone`` is unknown: quiet hours and local send windows use it."""

    default_locale: str = "en"
    """Locale (BCP 47 / POSIX, ``en``, ``de_CH``) of a customer whose own ``locale`` is unknown."""

    secret_key: SecretStr | None = None
    """Key that signs every token leaving the system (unsubscribe and preference links, survey links).
    Unset: one is generated at first use and kept in the store, so links survive restarts."""

    public_url: str = "http://127.0.0.1:8000"
    """Base URL at which customers reach this service (links in e-mails: unsubscribe, preferences)."""

    email_transport: str = "outbox"
    """``outbox`` (the embedded default: one .eml file per message in ``outbox_dir``) or ``smtp``."""

    outbox_dir: str = "outbox"
    """Directory of the local .eml outbox."""

    outbox_fsync: bool = True
    """Whether each .eml file is forced to disk before its message counts as sent (``aftersales demo``
    turns it off for its own outbox)."""

    smtp_host: str = "127.0.0.1"
    smtp_port: int = 25
    smtp_security: str = "none"
    """``none``, ``starttls`` or ``tls`` (implicit TLS, usually port 465)."""
    smtp_username: str | None = None
    smtp_password: SecretStr | None = None
    smtp_timeout_s: float = 30.0

    mail_from: str = "Aftersales <noreply@localhost>"
    """The From address of every e-mail (and the domain of its Message-ID)."""

    send_rate_per_s: float = 50.0
    """Most e-mails per second one transport sends (a provider's quota); more are queued, not failed."""

    quiet_hours: str = "21:00-08:00"
    """Hours in the customer's own zone when marketing e-mail is deferred (not dropped); empty: none."""

    frequency_cap: str = "3/7d"
    """Most marketing e-mails per customer per rolling window (``N/<days>d``); transactional ones are exempt."""

    @field_validator("webhook_allow_hosts", mode="before")
    @classmethod
    def _split_hosts(cls, v: object) -> object:
        return tuple(p.strip() for p in v.split(",") if p.strip()) if isinstance(v, str) else v

    @field_validator("reporting_timezone", "default_timezone")
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
