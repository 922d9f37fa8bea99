"""Migration 0008 adds customers.timezone and customers.locale (nullable) to a store holding data,
and its downgrade removes them without touching the rows, on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
from alembic import command
from sqlalchemy import inspect, text

from aftersales.adapters.sql.engine import make_engine
from aftersales.adapters.sql.migrate import alembic_config, upgrade


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def empty_url(request, tmp_path, fresh_postgres_database, drop_database):
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'migrate.db'}"
        return
    url = fresh_postgres_database("aftersales_migration_0008")
    yield url
    drop_database(url)


def _columns(engine) -> dict[str, bool]:
    return {c["name"]: c["nullable"] for c in inspect(engine).get_columns("customers")}


def test_0008_adds_nullable_columns_to_a_store_with_rows_and_downgrades(empty_url):
    engine = make_engine(empty_url)
    try:
        upgrade(engine, "0007")
        with engine.begin() as conn:
            conn.execute(text("INSERT INTO customers (customer_id, country) VALUES ('c1', 'DE')"))
            conn.execute(
                text(
                    "INSERT INTO orders (order_id, customer_id, status, ordered_at, revenue) "
                    "VALUES ('o1', 'c1', 'placed', '2026-03-29T01:00:00+00:00', 10)"
                )
            )
        assert "timezone" not in _columns(engine)
        upgrade(engine, "0008")
        cols = _columns(engine)
        assert cols["timezone"] is True and cols["locale"] is True
        with engine.begin() as conn:
            assert conn.execute(text("SELECT timezone, locale FROM customers")).one() == (None, None)
            conn.execute(text("UPDATE customers SET timezone = 'Europe/Berlin', locale = 'de_DE'"))
        cfg = alembic_config()
        with engine.begin() as conn:
            cfg.attributes["connection"] = conn
            command.downgrade(cfg, "0007")
        assert "timezone" not in _columns(engine) and "locale" not in _columns(engine)
        with engine.connect() as conn:
            assert conn.execute(text("SELECT customer_id, country FROM customers")).one() == ("c1", "DE")
            assert conn.execute(text("SELECT count(*) FROM orders")).scalar() == 1
    finally:
        engine.dispose()
