"""Saved segments, their memberships and sizes (``segments``, ``segment_memberships``, ``segment_sizes``).

Membership changes are written in bulk, one statement per batch, because a refresh may move
hundreds of thousands of customers at once:

* PostgreSQL: the ids travel as one ``text[]`` parameter and the statement reads them with
  ``unnest`` (``INSERT ... SELECT ... ON CONFLICT DO NOTHING`` to enter; ``UPDATE ... FROM unnest(...)``
  to exit), so the server joins them as a set instead of running one statement per customer.
* SQLite: one prepared statement run for every id in one ``executemany`` call (the driver's loop,
  in C), time stamps as the UTC text ``UTCDateTime`` stores.

Entering keeps a row already stored (``ON CONFLICT DO NOTHING``) and exiting touches only open rows,
so a refresh retried at the same time stamp writes nothing twice.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict
from datetime import datetime
from typing import Any

import pyarrow as pa
from sqlalchemy import Connection, insert, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError

from aftersales.adapters.sql.repositories.events import sqlite_utc_text
from aftersales.adapters.sql.segment_tables import segment_memberships, segment_sizes, segments
from aftersales.core.errors import ConflictError
from aftersales.services.ports import SegmentRecord, SegmentSizeRecord

__all__ = ["SqlSegmentMembershipRepository", "SqlSegmentRepository", "SqlSegmentSizeRepository"]

S, M, Z = segments, segment_memberships, segment_sizes
CHUNK = 100_000  # ids per statement: bounds one statement's memory on both databases

_PG_ENTER = (
    "INSERT INTO segment_memberships (segment_id, customer_id, entered_at) "
    "SELECT %s, ids.customer_id, %s FROM unnest(%s::text[]) AS ids(customer_id) ON CONFLICT DO NOTHING"
)
_PG_EXIT = (
    "UPDATE segment_memberships AS m SET exited_at = %s FROM unnest(%s::text[]) AS ids(customer_id) "
    "WHERE m.segment_id = %s AND m.customer_id = ids.customer_id AND m.exited_at IS NULL"
)
_SQLITE_ENTER = (
    "INSERT INTO segment_memberships (segment_id, customer_id, entered_at, exited_at) VALUES (?, ?, ?, NULL) "
    "ON CONFLICT DO NOTHING"
)
# ``+exited_at``: the unary plus keeps SQLite from picking the (segment_id, exited_at) index for this
# lookup, which would scan every open row of the segment per customer (7.6 s for 1,725 exits at 100k
# profiles); the primary key's (segment_id, customer_id) prefix finds each row directly.
_SQLITE_EXIT = (
    "UPDATE segment_memberships SET exited_at = ? WHERE segment_id = ? AND customer_id = ? AND +exited_at IS NULL"
)
_CURRENT = {
    "postgresql": "SELECT customer_id FROM segment_memberships WHERE segment_id = %s AND exited_at IS NULL",
    "sqlite": "SELECT customer_id FROM segment_memberships WHERE segment_id = ? AND exited_at IS NULL",
}


def _name_taken(name: str) -> ConflictError:
    return ConflictError(f"a segment named {name!r} exists already")


class SqlSegmentRepository:
    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    def add(self, segment: SegmentRecord) -> None:
        try:
            with self._conn.begin_nested():  # a savepoint: the caller's transaction survives a conflict
                self._conn.execute(insert(S).values(**asdict(segment)))
        except IntegrityError:
            raise _name_taken(segment.name) from None

    def get(self, segment_id: str) -> SegmentRecord | None:
        row = self._conn.execute(select(S).where(S.c.segment_id == segment_id)).mappings().first()
        return SegmentRecord(**row) if row else None

    def by_name(self, name: str) -> SegmentRecord | None:
        q = select(S).where(S.c.name == name, S.c.deleted_at.is_(None))
        row = self._conn.execute(q).mappings().first()
        return SegmentRecord(**row) if row else None

    def list(self, *, after: str | None = None, limit: int | None = None) -> list[SegmentRecord]:
        q = select(S).where(S.c.deleted_at.is_(None)).order_by(S.c.segment_id)
        if after is not None:
            q = q.where(S.c.segment_id > after)
        if limit is not None:
            q = q.limit(limit)
        return [SegmentRecord(**r) for r in self._conn.execute(q).mappings()]

    def update(self, segment: SegmentRecord) -> None:
        values = {k: v for k, v in asdict(segment).items() if k != "segment_id"}
        try:
            with self._conn.begin_nested():
                self._conn.execute(update(S).where(S.c.segment_id == segment.segment_id).values(**values))
        except IntegrityError:
            raise _name_taken(segment.name) from None


def _ids(customer_ids: pa.Array | pa.ChunkedArray) -> list[str]:
    return [str(v) for v in customer_ids.to_pylist()]


class SqlSegmentMembershipRepository:
    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    def _raw(self) -> Any:
        return self._conn.connection.dbapi_connection

    def current(self, segment_id: str) -> pa.Array:
        """Read through the driver's cursor: SQLAlchemy's result rows cost 5x the fetch itself here."""
        cur = self._raw().cursor()
        try:
            cur.execute(_CURRENT[self._conn.dialect.name], (segment_id,))
            return pa.array([r[0] for r in cur.fetchall()], type=pa.string())
        finally:
            cur.close()

    def _postgres(self, statement: str, ids: list[str], params: Callable[[list[str]], tuple[Any, ...]]) -> int:
        changed = 0
        with self._raw().cursor() as cur:
            for i in range(0, len(ids), CHUNK):
                cur.execute(statement, params(ids[i : i + CHUNK]))
                changed += int(cur.rowcount)
        return changed

    def _sqlite(self, statement: str, rows: list[tuple[str, ...]]) -> int:
        raw = self._raw()
        before = raw.total_changes  # executemany's rowcount is not reliable on SQLite
        for i in range(0, len(rows), CHUNK):
            self._conn.exec_driver_sql(statement, rows[i : i + CHUNK])
        return int(raw.total_changes - before)

    def enter(self, segment_id: str, customer_ids: pa.Array, at: datetime) -> int:
        ids = _ids(customer_ids)
        if not ids:
            return 0
        if self._conn.dialect.name == "postgresql":
            return self._postgres(_PG_ENTER, ids, lambda chunk: (segment_id, at, chunk))
        when = sqlite_utc_text(at)
        return self._sqlite(_SQLITE_ENTER, [(segment_id, c, when) for c in ids])

    def exit(self, segment_id: str, customer_ids: pa.Array, at: datetime) -> int:
        ids = _ids(customer_ids)
        if not ids:
            return 0
        if self._conn.dialect.name == "postgresql":
            return self._postgres(_PG_EXIT, ids, lambda chunk: (at, chunk, segment_id))
        when = sqlite_utc_text(at)
        return self._sqlite(_SQLITE_EXIT, [(when, segment_id, c) for c in ids])

    def members(self, segment_id: str, *, after: str | None, limit: int) -> list[tuple[str, datetime]]:
        q = (
            select(M.c.customer_id, M.c.entered_at)
            .where(M.c.segment_id == segment_id, M.c.exited_at.is_(None))
            .order_by(M.c.customer_id)
            .limit(limit)
        )
        if after is not None:
            q = q.where(M.c.customer_id > after)
        return [(r.customer_id, r.entered_at) for r in self._conn.execute(q)]


class SqlSegmentSizeRepository:
    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    def add(self, size: SegmentSizeRecord) -> bool:
        ins = (pg_insert if self._conn.dialect.name == "postgresql" else sqlite_insert)(Z)
        result = self._conn.execute(ins.values(**asdict(size)).on_conflict_do_nothing())
        return bool(result.rowcount)

    def last(self, segment_id: str) -> SegmentSizeRecord | None:
        q = select(Z).where(Z.c.segment_id == segment_id).order_by(Z.c.refreshed_at.desc()).limit(1)
        row = self._conn.execute(q).mappings().first()
        return SegmentSizeRecord(**row) if row else None

    def list(self, segment_id: str, *, after: datetime | None, limit: int) -> list[SegmentSizeRecord]:
        q = select(Z).where(Z.c.segment_id == segment_id).order_by(Z.c.refreshed_at).limit(limit)
        if after is not None:
            q = q.where(Z.c.refreshed_at > after)
        return [SegmentSizeRecord(**r) for r in self._conn.execute(q).mappings()]
