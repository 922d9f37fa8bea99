"""Configuration: the only reader of the environment (prefix ``AFTERSALES_``).

:class:`~aftersales.config.settings.Settings` (pydantic-settings) holds and validates every setting;
it is loaded on first use of ``Settings`` or ``get_settings``, so importing this package costs nothing.
:func:`env_database_url` reads the one setting a lean command needs (``aftersales keys create``,
which must start in well under half a second: docs/cli.md, start-up) with the standard library,
exactly as pydantic-settings reads it (prefix, case-insensitive name, the same default).
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from aftersales.config.settings import Settings, get_settings

__all__ = ["DEFAULT_DATABASE_URL", "Settings", "env_database_url", "get_settings"]

DEFAULT_DATABASE_URL = "sqlite:///aftersales.db"


def env_database_url() -> str:
    """``AFTERSALES_DATABASE_URL`` (any letter case, like pydantic-settings), else the default store."""
    wanted = "aftersales_database_url"
    for name, value in os.environ.items():
        if name.lower() == wanted:
            return value
    return DEFAULT_DATABASE_URL


def __getattr__(name: str) -> Any:
    if name in ("Settings", "get_settings"):
        from aftersales.config import settings

        return getattr(settings, name)
    raise AttributeError(f"module 'aftersales.config' has no attribute {name!r}")
