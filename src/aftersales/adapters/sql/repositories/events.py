"""The batch event writer: each event id stored once, one round of statements per batch.

PostgreSQL, optimistically: the batch is copied (``COPY ... FROM STDIN``, binary) straight into
``events`` inside a savepoint. COPY is the cheapest way to hand rows to the server (no per-row bind
parameters, no array text to escape), and a batch of new ids (the usual case) is then written by that
one statement. If an id is already stored, the primary key rejects the COPY (a writer of the same id
in a concurrent transaction makes it wait for that one first; a deadlock between two overlapping
batches is handled the same way): the savepoint is rolled back and the batch takes the careful path,
copied into a session-local staging table and moved with ``INSERT INTO events SELECT ... ON CONFLICT
(event_id) DO NOTHING``, which skips the stored ids. So a retried batch costs a failed COPY more,
and a fresh one costs about half the server time of always staging (bench/bench_ingest.py). The
staging table is a temporary table created once per connection, on its first retry (``ON COMMIT
DELETE ROWS``: it is empty at the start of every transaction); a rolled-back transaction may have
taken its creation with it, so a rollback makes the connection create it again (``IF NOT EXISTS``)
on its next use.

SQLite: one prepared ``INSERT ... ON CONFLICT DO NOTHING`` run for every row in one call
(``executemany``), time stamps as the UTC text ``UTCDateTime`` stores (``sqlite_utc_text``).
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import suppress
from datetime import UTC, datetime
from typing import Any

from psycopg import errors as pg_errors
from sqlalchemy import Connection, Engine, event
from sqlalchemy.exc import SQLAlchemyError

from aftersales.services.ports import EVENT_COLUMNS, EventRow

__all__ = ["SqlEventRepository", "sqlite_utc_text", "track_staging"]

_COLS = ", ".join(EVENT_COLUMNS)
_STAGE = "aftersales_events_stage"
_PG_CREATE_STAGE = f"CREATE TEMPORARY TABLE IF NOT EXISTS {_STAGE} (LIKE events) ON COMMIT DELETE ROWS"
_PG_COPY_STAGE = f"COPY {_STAGE} ({_COLS}) FROM STDIN (FORMAT BINARY)"
_PG_COPY_EVENTS = f"COPY events ({_COLS}) FROM STDIN (FORMAT BINARY)"
_SAVEPOINT = "aftersales_events_copy"
_PG_TYPES = ("text", "text", "text", "text", "timestamptz", "text")
_PG_MOVE = f"INSERT INTO events ({_COLS}) SELECT {_COLS} FROM {_STAGE} ON CONFLICT (event_id) DO NOTHING"
_SQLITE_INSERT = f"INSERT INTO events ({_COLS}) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (event_id) DO NOTHING"


def sqlite_utc_text(when: datetime) -> str:
    """The text SQLite stores for a zone-aware time stamp (``UTCDateTime``'s form, always with the
    microseconds, so that text order is time order).

    >>> from datetime import timedelta, timezone
    >>> sqlite_utc_text(datetime(2024, 3, 1, 10, tzinfo=timezone(timedelta(hours=1))))
    '2024-03-01 09:00:00.000000'
    """
    if when.tzinfo is None or when.utcoffset() is None:
        raise ValueError("time stamp has no time zone")
    return f"{when.astimezone(UTC):%Y-%m-%d %H:%M:%S.%f}"


def _copy(cur: Any, statement: str, rows: Sequence[EventRow]) -> None:
    with cur.copy(statement) as copy:
        copy.set_types(_PG_TYPES)
        for row in rows:
            copy.write_row(row)


def _forget_staging(conn: Connection) -> None:
    """After a rollback the staging table may be gone (if this transaction created it)."""
    with suppress(SQLAlchemyError):  # an invalidated connection: its DBAPI connection and info are discarded
        conn.connection.info.pop(_STAGE, None)


def track_staging(engine: Engine) -> None:
    """Make ``engine``'s connections forget their staging table on rollback (once per engine)."""
    if not event.contains(engine, "rollback", _forget_staging):
        event.listen(engine, "rollback", _forget_staging)


class SqlEventRepository:
    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    def insert_new(self, rows: Sequence[EventRow]) -> int:
        if self._conn.dialect.name == "postgresql":
            return self._insert_postgres(rows)
        return self._insert_sqlite(rows)

    def _insert_postgres(self, rows: Sequence[EventRow]) -> int:
        fairy = self._conn.connection
        raw: Any = fairy.dbapi_connection
        with raw.cursor() as cur:
            cur.execute(f"SAVEPOINT {_SAVEPOINT}")
            try:
                _copy(cur, _PG_COPY_EVENTS, rows)
            except (pg_errors.UniqueViolation, pg_errors.DeadlockDetected):
                cur.execute(f"ROLLBACK TO SAVEPOINT {_SAVEPOINT}")
            else:  # no RELEASE: the commit ends the savepoint too, and one round trip less per batch
                return len(rows)
            if _STAGE not in fairy.info:
                cur.execute(_PG_CREATE_STAGE)
                fairy.info[_STAGE] = True
            _copy(cur, _PG_COPY_STAGE, rows)
            cur.execute(_PG_MOVE)
            moved = int(cur.rowcount)
            cur.execute(f"TRUNCATE {_STAGE}")  # a second batch in this transaction starts from an empty stage
            return moved

    def _insert_sqlite(self, rows: Sequence[EventRow]) -> int:
        params = [(r[0], r[1], r[2], r[3], sqlite_utc_text(r[4]), r[5]) for r in rows]
        raw: Any = self._conn.connection.dbapi_connection
        before = raw.total_changes  # executemany's rowcount is not reliable here
        self._conn.exec_driver_sql(_SQLITE_INSERT, params)
        return int(raw.total_changes - before)
