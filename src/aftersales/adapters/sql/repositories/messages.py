"""The store side of the act plane's messages (issue 15; tables in adapters/sql/journey_tables.py).

Claims follow the webhook outbox's pattern (``repositories/webhooks.py``): candidates are read with
``FOR UPDATE SKIP LOCKED`` on PostgreSQL, then leased by an update that repeats the claim's
conditions, so on SQLite (no row locks; writers serialised) one of two racing claims gets a row and
only rows carrying the caller's token come back. Every later transition names the token too, so a
worker whose lease was taken over changes nothing.

Inserts that may race (suppressions, secrets, the pacing row) are ``INSERT ... ON CONFLICT DO
NOTHING`` on both databases.

**One round trip per message sent.** A sender records message i's outcome and starts message i+1 in
one transaction (:meth:`SqlMessageRepository.finish_and_start`). On PostgreSQL that transaction is one
statement: two updates and the ``message.sent`` event's insert as data-modifying CTEs (the event only
when the outcome's update applied; ``ON CONFLICT (event_id) DO NOTHING``, as the event repository
inserts). With the transaction's ``BEGIN`` and ``COMMIT`` that is 3 round trips to the server per
message instead of 7 (two updates, the event's savepoint and ``COPY``), each of which costs a context
switch into the server and back, the expensive part on a busy machine. On SQLite (no round trips)
the same steps run as their own statements.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, and_, case, exists, func, or_, select, tuple_, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.sql.elements import ColumnElement

from aftersales.adapters.sql.journey_tables import (
    instance_secrets,
    journey_enrollments,
    journey_messages,
    journeys,
    send_pacing,
    suppressions,
)
from aftersales.adapters.sql.profile_tables import customer_profiles
from aftersales.adapters.sql.tables import TABLES
from aftersales.services.ports import EVENT_COLUMNS
from aftersales.services.ports_messages import (
    Finished,
    MessageFilter,
    MessageRecord,
    Recipient,
    Starting,
    StatusCount,
    SuppressionRecord,
)

__all__ = ["SqlMessageRepository"]

M, S, P, X = journey_messages, suppressions, send_pacing, instance_secrets
E, J = journey_enrollments, journeys
C, PR, PD = TABLES["customers"], customer_profiles, TABLES["products"]
_FIELDS = [c for c in M.c if c.name not in ("lease_token", "lease_until", "params_json")]


_EVENT_PARAMS = ("e_id", "e_customer", "e_anonymous", "e_name", "e_at", "e_properties")  # EVENT_COLUMNS' order
_PG_FINISH_AND_START = f"""
WITH finished AS (
    UPDATE journey_messages SET status = %(f_status)s::text, finished_at = %(f_at)s::timestamptz,
           detail = %(f_detail)s::text, lease_token = NULL, lease_until = NULL
    WHERE message_id = %(f_id)s::text AND lease_token = %(token)s::text AND status IN ('sending', 'unknown')
    RETURNING message_id),
announced AS (
    INSERT INTO events ({", ".join(EVENT_COLUMNS)})
    SELECT %(e_id)s::text, %(e_customer)s::text, %(e_anonymous)s::text, %(e_name)s::text,
           %(e_at)s::timestamptz, %(e_properties)s::text
    FROM finished WHERE %(e_id)s::text IS NOT NULL
    ON CONFLICT (event_id) DO NOTHING
    RETURNING event_id),
started AS (
    UPDATE journey_messages SET status = 'sending', started_at = %(s_at)s::timestamptz, attempts = attempts + 1,
           lease_until = %(s_lease)s::timestamptz, rfc_message_id = %(s_rfc)s::text, detail = NULL
    WHERE message_id = %(s_id)s::text AND lease_token = %(token)s::text AND status = 'queued'
    RETURNING message_id)
SELECT (SELECT count(*) FROM finished), (SELECT count(*) FROM announced), (SELECT count(*) FROM started)
"""


def _record(row: Mapping[Any, Any]) -> MessageRecord:
    values = {c.name: row[c.name] for c in _FIELDS}
    return MessageRecord(**values, params=json.loads(row["params_json"]))


def _suppression(row: Mapping[Any, Any]) -> SuppressionRecord:
    return SuppressionRecord(**{c.name: row[c.name] for c in S.c})


class SqlMessageRepository:
    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    @property
    def _pg(self) -> bool:
        return self._conn.dialect.name == "postgresql"

    def _insert(self, table: Any) -> Any:
        return (postgresql.insert if self._pg else sqlite.insert)(table)

    # -- the outbox --------------------------------------------------------------------------------
    def add(self, messages: Sequence[MessageRecord]) -> int:
        if not messages:
            return 0
        rows = []
        for m in messages:
            values = {c.name: getattr(m, c.name) for c in _FIELDS}
            rows.append({**values, "params_json": json.dumps(dict(m.params), sort_keys=True, default=str)})
        q = self._insert(M).values(rows).on_conflict_do_nothing().returning(M.c.message_id)
        return len(self._conn.execute(q).all())

    def get(self, message_id: str) -> MessageRecord | None:
        row = self._conn.execute(select(M).where(M.c.message_id == message_id)).mappings().first()
        return _record(row) if row else None

    def _by_ids(self, ids: Collection[str], *extra: ColumnElement[bool]) -> list[MessageRecord]:
        q = select(M).where(M.c.message_id.in_(list(ids)), *extra).order_by(M.c.not_before, M.c.message_id)
        return [_record(r) for r in self._conn.execute(q).mappings()]

    def expire_sending(self, now: datetime, detail: str) -> list[MessageRecord]:
        cond = and_(M.c.status == "sending", M.c.lease_until < now)
        q = select(M.c.message_id).where(cond)
        if self._pg:
            q = q.with_for_update(skip_locked=True)
        ids = list(self._conn.execute(q).scalars())
        if not ids:
            return []
        # The token stays: the attempt's holder may still learn its outcome and record it.
        self._conn.execute(
            update(M)
            .where(M.c.message_id.in_(ids), cond)
            .values(status="unknown", finished_at=now, detail=detail, lease_until=None)
        )
        return self._by_ids(ids, M.c.status == "unknown", M.c.finished_at == now)

    def claim_due(
        self, now: datetime, limit: int, *, token: str, lease_until: datetime, channels: Collection[str]
    ) -> list[MessageRecord]:
        if limit <= 0 or not channels:
            return []
        cond = and_(
            M.c.status == "queued",
            M.c.not_before <= now,
            M.c.channel.in_(list(channels)),
            or_(M.c.lease_until.is_(None), M.c.lease_until < now),
            # a paused journey's messages wait for it to resume (archiving cancels them)
            ~exists().where(J.c.journey_id == M.c.journey_id, J.c.status == "paused"),
        )
        q = select(M.c.message_id).where(cond).order_by(M.c.not_before, M.c.message_id).limit(limit)
        if self._pg:
            q = q.with_for_update(skip_locked=True)
        ids = list(self._conn.execute(q).scalars())
        if not ids:
            return []
        self._conn.execute(
            update(M).where(M.c.message_id.in_(ids), cond).values(lease_token=token, lease_until=lease_until)
        )
        return self._by_ids(ids, M.c.lease_token == token, M.c.status == "queued")

    def _ours(self, message_id: str, token: str, *statuses: str) -> Any:
        return update(M).where(M.c.message_id == message_id, M.c.lease_token == token, M.c.status.in_(statuses))

    def defer(self, message_id: str, token: str, not_before: datetime, detail: str | None) -> bool:
        q = self._ours(message_id, token, "queued").values(
            not_before=not_before, detail=detail, lease_token=None, lease_until=None
        )
        return self._conn.execute(q).rowcount == 1

    def finish_unsent(self, message_id: str, token: str, status: str, at: datetime, detail: str) -> bool:
        q = self._ours(message_id, token, "queued").values(
            status=status, finished_at=at, detail=detail, lease_token=None, lease_until=None
        )
        return self._conn.execute(q).rowcount == 1

    def start_sending(
        self, message_id: str, token: str, at: datetime, lease_until: datetime, rfc_message_id: str | None
    ) -> bool:
        q = self._ours(message_id, token, "queued").values(
            status="sending",
            started_at=at,
            attempts=M.c.attempts + 1,
            lease_until=lease_until,
            rfc_message_id=rfc_message_id,
            detail=None,
        )
        return self._conn.execute(q).rowcount == 1

    def finish_attempt(self, message_id: str, token: str, status: str, at: datetime, detail: str | None) -> bool:
        q = self._ours(message_id, token, "sending", "unknown").values(
            status=status, finished_at=at, detail=detail, lease_token=None, lease_until=None
        )
        return self._conn.execute(q).rowcount == 1

    def finish_and_start(
        self, token: str, finished: Finished | None, starting: Starting | None
    ) -> tuple[bool, bool, bool]:
        if self._pg:
            f, s, e = finished, starting, finished.event if finished is not None else None
            params = {
                "token": token,
                "f_id": f.message_id if f else None,
                "f_status": f.status if f else None,
                "f_at": f.at if f else None,
                "f_detail": f.detail if f else None,
                "s_id": s.message_id if s else None,
                "s_at": s.at if s else None,
                "s_lease": s.lease_until if s else None,
                "s_rfc": s.rfc_message_id if s else None,
                **dict(zip(_EVENT_PARAMS, e or (None,) * len(_EVENT_PARAMS), strict=True)),
            }
            done, announced, started = self._conn.exec_driver_sql(_PG_FINISH_AND_START, params).one()
            return done == 1, announced == 1, started == 1
        done = announced = started = False
        if finished is not None:
            done = self.finish_attempt(finished.message_id, token, finished.status, finished.at, finished.detail)
            if done and finished.event is not None:
                from aftersales.adapters.sql.repositories.events import SqlEventRepository

                announced = SqlEventRepository(self._conn).insert_new([finished.event]) == 1
        if starting is not None:
            started = self.start_sending(
                starting.message_id, token, starting.at, starting.lease_until, starting.rfc_message_id
            )
        return done, announced, started

    def retry_attempt(self, message_id: str, token: str, not_before: datetime, detail: str | None) -> bool:
        q = self._ours(message_id, token, "sending", "unknown").values(
            status="queued", not_before=not_before, finished_at=None, detail=detail, lease_token=None, lease_until=None
        )
        return self._conn.execute(q).rowcount == 1

    def cancel_queued(self, *, enrollment_ids: Collection[str], at: datetime, reason: str) -> int:
        if not enrollment_ids:
            return 0
        q = (
            update(M)
            .where(M.c.enrollment_id.in_(list(enrollment_ids)), M.c.status == "queued")
            .values(status="cancelled", finished_at=at, detail=reason, lease_token=None, lease_until=None)
        )
        return int(self._conn.execute(q).rowcount)

    # -- reading -----------------------------------------------------------------------------------
    def recipients(self, customer_ids: Collection[str]) -> dict[str, Recipient]:
        if not customer_ids:
            return {}
        profile_cols = [c.label(f"p_{c.name}") for c in PR.c]
        q = (
            select(C.c.customer_id, C.c.email, C.c.name, C.c.email_consent, C.c.timezone, C.c.locale, *profile_cols)
            .select_from(C.outerjoin(PR, PR.c.customer_id == C.c.customer_id))
            .where(C.c.customer_id.in_(list(customer_ids)))
        )
        out = {}
        for row in self._conn.execute(q).mappings():
            profile = {c.name: row[f"p_{c.name}"] for c in PR.c} if row["p_customer_id"] is not None else {}
            out[row["customer_id"]] = Recipient(
                row["customer_id"],
                row["email"],
                row["name"],
                bool(row["email_consent"]),
                row["timezone"],
                row["locale"],
                profile,
            )
        return out

    def triggers(self, enrollment_ids: Collection[str]) -> dict[str, Mapping[str, Any]]:
        if not enrollment_ids:
            return {}
        q = select(E.c.enrollment_id, E.c.trigger_json).where(E.c.enrollment_id.in_(list(enrollment_ids)))
        return {e: json.loads(t) if t else {} for e, t in self._conn.execute(q)}

    def product_names(self, product_ids: Collection[str]) -> dict[str, str]:
        if not product_ids:
            return {}
        q = select(PD.c.product_id, PD.c.name).where(PD.c.product_id.in_(list(product_ids)), PD.c.name.is_not(None))
        return {p: n for p, n in self._conn.execute(q)}

    def recent_starts(
        self, customer_ids: Collection[str], *, channel: str, category: str, since: datetime
    ) -> dict[str, list[datetime]]:
        if not customer_ids:
            return {}
        q = select(M.c.customer_id, M.c.started_at).where(
            M.c.customer_id.in_(list(customer_ids)),
            M.c.channel == channel,
            M.c.category == category,
            M.c.status.in_(("sent", "sending", "unknown")),
            M.c.started_at >= since,
        )
        out: dict[str, list[datetime]] = {}
        for customer_id, started_at in self._conn.execute(q):
            out.setdefault(customer_id, []).append(started_at)
        for starts in out.values():
            starts.sort()
        return out

    def page(self, where: MessageFilter, *, after: str | None, limit: int) -> list[MessageRecord]:
        q = select(M).order_by(M.c.message_id).limit(limit)
        if where.journey_id is not None:
            q = q.where(M.c.journey_id == where.journey_id)
        if where.customer_id is not None:
            q = q.where(M.c.customer_id == where.customer_id)
        if where.status is not None:
            q = q.where(M.c.status == where.status)
        if after is not None:
            q = q.where(M.c.message_id > after)
        return [_record(r) for r in self._conn.execute(q).mappings()]

    def _journey(self, q: Any, journey_id: str | None) -> Any:
        return q if journey_id is None else q.where(M.c.journey_id == journey_id)

    def status_counts(self, journey_id: str | None, now: datetime) -> list[StatusCount]:
        due = case((M.c.status != "queued", None), (M.c.not_before <= now, True), else_=False)
        counts = select(M.c.status, due.label("due"), func.count(), func.count(M.c.started_at))
        q = self._journey(counts.group_by(M.c.status, due), journey_id)
        return [
            StatusCount(status, None if d is None else bool(d), int(n), int(s))
            for status, d, n, s in self._conn.execute(q)
        ]

    def finished_between(
        self, journey_id: str | None, status: str, start: datetime, end: datetime
    ) -> tuple[int, datetime | None]:
        q = select(func.count(), func.min(M.c.finished_at)).where(
            M.c.status == status, M.c.finished_at >= start, M.c.finished_at < end
        )
        count, first = self._conn.execute(self._journey(q, journey_id)).one()
        return int(count), first

    def latest_not_before(self, journey_id: str | None) -> datetime | None:
        q = self._journey(select(func.max(M.c.not_before)).where(M.c.status == "queued"), journey_id)
        value: datetime | None = self._conn.execute(q).scalar_one()
        return value

    def topics(self, customer_id: str, channel: str) -> list[str]:
        q = (
            select(M.c.topic)
            .where(M.c.customer_id == customer_id, M.c.channel == channel, M.c.category == "marketing")
            .distinct()
            .order_by(M.c.topic)
        )
        return list(self._conn.execute(q).scalars())

    # -- suppressions ------------------------------------------------------------------------------
    def suppressions_of(self, customer_ids: Collection[str], channel: str) -> list[SuppressionRecord]:
        if not customer_ids:
            return []
        q = select(S).where(S.c.customer_id.in_(list(customer_ids)), S.c.channel == channel)
        return [_suppression(r) for r in self._conn.execute(q).mappings()]

    def add_suppression(self, record: SuppressionRecord, *, replace: bool = False) -> bool:
        values = {c.name: getattr(record, c.name) for c in S.c}
        q = self._insert(S).values(**values)
        if replace:
            keep = ("customer_id", "channel", "topic")
            q = q.on_conflict_do_update(
                index_elements=list(keep), set_={k: v for k, v in values.items() if k not in keep}
            )
        else:
            q = q.on_conflict_do_nothing()
        # RETURNING, not rowcount: psycopg reports -1 for an INSERT that SQLAlchemy ran as "insertmanyvalues"
        return self._conn.execute(q.returning(S.c.topic)).first() is not None

    def remove_suppression(self, customer_id: str, channel: str, topic: str) -> SuppressionRecord | None:
        key = and_(S.c.customer_id == customer_id, S.c.channel == channel, S.c.topic == topic)
        row = self._conn.execute(select(S).where(key)).mappings().first()
        if row is None:
            return None
        self._conn.execute(S.delete().where(key))
        return _suppression(row)

    def list_suppressions(
        self, *, customer_id: str | None, channel: str | None, after: tuple[str, str, str] | None, limit: int
    ) -> list[SuppressionRecord]:
        q = select(S).order_by(S.c.customer_id, S.c.channel, S.c.topic).limit(limit)
        if customer_id is not None:
            q = q.where(S.c.customer_id == customer_id)
        if channel is not None:
            q = q.where(S.c.channel == channel)
        if after is not None:
            q = q.where(tuple_(S.c.customer_id, S.c.channel, S.c.topic) > tuple_(*after))
        return [_suppression(r) for r in self._conn.execute(q).mappings()]

    # -- pacing and secrets ------------------------------------------------------------------------
    def pacing_slot(self, transport: str) -> datetime | None:
        value: datetime | None = self._conn.execute(
            select(P.c.next_slot_at).where(P.c.transport == transport)
        ).scalar_one_or_none()
        return value

    def move_pacing(self, transport: str, expected: datetime | None, new: datetime) -> bool:
        if expected is None:
            q = self._insert(P).values(transport=transport, next_slot_at=new).on_conflict_do_nothing()
        else:
            q = update(P).where(P.c.transport == transport, P.c.next_slot_at == expected).values(next_slot_at=new)
        return self._conn.execute(q.returning(P.c.transport)).first() is not None

    def secret(self, name: str) -> str | None:
        value: str | None = self._conn.execute(select(X.c.value).where(X.c.name == name)).scalar_one_or_none()
        return value

    def add_secret_if_absent(self, name: str, value: str, at: datetime) -> str:
        self._conn.execute(self._insert(X).values(name=name, value=value, created_at=at).on_conflict_do_nothing())
        stored = self.secret(name)
        assert stored is not None  # inserted just now, or by the concurrent first use that won
        return stored
