"""Composition root: the one place that reads Settings and picks adapters."""

from __future__ import annotations

from pathlib import Path

from aftersales.config import Settings, get_settings

__all__ = ["database_url", "settings"]


def settings() -> Settings:
    return get_settings()


def database_url(db: str | None = None) -> str:
    """The store URL: ``--db`` when given (a bare path means a SQLite file), else the settings'."""
    if not db:
        return get_settings().database_url
    if "://" in db:
        return db
    return f"sqlite:///{Path(db).expanduser()}"
