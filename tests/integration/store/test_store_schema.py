"""The store: migrations create exactly the contract's tables; SQLite pragmas; UTC time stamps."""

from __future__ import annotations

from datetime import datetime

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import insert, text
from sqlalchemy.exc import StatementError

from aftersales.adapters.sql.engine import make_engine
from aftersales.adapters.sql.migrate import head_revision, upgrade
from aftersales.adapters.sql.tables import TABLES, metadata
from aftersales.core import contract


def test_migrations_match_the_tables(store_url):
    engine = make_engine(store_url)
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), metadata)
    engine.dispose()
    assert diff == []


def test_every_contract_table_and_column_is_in_the_store():
    for name, t in contract.TABLES.items():
        assert [c.name for c in TABLES[name].columns] == list(t.column_names)
        assert [c.name for c in TABLES[name].primary_key.columns] == list(t.key)


def test_upgrade_is_idempotent(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'a.db'}")
    first, second = upgrade(engine), upgrade(engine)
    assert first.created and not second.changed and second.after == head_revision()


def test_sqlite_runs_in_wal_mode_with_foreign_keys(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'a.db'}")
    upgrade(engine)
    with engine.connect() as conn:
        assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert conn.execute(text("PRAGMA foreign_keys")).scalar() == 1


def test_naive_time_stamps_never_reach_the_store(store_url):
    engine = make_engine(store_url)
    with pytest.raises(StatementError, match="has no time zone"), engine.begin() as conn:
        conn.execute(insert(TABLES["customers"]).values(customer_id="x", created_at=datetime(2024, 1, 1)))
    engine.dispose()


def test_missing_folder_is_a_clear_error(tmp_path):
    from aftersales.core.errors import UnusableInputError

    with pytest.raises(UnusableInputError, match="does not exist"):
        make_engine(f"sqlite:///{tmp_path / 'nope' / 'a.db'}")
