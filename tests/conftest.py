"""Shared fixtures: a store on every database (SQLite file, PostgreSQL) for the repository suite.

PostgreSQL: ``AFTERSALES_TEST_POSTGRES_URL`` or ``postgresql+psycopg://postgres@127.0.0.1:5432/test``.
Each xdist worker gets its own database (created next to the test database). Without a server the
PostgreSQL cases are skipped with the reason, except under ``CI=true``, where they fail.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.engine import make_url

from aftersales.adapters.sql.engine import make_engine
from aftersales.adapters.sql.migrate import upgrade
from aftersales.adapters.sql.tables import metadata

PG_URL = os.environ.get("AFTERSALES_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


def _pg_admin() -> Engine:
    return make_engine(str(make_url(PG_URL).set(database="postgres")), isolation_level="AUTOCOMMIT")


def _no_server(exc: Exception) -> None:
    """The one rule: without a server PostgreSQL tests skip with the reason, but fail under CI."""
    if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
        pytest.fail(f"PostgreSQL is required under CI but did not answer at {PG_URL}: {exc}")
    pytest.skip(f"no PostgreSQL at {PG_URL} ({type(exc).__name__}); set AFTERSALES_TEST_POSTGRES_URL")


def postgres_database(name: str) -> str:
    """URL of a fresh, empty PostgreSQL database ``name`` (dropped and re-created); skips without a server."""
    try:
        with _pg_admin().connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as exc:  # noqa: BLE001 - any connection failure means "no server here"
        _no_server(exc)
    return str(make_url(PG_URL).set(database=name))


@pytest.fixture(scope="session")
def postgres_url() -> str:
    """URL of the PostgreSQL test database (skips without a server; fails under CI)."""
    name = make_url(PG_URL).database or "test"
    try:
        with make_engine(PG_URL).connect() as conn:
            conn.execute(text("SELECT 1"))
    except Exception as exc:  # noqa: BLE001 - any connection failure means "no server here"
        _no_server(exc)
    return str(make_url(PG_URL).set(database=name))


@pytest.fixture(scope="session")
def fresh_postgres_database() -> Callable[[str], str]:
    """``fresh(name) -> URL`` of an empty PostgreSQL database ``name`` (re-created; skips without a server)."""
    return postgres_database


def _worker() -> str:
    return os.environ.get("PYTEST_XDIST_WORKER", "main")


@pytest.fixture(scope="session")
def _pg_store_url() -> str:
    url = postgres_database(f"aftersales_store_{_worker()}")
    upgrade(make_engine(url))
    return url


def _truncate(engine: Engine) -> None:
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            names = ", ".join(f'"{t.name}"' for t in metadata.sorted_tables)
            conn.execute(text(f"TRUNCATE {names} CASCADE"))
        else:
            for t in reversed(metadata.sorted_tables):
                conn.execute(t.delete())


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def store_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """An initialised, empty store URL on each database."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('store') / 'aftersales.db'}"
        upgrade(make_engine(url))
        yield url
        return
    url = request.getfixturevalue("_pg_store_url")
    _truncate(make_engine(url))
    yield url
