"""``aftersales keys create`` without SQLAlchemy: the key is written with the plain database driver
when the store is already at the head (``adapters/sql/lean_keys.py``), else not at all, and the caller
takes the full path (``bootstrap.init_store`` and ``api_keys.create_key`` on a unit of work).

Importing this module loads the standard library's ``sqlite3``, the API-key service and the settings,
no SQLAlchemy, Alembic, Typer or analytics (tests/e2e/test_keys_create_lean.py holds it to that).
"""

from __future__ import annotations

from aftersales.adapters.sql.lean_keys import add_key_at_head
from aftersales.bootstrap import database_url
from aftersales.config import env_database_url
from aftersales.services.operational.api_keys import CreatedKey, new_key

__all__ = ["create_key_at_head"]


def create_key_at_head(scope: str, name: str | None = None, db: str | None = None) -> CreatedKey | None:
    """A new key with ``scope`` and ``name``, stored in the store ``db`` (``--db``, else
    ``AFTERSALES_DATABASE_URL`` or the default store) when that store is at the head revision; None,
    with nothing stored, otherwise. Only the store URL is read from the environment here: the other
    settings are validated by every other command, not by this lean one."""
    created = new_key(scope, name)
    url = database_url(db) if db else env_database_url()
    return created if add_key_at_head(url, created.record) else None
