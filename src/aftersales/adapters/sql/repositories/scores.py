"""Stored CLV scores (``clv_scores``): bulk upsert, tiers of the previous run, reads and pages.

A refresh upserts a score for every customer with orders (a million rows at 1M customers), so the
upsert bypasses SQLAlchemy's per-row work (``asdict`` and multi-row statement compilation, 60 s of a
1M-customer refresh):

* SQLite: one prepared ``INSERT ... ON CONFLICT (customer_id) DO UPDATE`` run by the driver's
  ``executemany`` over plain tuples (dates and time stamps as the text the column types store;
  each distinct value converted once);
* PostgreSQL: ``COPY`` into a temporary table, then one ``INSERT ... SELECT ... ON CONFLICT DO
  UPDATE`` from it, then the temporary table is dropped.

The previous run's tiers are read through the driver's cursor as well.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date, datetime
from operator import attrgetter
from typing import Any

from sqlalchemy import Connection, delete, select

from aftersales.adapters.sql.repositories.events import sqlite_utc_text
from aftersales.adapters.sql.service_tables import clv_scores
from aftersales.services.ports import ScoreRecord

__all__ = ["SqlScoreRepository"]

C = clv_scores
CHUNK = 100_000  # rows per executemany call: bounds the tuples held at once
_NAMES = [c.name for c in C.columns]
_COLS = ", ".join(_NAMES)
_UPDATE = ", ".join(f"{n} = excluded.{n}" for n in _NAMES if n != "customer_id")
_SQLITE_UPSERT = (
    f"INSERT INTO {C.name} ({_COLS}) VALUES ({', '.join('?' for _ in _NAMES)}) "
    f"ON CONFLICT (customer_id) DO UPDATE SET {_UPDATE}"
)
_PG_STAGE = "_clv_scores_in"


def _memo(convert: Callable[[Any], str]) -> Callable[[Any], str]:
    """``convert`` computed once per distinct value (a run's rows share one date and one time stamp)."""
    seen: dict[Any, str] = {}

    def cached(value: Any) -> str:
        if value not in seen:
            seen[value] = convert(value)
        return seen[value]

    return cached


def _sqlite_rows(scores: Sequence[ScoreRecord]) -> list[tuple[Any, ...]]:
    """Each record's values in column order, the day and the time stamp as the text SQLite stores."""
    values = attrgetter(*_NAMES)
    day, stamp = _memo(date.isoformat), _memo(sqlite_utc_text)
    i_day, i_stamp = _NAMES.index("calibration_end"), _NAMES.index("computed_at")
    rows = []
    for s in scores:
        row = list(values(s))
        row[i_day], row[i_stamp] = day(row[i_day]), stamp(row[i_stamp])
        rows.append(tuple(row))
    return rows


class SqlScoreRepository:
    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    def _raw(self) -> Any:
        return self._conn.connection.dbapi_connection

    def tiers(self) -> dict[str, str]:
        cur = self._raw().cursor()
        try:
            cur.execute(f"SELECT customer_id, risk_tier FROM {C.name}")
            return dict(cur.fetchall())
        finally:
            cur.close()

    def upsert(self, scores: Sequence[ScoreRecord]) -> None:
        """Insert or replace every row's score, by customer (see the module docstring)."""
        if not scores:
            return
        if self._conn.dialect.name == "postgresql":
            self._postgres_upsert(scores)
            return
        for i in range(0, len(scores), CHUNK):
            self._conn.exec_driver_sql(_SQLITE_UPSERT, _sqlite_rows(scores[i : i + CHUNK]))

    def _postgres_upsert(self, scores: Sequence[ScoreRecord]) -> None:
        with self._raw().cursor() as cur:
            cur.execute(f"CREATE TEMPORARY TABLE {_PG_STAGE} (LIKE {C.name} INCLUDING DEFAULTS)")
            with cur.copy(f"COPY {_PG_STAGE} ({_COLS}) FROM STDIN") as copy:
                values = attrgetter(*_NAMES)
                for s in scores:
                    copy.write_row(values(s))
            cur.execute(
                f"INSERT INTO {C.name} ({_COLS}) SELECT {_COLS} FROM {_PG_STAGE} "
                f"ON CONFLICT (customer_id) DO UPDATE SET {_UPDATE}"
            )
            cur.execute(f"DROP TABLE {_PG_STAGE}")

    def delete_not_computed_at(self, computed_at: datetime) -> int:
        return int(self._conn.execute(delete(C).where(C.c.computed_at != computed_at)).rowcount)

    def get(self, customer_id: str) -> ScoreRecord | None:
        row = self._conn.execute(select(C).where(C.c.customer_id == customer_id)).mappings().first()
        return ScoreRecord(**row) if row else None

    def list(self, *, risk_tier: str | None, after: str | None, limit: int) -> list[ScoreRecord]:
        q = select(C).order_by(C.c.customer_id).limit(limit)
        if risk_tier is not None:
            q = q.where(C.c.risk_tier == risk_tier)
        if after is not None:
            q = q.where(C.c.customer_id > after)
        return [ScoreRecord(**r) for r in self._conn.execute(q).mappings()]
