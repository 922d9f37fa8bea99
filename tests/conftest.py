"""Shared fixtures: a store on every database (SQLite file, PostgreSQL) for the repository suite.

PostgreSQL: ``AFTERSALES_TEST_POSTGRES_URL`` or ``postgresql+psycopg://postgres@127.0.0.1:5432/test``.
Without a server the PostgreSQL cases are skipped with the reason, except under ``CI=true``, where
they fail.

Databases created by tests are named per run: ``<name>_<run id>_<worker>``, where the run id is drawn
once per pytest session on the controller and handed to every xdist worker, so two test runs on one
server (two checkouts, a developer and CI) never drop each other's databases, and the workers of one
run never share one. Each process drops the databases it created when its session ends.
"""

from __future__ import annotations

import os
import secrets
import sys
from collections.abc import Callable, Iterator

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.engine import make_url

from aftersales.adapters.sql.engine import make_engine
from aftersales.adapters.sql.migrate import upgrade
from aftersales.adapters.sql.tables import metadata

PG_URL = os.environ.get("AFTERSALES_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


_RUN: dict[str, str] = {}  # "id": this session's run id (see pytest_configure)
_CREATED: set[str] = set()  # databases this process created, dropped at the end of its session


def pytest_configure(config: pytest.Config) -> None:
    """Draw the run id on the controller (or a run without xdist); a worker takes the controller's."""
    workerinput = getattr(config, "workerinput", None)
    _RUN["id"] = workerinput["aftersales_run_id"] if workerinput else secrets.token_hex(4)


@pytest.hookimpl(optionalhook=True)
def pytest_configure_node(node: object) -> None:
    """xdist, on the controller, for each worker it starts: pass the run id on."""
    node.workerinput["aftersales_run_id"] = _RUN["id"]  # type: ignore[attr-defined]


def run_id() -> str:
    """This test session's id, the same on the controller and every xdist worker."""
    return _RUN["id"]


def _worker() -> str:
    return os.environ.get("PYTEST_XDIST_WORKER", "main")


def run_database_name(name: str) -> str:
    """``name`` made unique to this run and worker, e.g. ``aftersales_api_0a1b2c3d_gw1`` (PostgreSQL
    keeps only 63 bytes of a name, so a longer one is refused rather than cut to a shared prefix)."""
    full = f"{name}_{run_id()}_{_worker()}"
    if len(full.encode()) > 63:
        raise ValueError(f"test database name too long for PostgreSQL: {full}")
    return full


def pytest_sessionfinish(session: pytest.Session) -> None:
    """Drop the databases this process created (``WITH (FORCE)``: engines a test left open are cut)."""
    if not _CREATED:
        return
    admin = _pg_admin()
    try:
        with admin.connect() as conn:
            for name in sorted(_CREATED):
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        _CREATED.clear()
    except Exception as exc:  # noqa: BLE001 - the tests ran; say what is left behind instead of failing
        print(f"test databases not dropped ({type(exc).__name__}): {sorted(_CREATED)}", file=sys.stderr)
    finally:
        admin.dispose()


def _pg_admin() -> Engine:
    return make_engine(str(make_url(PG_URL).set(database="postgres")), isolation_level="AUTOCOMMIT")


def _no_server(exc: Exception) -> None:
    """The one rule: without a server PostgreSQL tests skip with the reason, but fail under CI."""
    if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
        pytest.fail(f"PostgreSQL is required under CI but did not answer at {PG_URL}: {exc}")
    pytest.skip(f"no PostgreSQL at {PG_URL} ({type(exc).__name__}); set AFTERSALES_TEST_POSTGRES_URL")


def postgres_database(name: str) -> str:
    """URL of a fresh, empty PostgreSQL database for ``name``, named for this run and worker
    (:func:`run_database_name`; re-created if it exists, dropped at the end of the session); skips
    without a server."""
    name = run_database_name(name)
    admin = _pg_admin()
    try:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            _CREATED.add(name)
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as exc:  # noqa: BLE001 - any connection failure means "no server here"
        _no_server(exc)
    finally:
        admin.dispose()
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


def drop_postgres_database(url: str) -> None:
    """Drop the test database at ``url`` now (``WITH (FORCE)``), instead of at the end of the session."""
    name = make_url(url).database
    admin = _pg_admin()
    try:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        _CREATED.discard(name or "")
    finally:
        admin.dispose()


@pytest.fixture(scope="session")
def drop_database() -> Callable[[str], None]:
    """``drop(url)``: drop a PostgreSQL test database made by ``fresh_postgres_database`` right away."""
    return drop_postgres_database


@pytest.fixture(scope="session")
def fresh_postgres_database() -> Callable[[str], str]:
    """``fresh(name) -> URL`` of an empty PostgreSQL database ``name`` (re-created; skips without a server)."""
    return postgres_database


@pytest.fixture(scope="session")
def _pg_store_url() -> str:
    url = postgres_database("aftersales_store")
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
