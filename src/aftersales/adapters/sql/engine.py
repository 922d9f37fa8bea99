"""Engines for the store: SQLite (WAL, foreign keys on) or PostgreSQL (psycopg 3).

A pooled PostgreSQL connection can die while it waits in the pool (a server restart, a terminated
backend). Rather than SQLAlchemy's ``pool_pre_ping`` (a round trip to the server on every checkout,
which is two of the ~8 round trips of a ``POST /v1/events`` request), the pool checks the connection's
socket without a round trip: an idle connection has nothing to read, so a readable socket means the
server has said goodbye ("terminating connection ..." or end of file). Such a connection is discarded
and the pool connects anew (``DisconnectionError``; SQLAlchemy retries up to three times). A
connection cut without a word (a network partition) is found on its first use instead, which fails
that request and makes SQLAlchemy invalidate the pool.
"""

from __future__ import annotations

import select
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DisconnectionError

from aftersales.adapters.sql.lean_keys import SQLITE_PRAGMAS
from aftersales.core.errors import UnusableInputError

__all__ = ["make_engine", "normalise_url"]


def normalise_url(url: str) -> str:
    """Accept ``postgresql://`` and ``postgres://`` as the psycopg 3 driver; check the scheme."""
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://") :]
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://") :]
    backend = make_url(url).get_backend_name()
    if backend not in ("sqlite", "postgresql"):
        raise UnusableInputError(f"unsupported store URL scheme {backend!r}: use sqlite:///FILE or postgresql://...")
    return url


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    cur = dbapi_conn.cursor()
    for pragma in SQLITE_PRAGMAS:  # one list, shared with the lean key writer's plain sqlite3 connections
        cur.execute(f"PRAGMA {pragma}")
    cur.close()


def make_engine(url: str, **kwargs: Any) -> Engine:
    """A SQLAlchemy engine for the store at ``url``; SQLite connections get WAL and foreign keys."""
    url = normalise_url(url)
    u = make_url(url)
    if u.get_backend_name() == "sqlite":
        if u.database and u.database != ":memory:":
            parent = Path(u.database).expanduser().resolve().parent
            if not parent.exists():
                raise UnusableInputError(f"cannot create the store {u.database}: folder {parent} does not exist")
        engine = create_engine(url, **kwargs)
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    engine = create_engine(url, **kwargs)
    event.listen(engine, "checkout", _discard_if_closed_by_server)
    return engine


def _discard_if_closed_by_server(dbapi_conn: Any, _record: Any, _proxy: Any) -> None:
    """Pool checkout: raise :class:`DisconnectionError` (the pool reconnects) when the idle connection
    is broken or its socket has something to read (see the module's docstring)."""
    if dbapi_conn.closed or dbapi_conn.broken:
        raise DisconnectionError("the connection is closed")
    try:
        readable, _, _ = select.select([dbapi_conn.fileno()], [], [], 0)
    except (OSError, ValueError) as exc:
        raise DisconnectionError(f"the connection's socket is unusable: {exc}") from exc
    if readable:
        raise DisconnectionError("the server closed the connection while it was idle in the pool")
