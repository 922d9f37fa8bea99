"""A segment's members entering a journey at once (``SqlEnrollmentRepository.add_bulk``).

PostgreSQL: the rows are copied (``COPY ... FROM STDIN``, binary) into a temporary table, the
customers the journey's re-entry rule keeps out are deleted from it in one join, and the rest are
moved by one ``INSERT ... SELECT ... ON CONFLICT DO NOTHING`` per arm; a start of 10,000 rows or more
refreshes the table's planner statistics. SQLite: one prepared ``INSERT ... SELECT ... WHERE NOT
EXISTS`` runs for every row in one ``executemany`` call.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, bindparam, text

from aftersales.adapters.sql.repositories.events import sqlite_utc_text
from aftersales.adapters.sql.types import UTCDateTime
from aftersales.services.ports_enrollments import BulkEnrollment

__all__ = ["add_bulk", "as_json"]

_STAGE = "aftersales_enrollment_stage"
_BULK_COLUMNS = (
    "enrollment_id, journey_id, customer_id, trigger_key, trigger_json, version, arm, status, step_id, wake_at, "
    "step_started_at, variants_json, entered_at"
)
# Customers the re-entry rule keeps out leave the staging table first, in a join of their own: as a
# NOT EXISTS inside the INSERT, the planner may probe the table being filled once per staged row
# (a 1M-row start ran for minutes after a TRUNCATE left stale statistics, instead of 24 s).
_PG_SKIP = f"""
DELETE FROM {_STAGE} AS s USING journey_enrollments AS e
WHERE e.journey_id = :journey_id AND e.customer_id = s.customer_id
  AND (e.entered_at > :since OR e.status = 'active')
"""
_PG_BULK = f"""
INSERT INTO journey_enrollments ({_BULK_COLUMNS})
SELECT s.enrollment_id, :journey_id, s.customer_id, s.trigger_key, :trigger_json, :version, :arm, :status,
       :step_id, :wake_at, :step_started_at, NULL, :entered_at
FROM {_STAGE} AS s
WHERE s.held = :held
ON CONFLICT DO NOTHING
"""
_SQLITE_BULK = f"""
INSERT INTO journey_enrollments ({_BULK_COLUMNS})
SELECT ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, NULL, ?
WHERE NOT EXISTS (
    SELECT 1 FROM journey_enrollments AS e
    WHERE e.journey_id = ? AND e.customer_id = ? AND (e.entered_at > ? OR e.status = 'active'))
ON CONFLICT DO NOTHING
"""
_FAR_FUTURE = datetime(9999, 12, 31, tzinfo=UTC)
_ANALYZE_AFTER = 10_000  # rows written by one bulk start before PostgreSQL's statistics are refreshed


def as_json(value: Mapping[str, Any] | None) -> str | None:
    return json.dumps(dict(value), sort_keys=True, separators=(",", ":"), ensure_ascii=False) if value else None


def add_bulk(conn: Connection, batch: BulkEnrollment, skip_entered_since: datetime | None) -> tuple[int, int]:
    """Insert ``batch`` (see the module); how many new (journey-arm, held-out) rows."""
    if not batch.enrollment_ids:
        return 0, 0
    # With no re-entry limit, "entered after" a time later than any entry filters nobody.
    since = skip_entered_since if skip_entered_since is not None else _FAR_FUTURE
    if conn.dialect.name == "postgresql":
        return _postgres(conn, batch, since)
    return _sqlite(conn, batch, since)


def _postgres(conn: Connection, b: BulkEnrollment, since: datetime) -> tuple[int, int]:
    raw: Any = conn.connection.dbapi_connection
    with raw.cursor() as cur:
        cur.execute(
            f"CREATE TEMPORARY TABLE IF NOT EXISTS {_STAGE} "
            "(enrollment_id text, customer_id text, trigger_key text, held boolean) ON COMMIT DROP"
        )
        with cur.copy(
            f"COPY {_STAGE} (enrollment_id, customer_id, trigger_key, held) FROM STDIN (FORMAT BINARY)"
        ) as cp:
            cp.set_types(("text", "text", "text", "bool"))
            for row in zip(b.enrollment_ids, b.customer_ids, b.trigger_keys, b.held_out, strict=True):
                cp.write_row(row)
    since_param = bindparam("since", type_=UTCDateTime())
    conn.execute(text(_PG_SKIP).bindparams(since_param), {"journey_id": b.journey_id, "since": since})
    conn.exec_driver_sql(f"ANALYZE {_STAGE}")
    stmt = text(_PG_BULK).bindparams(
        bindparam("wake_at", type_=UTCDateTime()),
        bindparam("step_started_at", type_=UTCDateTime()),
        bindparam("entered_at", type_=UTCDateTime()),
    )
    counts = []
    for held in (False, True):
        params = _params(b, held) | {"held": held}
        counts.append(int(conn.execute(stmt, params).rowcount))
    conn.exec_driver_sql(f"DROP TABLE IF EXISTS {_STAGE}")
    if sum(counts) >= _ANALYZE_AFTER:  # the planner's statistics of the grown table (issue 11)
        conn.exec_driver_sql("ANALYZE journey_enrollments")
    return counts[0], counts[1]


def _params(b: BulkEnrollment, held: bool) -> dict[str, Any]:
    return {
        "journey_id": b.journey_id,
        "trigger_json": as_json(b.trigger),
        "version": b.version,
        "arm": "holdout" if held else "journey",
        "status": "held_out" if held else "active",
        "step_id": None if held else b.first_step,
        "wake_at": None if held else b.wake_at,
        "step_started_at": None,  # the first step has not begun (core.journeys.start)
        "entered_at": b.entered_at,
    }


def _sqlite(conn: Connection, b: BulkEnrollment, since: datetime) -> tuple[int, int]:
    raw: Any = conn.connection.dbapi_connection
    entered, lower = sqlite_utc_text(b.entered_at), sqlite_utc_text(since)
    wake = sqlite_utc_text(b.wake_at) if b.wake_at is not None else None
    trig = as_json(b.trigger)
    counts = []
    for held in (False, True):
        p = _params(b, held)
        head = (b.journey_id,)
        rest = (trig, b.version, p["arm"], p["status"], p["step_id"], None if held else wake, None, entered)
        params = [
            (eid, *head, cid, key, *rest, b.journey_id, cid, lower)
            for eid, cid, key, h in zip(b.enrollment_ids, b.customer_ids, b.trigger_keys, b.held_out, strict=True)
            if h == held
        ]
        before = raw.total_changes
        if params:
            conn.exec_driver_sql(_SQLITE_BULK, params)
        counts.append(int(raw.total_changes - before))
    return counts[0], counts[1]
