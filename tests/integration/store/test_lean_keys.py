"""The lean key writer (``adapters/sql/lean_keys.py``, issue 11): on a store at the head it writes the
row the SQLAlchemy repository writes, byte for byte, on SQLite and PostgreSQL; anywhere else it
declines with nothing written, so ``keys create`` takes the full path; it reads URLs as SQLAlchemy does
and opens SQLite as the engine does."""

from __future__ import annotations

import dataclasses
import sqlite3
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import psycopg
import pytest
from sqlalchemy import text
from sqlalchemy.dialects.sqlite.pysqlite import SQLiteDialect_pysqlite
from sqlalchemy.engine import make_url

from aftersales.adapters.sql import lean_keys, migrate
from aftersales.adapters.sql.engine import make_engine, normalise_url
from aftersales.adapters.sql.repositories import unit_of_work_factory
from aftersales.services.operational import api_keys


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def fresh_store(request: pytest.FixtureRequest, tmp_path: Path) -> Callable[[str], str]:
    """``fresh(name) -> URL`` of an empty store (a SQLite file path not yet created, or an empty
    PostgreSQL database named per run)."""
    if request.param == "sqlite":
        return lambda name: f"sqlite:///{tmp_path / name}.db"
    return lambda name: request.getfixturevalue("fresh_postgres_database")(f"aftersales_lean_{name}")


def _migrated(url: str, to: str = "head") -> str:
    engine = make_engine(url)
    try:
        migrate.upgrade(engine, to)
    finally:
        engine.dispose()
    return url


def _raw_rows(url: str) -> list[tuple]:
    """``api_keys`` as the driver returns it, no SQLAlchemy types in between (SQLite: with each
    value's storage class)."""
    path = lean_keys.sqlite_path(url)
    if path is not None:
        with sqlite3.connect(path) as conn:
            rows = conn.execute("SELECT *, typeof(created_at), typeof(revoked_at), typeof(name) FROM api_keys")
            return sorted(rows.fetchall())
    args = lean_keys.postgres_connect_args(url)
    assert args is not None
    with psycopg.connect(**args) as conn:
        return sorted(conn.execute("SELECT * FROM api_keys").fetchall())


@pytest.mark.parametrize(
    ("name", "at"),
    [
        (None, None),  # now, as keys are made
        ("shop Ünïcode ' quote", datetime(2024, 3, 31, 3, 30, tzinfo=ZoneInfo("Europe/Oslo"))),  # whole second, +02
    ],
)
def test_the_lean_row_is_the_repositorys_row(fresh_store, name, at):
    created = api_keys.new_key("ingest", name)
    if at is not None:
        created = dataclasses.replace(created, created_at=at)
    lean, full = _migrated(fresh_store("lean")), _migrated(fresh_store("full"))
    assert lean_keys.add_key_at_head(lean, created.record)
    engine = make_engine(full)
    try:
        with unit_of_work_factory(engine)() as u:
            u.api_keys.add(created.record)
        with unit_of_work_factory(engine)() as u:  # and it reads back as the record, through SQLAlchemy
            assert u.api_keys.get(created.key_id) == created.record
    finally:
        engine.dispose()
    assert _raw_rows(lean) == _raw_rows(full) and len(_raw_rows(lean)) == 1


def test_it_declines_a_store_that_is_not_at_the_head_and_writes_nothing(fresh_store):
    key = api_keys.new_key("read").record
    empty = fresh_store("empty")
    assert not lean_keys.add_key_at_head(empty, key)  # not created: the full path creates it
    if (path := lean_keys.sqlite_path(empty)) is not None:
        assert not Path(path).exists()
    old = _migrated(fresh_store("old"), "0002")  # api_keys exists since 0002, but the store is behind
    assert not lean_keys.add_key_at_head(old, key)
    assert _raw_rows(old) == []
    branched = _migrated(fresh_store("branched"))
    engine = make_engine(branched)
    try:
        with engine.begin() as conn:  # two revisions: the full path reports it, the lean one stays out
            conn.execute(text("INSERT INTO alembic_version (version_num) VALUES ('9999')"))
    finally:
        engine.dispose()
    assert not lean_keys.add_key_at_head(branched, key)
    assert _raw_rows(branched) == []


def test_a_sqlite_file_without_the_version_table_is_left_alone(tmp_path):
    path = tmp_path / "other.db"
    sqlite3.connect(path).close()
    assert not lean_keys.add_key_at_head(f"sqlite:///{path}", api_keys.new_key("read").record)
    with sqlite3.connect(path) as conn:
        assert conn.execute("SELECT name FROM sqlite_master").fetchall() == []


def test_a_lean_sqlite_connection_has_the_engines_pragmas(tmp_path):
    url = _migrated(f"sqlite:///{tmp_path / 'store.db'}")
    pragmas = ("journal_mode", "foreign_keys", "synchronous", "busy_timeout")
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            expected = [conn.exec_driver_sql(f"PRAGMA {p}").scalar() for p in pragmas]
    finally:
        engine.dispose()
    path = lean_keys.sqlite_path(url)
    assert path is not None
    conn = lean_keys.open_sqlite(path)
    try:
        assert [conn.execute(f"PRAGMA {p}").fetchone()[0] for p in pragmas] == expected
    finally:
        conn.close()


@pytest.mark.parametrize(
    "url",
    [
        "postgresql://postgres@127.0.0.1:5432/test",
        "postgres://ann:s%2Fcr%40t@db.example/shop%20two?sslmode=require&application_name=a+b",
        "postgresql+psycopg://db.example:6432/shop?connect_timeout=5",
        "postgresql+psycopg:///shop",
        "postgresql://",
        "postgresql://ann:@db/x",
    ],
)
def test_postgres_urls_are_read_as_sqlalchemy_reads_them(url):
    engine = make_engine(url)
    try:
        _, expected = engine.dialect.create_connect_args(make_url(normalise_url(url)))
    finally:
        engine.dispose()
    expected = {k: v for k, v in expected.items() if k not in ("context", "client_encoding")}
    assert lean_keys.postgres_connect_args(url) == expected


@pytest.mark.parametrize("url", ["sqlite:///store.db", "sqlite:////tmp/a b/x.db", "sqlite+pysqlite:///d%20e.db"])
def test_sqlite_urls_are_read_as_sqlalchemy_reads_them(url):
    args, _ = SQLiteDialect_pysqlite().create_connect_args(make_url(url))
    assert lean_keys.sqlite_path(url) == args[0]


@pytest.mark.parametrize(
    "url",
    [
        "sqlite://",
        "sqlite:///:memory:",
        "sqlite:///x.db?timeout=3",
        "sqlite:///file:x.db?mode=ro&uri=true",
        "sqlite+aiosqlite:///x.db",
        "postgresql://db/x?host=a,b",
        "postgresql://db/x?port=1",
        "postgresql://db/x?sslmode=a&sslmode=b",
        "postgresql://[::1]:5432/x",
        "postgresql://a@b@db/x",
        "postgresql://ann:pa/ss@db/x",
        "postgresql+psycopg2://db/x",
        "mysql://db/x",
        "store.db",
    ],
)
def test_other_urls_are_left_to_the_full_path(url):
    assert lean_keys.sqlite_path(url) is None and lean_keys.postgres_connect_args(url) is None
    assert not lean_keys.add_key_at_head(url, api_keys.new_key("read").record)
