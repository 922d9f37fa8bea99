"""Store one API key with the plain database driver, when the store is already at the head.

``aftersales keys create`` is run by hand and by provisioning scripts; through SQLAlchemy and the unit
of work it started in about 1 s of CPU (issue 11). This writer needs only the standard library's
``sqlite3`` (and ``psycopg`` for PostgreSQL, imported only then) and writes the row that
``SqlApiKeyRepository.add`` writes (tests/integration/store/test_lean_keys.py compares them byte for
byte on both databases):

* SQLite: the engine's pragmas (:data:`SQLITE_PRAGMAS`, as ``adapters/sql/engine.py`` sets them) and
  the time stamp as UTC text ``YYYY-MM-DD HH:MM:SS.ffffff``, as ``adapters/sql/types.UTCDateTime``
  stores it; PostgreSQL: the same keyword arguments to ``psycopg.connect`` that SQLAlchemy derives
  from the URL, and the zone-aware time stamp for ``timestamptz``.
* It never creates or migrates a store, and declines (returns False, having written nothing) whenever
  the full path might act differently: a URL outside the plain shapes below, a SQLite file that does
  not exist (the full path creates it), a store whose ``alembic_version`` is missing, holds another
  revision or several (the full path migrates it, or reports the error), or any driver error before
  the commit (the transaction is rolled back). The caller then takes the full path, which migrates
  and reports errors in its usual words. (One case cannot be told: a PostgreSQL connection lost
  during the COMMIT itself. Then a row may remain for a key that was never shown, which nobody holds.)

Plain shapes: ``sqlite:///PATH`` (or ``sqlite+pysqlite``) without a query; ``postgresql://``,
``postgres://`` or ``postgresql+psycopg://`` with ``[user[:password]@]host[:port][/dbname][?k=v&...]``
where no part holds ``@ / ? # [ ] ,`` unencoded and the query names neither ``host`` nor ``port``
(those are SQLAlchemy's multi-host forms). Percent-escapes are decoded as SQLAlchemy decodes them.

>>> postgres_connect_args("postgresql://ann:p%40ss@db.example:5433/shop?sslmode=require")
{'host': 'db.example', 'dbname': 'shop', 'user': 'ann', 'password': 'p@ss', 'port': 5433, 'sslmode': 'require'}
>>> postgres_connect_args("postgresql://db/shop?host=a,b") is None, sqlite_path("sqlite://") is None
(True, True)
"""

from __future__ import annotations

import os
import re
import sqlite3
from datetime import UTC
from typing import Any
from urllib.parse import parse_qsl, quote, unquote

from aftersales.adapters.sql.revision import VERSION_TABLE, known_head
from aftersales.services.ports import ApiKeyRecord

__all__ = ["SQLITE_PRAGMAS", "add_key_at_head", "open_sqlite", "postgres_connect_args", "sqlite_path"]

#: The pragmas every SQLite connection of the store gets, in this order (adapters/sql/engine.py).
SQLITE_PRAGMAS = ("journal_mode=WAL", "foreign_keys=ON", "synchronous=NORMAL", "busy_timeout=30000")

_COLUMNS = ("key_id", "name", "scope", "secret_hash", "created_at", "revoked_at")
_SQLITE_PREFIXES = ("sqlite:///", "sqlite+pysqlite:///")
_PG_URL = re.compile(
    r"(?:postgresql|postgres|postgresql\+psycopg)://"
    r"(?:(?P<user>[^:/?#@\[\],]*)(?::(?P<password>[^/?#@\[\],]*))?@)?"
    r"(?P<host>[^:/?#@\[\],]*)(?::(?P<port>\d+))?"
    r"(?:/(?P<dbname>[^/?#@\[\],]*))?"
    r"(?:\?(?P<query>[^#]*))?"
)


def sqlite_path(url: str) -> str | None:
    """The absolute file path of a plain ``sqlite:///PATH`` URL (as SQLAlchemy's pysqlite dialect
    resolves it: percent-decoded, relative to the working directory), else None."""
    prefix = next((p for p in _SQLITE_PREFIXES if url.startswith(p)), None)
    if prefix is None:
        return None
    database = url[len(prefix) :]
    if not database or "?" in database or database == ":memory:" or database.startswith("file:"):
        return None
    return os.path.abspath(unquote(database))


def postgres_connect_args(url: str) -> dict[str, Any] | None:
    """``psycopg.connect`` keyword arguments for a plain PostgreSQL URL, the ones SQLAlchemy's psycopg
    dialect passes (empty parts left out, the query's parameters added), else None."""
    m = _PG_URL.fullmatch(url)
    if m is None:
        return None
    parts = m.groupdict()
    args: dict[str, Any] = {}
    if parts["host"]:
        args["host"] = parts["host"]
    for name in ("dbname", "user", "password"):
        if parts[name]:
            args[name] = unquote(parts[name])
    if parts["port"]:
        args["port"] = int(parts["port"])
    query = parse_qsl(parts["query"] or "")
    names = [k for k, _ in query]
    if len(set(names)) != len(names) or {"host", "port"} & set(names):
        return None
    args.update(query)
    return args


def open_sqlite(path: str) -> sqlite3.Connection:
    """A connection to the existing SQLite store at ``path`` (never creating one) with the store's pragmas."""
    conn = sqlite3.connect(f"file:{quote(path)}?mode=rw", uri=True)
    for pragma in SQLITE_PRAGMAS:
        conn.execute(f"PRAGMA {pragma}")
    return conn


def add_key_at_head(url: str, key: ApiKeyRecord) -> bool:
    """Store ``key`` in the store at ``url`` if it is at the head revision; False, with nothing
    written, when this writer declines (see the module's docstring)."""
    path = sqlite_path(url)
    if path is not None:
        return _add_sqlite(path, key)
    args = postgres_connect_args(url)
    if args is not None:
        return _add_postgres(args, key)
    return False


def _insert(placeholder: str) -> str:
    return f"INSERT INTO api_keys ({', '.join(_COLUMNS)}) VALUES ({', '.join([placeholder] * len(_COLUMNS))})"


def _at_head(rows: list[tuple[Any, ...]]) -> bool:
    return rows == [(known_head(),)]


def _add_sqlite(path: str, key: ApiKeyRecord) -> bool:
    # As UTCDateTime binds it for SQLite: UTC, zone dropped, always six digits of microseconds.
    created = key.created_at.astimezone(UTC).replace(tzinfo=None).isoformat(sep=" ", timespec="microseconds")
    try:
        conn = open_sqlite(path)
    except sqlite3.Error:
        return False
    try:
        if not _at_head(conn.execute(f"SELECT version_num FROM {VERSION_TABLE}").fetchall()):
            return False
        conn.execute(_insert("?"), (key.key_id, key.name, key.scope, key.secret_hash, created, None))
        conn.commit()
    except sqlite3.Error:
        conn.rollback()
        return False
    finally:
        conn.close()
    return True


def _add_postgres(args: dict[str, Any], key: ApiKeyRecord) -> bool:
    import psycopg  # ~0.25 s to import: only for a PostgreSQL store

    values = (key.key_id, key.name, key.scope, key.secret_hash, key.created_at.astimezone(UTC), None)
    try:
        with psycopg.connect(**args) as conn:  # commits when the block ends, rolls back on an error
            if not _at_head(conn.execute(f"SELECT version_num FROM {VERSION_TABLE}").fetchall()):
                return False
            conn.execute(_insert("%s"), values)
    except psycopg.Error:
        return False
    return True
