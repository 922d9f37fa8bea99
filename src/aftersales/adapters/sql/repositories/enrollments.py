"""The store side of the journey runtime (issue 15; tables in adapters/sql/journey_tables.py).

**Entering.** Trigger enrollments are inserted with ``ON CONFLICT DO NOTHING`` in one
``executemany`` (SQLAlchemy batches the rows into multi-row ``INSERT ... RETURNING``), so a trigger
scan repeated after a crash enrolls nobody twice. A segment's members enter at once through
:meth:`SqlEnrollmentRepository.add_bulk` (``enrollment_bulk.py``: COPY into a staging table on
PostgreSQL).

**Claiming.** :meth:`SqlEnrollmentRepository.claim_due` is one statement. PostgreSQL: ``WITH due AS
MATERIALIZED (SELECT ... due, lease free ORDER BY wake_at LIMIT n FOR UPDATE SKIP LOCKED) UPDATE
... SET lease FROM due RETURNING ...``: rows another worker is claiming are skipped, not waited
for (as an ``IN`` subquery the locking LIMIT query may run again inside the join and lease more than
``n`` rows). SQLite: ``UPDATE ... WHERE enrollment_id IN (SELECT ...) AND lease free RETURNING
...`` under the database's write lock, whose conditions (due, lease free) keep two claims apart.

**Writing.** The write of a batch starts with :meth:`SqlEnrollmentRepository.hold`, which locks the
rows the token still leases (``SELECT ... FOR UPDATE`` on PostgreSQL, no new row version; on SQLite
an update of their lease, which takes the write lock), so nobody can re-claim them until the
transaction ends. Positions are then written by one statement on PostgreSQL (``UPDATE ... FROM
unnest(arrays)``, the token a joined column so that the planner looks each row up by its key) and
one ``executemany`` on SQLite; outbox rows are inserted with ``ON CONFLICT DO NOTHING``. Lists of
ids travel as one array parameter on PostgreSQL (``enrollment_reads.py``).
:meth:`SqlEnrollmentRepository.live_journeys` reads the journeys' status with ``FOR KEY SHARE`` on
PostgreSQL: a pause or an edit (which lock the journey's row ``FOR UPDATE``) waits until the batch
is written, and a batch written after a pause sees it.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, bindparam, case, func, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from aftersales.adapters.sql.journey_tables import journey_enrollments, journey_messages, journeys
from aftersales.adapters.sql.repositories.enrollment_bulk import add_bulk, as_json
from aftersales.adapters.sql.repositories.enrollment_reads import EnrollmentReads
from aftersales.adapters.sql.types import UTCDateTime
from aftersales.services.ports_enrollments import (
    BulkEnrollment,
    EnrollmentRecord,
    NewMessage,
    PositionUpdate,
)

__all__ = ["SqlEnrollmentRepository"]

E, M, J = journey_enrollments, journey_messages, journeys
_RECORD = [c for c in E.c if c.name not in ("lease_token", "lease_until")]
# One statement per batch on PostgreSQL: the new positions travel as arrays and are joined in the
# server (the same rows an executemany would update, in one round trip and one statement's work).
_PG_POSITIONS = """
UPDATE journey_enrollments AS e SET status = v.status, step_id = v.step_id, wake_at = v.wake_at,
       step_started_at = v.started, variants_json = v.variants, exited_at = v.exited, exit_reason = v.reason,
       lease_token = NULL, lease_until = NULL
FROM unnest(%s::text[], %s::text[], %s::text[], %s::timestamptz[], %s::timestamptz[], %s::text[],
            %s::timestamptz[], %s::text[], %s::text[])
     AS v(id, status, step_id, wake_at, started, variants, exited, reason, token)
WHERE e.enrollment_id = v.id AND e.lease_token = v.token
"""


# The token is a column of the joined rows, not a constant: compared with a constant, the planner
# takes ``lease_token = 'x'`` for a rare value and scans the table for it instead of looking each row
# up by its key (12 ms instead of 2 ms per batch on 20k rows, and growing with the table).
def _record(row: Mapping[Any, Any]) -> EnrollmentRecord:
    return EnrollmentRecord(
        enrollment_id=row["enrollment_id"],
        journey_id=row["journey_id"],
        customer_id=row["customer_id"],
        trigger_key=row["trigger_key"],
        version=row["version"],
        arm=row["arm"],
        status=row["status"],
        entered_at=row["entered_at"],
        step_id=row["step_id"],
        wake_at=row["wake_at"],
        step_started_at=row["step_started_at"],
        trigger=json.loads(row["trigger_json"]) if row["trigger_json"] else {},
        variants=json.loads(row["variants_json"]) if row["variants_json"] else {},
        exited_at=row["exited_at"],
        exit_reason=row["exit_reason"],
    )


def _position_row(u: PositionUpdate) -> tuple[Any, ...]:
    return (u.enrollment_id, u.status, u.step_id, u.wake_at, u.step_started_at, as_json(u.variants), u.exited_at,
            u.exit_reason)  # fmt: skip


class SqlEnrollmentRepository(EnrollmentReads):
    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    @property
    def _postgres(self) -> bool:
        return self._conn.dialect.name == "postgresql"

    # -- entering ---------------------------------------------------------------------------------

    def add(self, rows: Sequence[EnrollmentRecord]) -> list[str]:
        if not rows:
            return []
        values = [
            {
                "enrollment_id": r.enrollment_id,
                "journey_id": r.journey_id,
                "customer_id": r.customer_id,
                "trigger_key": r.trigger_key,
                "trigger_json": as_json(r.trigger),
                "version": r.version,
                "arm": r.arm,
                "status": r.status,
                "step_id": r.step_id,
                "wake_at": r.wake_at,
                "step_started_at": r.step_started_at,
                "variants_json": as_json(r.variants),
                "entered_at": r.entered_at,
                "exited_at": r.exited_at,
                "exit_reason": r.exit_reason,
            }
            for r in rows
        ]
        ins = (pg_insert if self._postgres else sqlite_insert)(E).on_conflict_do_nothing()
        return list(self._conn.execute(ins.returning(E.c.enrollment_id), values).scalars())

    def add_bulk(self, batch: BulkEnrollment, *, skip_entered_since: datetime | None) -> tuple[int, int]:
        return add_bulk(self._conn, batch, skip_entered_since)

    def last_entries(self, journey_id: str, customer_ids: Collection[str]) -> dict[str, tuple[datetime, bool]]:
        active = func.max(case((E.c.status == "active", 1), else_=0))
        out: dict[str, tuple[datetime, bool]] = {}
        for part in self._parts(customer_ids):
            q = (
                select(E.c.customer_id, func.max(E.c.entered_at), active)
                .where(E.c.journey_id == journey_id, self._among(E.c.customer_id, part))
                .group_by(E.c.customer_id)
            )
            out.update({str(cid): (at, bool(running)) for cid, at, running in self._conn.execute(q)})
        return out

    def try_lock_journey(self, journey_id: str) -> bool:
        if not self._postgres:
            return True
        # FOR NO KEY UPDATE: it conflicts with a pause or an edit (FOR UPDATE) and with another scan,
        # not with the FOR KEY SHARE of a batch being written (live_journeys): scans never stall steps.
        row = self._conn.exec_driver_sql(
            "SELECT journey_id FROM journeys WHERE journey_id = %(j)s FOR NO KEY UPDATE SKIP LOCKED", {"j": journey_id}
        ).first()
        return row is not None

    # -- advancing --------------------------------------------------------------------------------

    def claim_due(
        self, journey_ids: Collection[str], now: datetime, *, limit: int, token: str, lease_until: datetime
    ) -> list[EnrollmentRecord]:
        if not journey_ids or limit <= 0:
            return []
        free = or_(E.c.lease_until.is_(None), E.c.lease_until <= now)
        due = (
            select(E.c.enrollment_id)
            .where(E.c.status == "active", E.c.wake_at <= now, free, E.c.journey_id.in_(list(journey_ids)))
            .order_by(E.c.wake_at)
            .limit(limit)
        )
        q = update(E).values(lease_token=token, lease_until=lease_until).returning(*_RECORD)
        if self._postgres:
            # A materialised CTE runs the locking LIMIT query once; as an IN subquery PostgreSQL may
            # re-run it inside the join and lease more than ``limit`` rows.
            picked = due.with_for_update(skip_locked=True).cte("due").prefix_with("MATERIALIZED")
            q = q.where(E.c.enrollment_id == picked.c.enrollment_id)
        else:  # one statement under SQLite's write lock: its conditions decide
            q = q.where(E.c.enrollment_id.in_(due.scalar_subquery()), E.c.status == "active", free)
        rows = [_record(r) for r in self._conn.execute(q).mappings()]
        rows.sort(key=lambda r: (r.wake_at or now, r.enrollment_id))
        return rows

    def hold(self, enrollment_ids: Collection[str], token: str, lease_until: datetime) -> set[str]:
        out: set[str] = set()
        for part in self._parts(enrollment_ids):
            mine = (self._among(E.c.enrollment_id, part), E.c.lease_token == token)
            if self._postgres:  # row locks, without writing a new version of each row
                locked = select(E.c.enrollment_id).where(*mine).with_for_update()
                out.update(self._conn.execute(locked).scalars())
                continue
            # SQLite has no row locks: the update takes the database's write lock for this transaction.
            q = update(E).where(*mine).values(lease_until=lease_until).returning(E.c.enrollment_id)
            out.update(self._conn.execute(q).scalars())
        return out

    def live_journeys(self, journey_ids: Collection[str]) -> dict[str, int]:
        q = select(J.c.journey_id, J.c.version).where(J.c.journey_id.in_(list(journey_ids)), J.c.status == "active")
        if self._postgres:
            q = q.with_for_update(read=True, key_share=True)
        return {str(j): int(v) for j, v in self._conn.execute(q)}

    def write_positions(self, updates: Sequence[PositionUpdate], token: str) -> int:
        if not updates:
            return 0
        if self._postgres:
            columns = [list(c) for c in zip(*(_position_row(u) for u in updates), strict=True)]
            self._conn.exec_driver_sql(_PG_POSITIONS, (*columns, [token] * len(updates)))
            return len(updates)
        q = (
            update(E)
            .where(E.c.enrollment_id == bindparam("b_id"), E.c.lease_token == bindparam("b_token"))
            .values(
                status=bindparam("b_status"),
                step_id=bindparam("b_step"),
                wake_at=bindparam("b_wake", type_=UTCDateTime()),
                step_started_at=bindparam("b_started", type_=UTCDateTime()),
                variants_json=bindparam("b_variants"),
                exited_at=bindparam("b_exited", type_=UTCDateTime()),
                exit_reason=bindparam("b_reason"),
                lease_token=None,
                lease_until=None,
            )
        )
        params = [
            {
                "b_id": u.enrollment_id,
                "b_token": token,
                "b_status": u.status,
                "b_step": u.step_id,
                "b_wake": u.wake_at,
                "b_started": u.step_started_at,
                "b_variants": as_json(u.variants),
                "b_exited": u.exited_at,
                "b_reason": u.exit_reason,
            }
            for u in updates
        ]
        self._conn.execute(q, params)
        return len(params)

    def release(self, enrollment_ids: Collection[str], token: str) -> int:
        n = 0
        for part in self._parts(enrollment_ids):
            q = (
                update(E)
                .where(self._among(E.c.enrollment_id, part), E.c.lease_token == token)
                .values(lease_token=None, lease_until=None)
            )
            n += int(self._conn.execute(q).rowcount)
        return n

    def add_messages(self, messages: Sequence[NewMessage]) -> int:
        if not messages:
            return 0
        values = [
            {
                "message_id": m.message_id,
                "enrollment_id": m.enrollment_id,
                "journey_id": m.journey_id,
                "step_id": m.step_id,
                "customer_id": m.customer_id,
                "channel": m.channel,
                "category": m.category,
                "topic": m.topic,
                "variant": m.variant,
                "params_json": json.dumps(dict(m.params), sort_keys=True, ensure_ascii=False, default=str),
                "status": "queued",
                "not_before": m.not_before,
                "attempts": 0,
                "created_at": m.created_at,
            }
            for m in messages
        ]
        ins = (pg_insert if self._postgres else sqlite_insert)(M).on_conflict_do_nothing()
        return len(list(self._conn.execute(ins.returning(M.c.message_id), values).scalars()))

    def wake(self, journey_id: str, hits: Sequence[tuple[str, str, datetime]], now: datetime) -> int:
        if not hits:
            return 0
        q = (
            update(E)
            .where(
                E.c.journey_id == journey_id,
                E.c.customer_id == bindparam("b_customer"),
                E.c.step_id == bindparam("b_step"),
                E.c.status == "active",
                E.c.wake_at > now,
                E.c.step_started_at <= bindparam("b_at", type_=UTCDateTime()),
            )
            .values(wake_at=now)
        )
        params = [{"b_step": s, "b_customer": c, "b_at": at} for s, c, at in hits]
        return max(int(self._conn.execute(q, params).rowcount), 0)

    # -- reading and removing ---------------------------------------------------------------------

    def get(self, enrollment_id: str) -> EnrollmentRecord | None:
        row = self._conn.execute(select(*_RECORD).where(E.c.enrollment_id == enrollment_id)).mappings().first()
        return _record(row) if row else None

    def remove(self, enrollment_id: str, at: datetime, reason: str) -> bool:
        # The enrollment first, then its messages (the order SqlJourneyRepository.stop explains): a
        # worker writing this enrollment's step holds its row; the message update runs after it.
        ended = self._conn.execute(
            update(E)
            .where(E.c.enrollment_id == enrollment_id, E.c.status == "active")
            .values(status="exited", exited_at=at, exit_reason=reason, wake_at=None, lease_token=None, lease_until=None)
        ).rowcount
        if ended != 1:
            return False
        self._conn.execute(
            update(M)
            .where(M.c.enrollment_id == enrollment_id, M.c.status == "queued")
            .values(status="cancelled", finished_at=at, detail=reason, lease_token=None, lease_until=None)
        )
        return True

    # last, so that ``list`` in the annotations above is the builtin
    def list(
        self, journey_id: str, *, status: str | None = None, after: str | None = None, limit: int = 100
    ) -> list[EnrollmentRecord]:
        q = select(*_RECORD).where(E.c.journey_id == journey_id).order_by(E.c.enrollment_id).limit(limit)
        if status is not None:
            q = q.where(E.c.status == status)
        if after is not None:
            q = q.where(E.c.enrollment_id > after)
        return [_record(r) for r in self._conn.execute(q).mappings()]
