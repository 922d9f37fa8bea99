"""The PostgreSQL pool's liveness check: a connection the server closed while it sat in the pool is
replaced on checkout, without a round trip for healthy ones."""

from __future__ import annotations

import time

import pytest
from sqlalchemy import text

from aftersales.adapters.sql.engine import make_engine

pytestmark = pytest.mark.postgres


def _backend_pid(engine) -> int:
    with engine.connect() as conn:
        return conn.execute(text("SELECT pg_backend_pid()")).scalar_one()


def test_a_healthy_pooled_connection_is_reused(postgres_url: str) -> None:
    engine = make_engine(postgres_url, pool_size=1, max_overflow=0)
    try:
        assert _backend_pid(engine) == _backend_pid(engine) == _backend_pid(engine)
    finally:
        engine.dispose()


def test_a_connection_terminated_while_idle_in_the_pool_is_replaced(postgres_url: str) -> None:
    engine = make_engine(postgres_url, pool_size=1, max_overflow=0)
    admin = make_engine(postgres_url, isolation_level="AUTOCOMMIT")
    try:
        first = _backend_pid(engine)
        with admin.connect() as conn:  # what a server restart does to every backend
            assert conn.execute(text("SELECT pg_terminate_backend(:p)"), {"p": first}).scalar_one()
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            with admin.connect() as conn:
                gone = text("SELECT count(*) = 0 FROM pg_stat_activity WHERE pid = :p")
                if conn.execute(gone, {"p": first}).scalar():
                    break
            time.sleep(0.05)
        second = _backend_pid(engine)  # no error: the dead connection was discarded at checkout
        assert second != first
    finally:
        engine.dispose()
        admin.dispose()
