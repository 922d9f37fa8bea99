"""Webhook subscriptions, deliveries (the outbox) and delivery attempts.

A dispatcher leases each delivery it is about to send (``lease_token``, ``next_attempt_at`` pushed to
the lease's end) and records the attempt under that token; ``count_attempt`` increments the count in
the same transaction that inserts the attempt row, so the two always agree.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Mapping, Sequence
from dataclasses import asdict
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, func, insert, select, update

from aftersales.adapters.sql.service_tables import webhook_attempts, webhook_deliveries, webhook_subscriptions
from aftersales.services.ports import AttemptRecord, DeliveryRecord, SubscriptionRecord

__all__ = ["SqlWebhookRepository"]

S, D, A = webhook_subscriptions, webhook_deliveries, webhook_attempts
_DELIVERY = [c for c in D.c if c.name != "lease_token"]  # the lease is the dispatcher's business


def _sub(values: Mapping[str, Any]) -> SubscriptionRecord:
    """A subscription from its column values (rows give them by ``Row._asdict``, whose keys are str)."""
    return SubscriptionRecord(**{**values, "event_types": tuple(json.loads(values["event_types"]))})


class SqlWebhookRepository:
    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    def add_subscription(self, sub: SubscriptionRecord) -> None:
        self._conn.execute(insert(S).values(**{**asdict(sub), "event_types": json.dumps(list(sub.event_types))}))

    def get_subscription(self, subscription_id: str) -> SubscriptionRecord | None:
        row = self._conn.execute(select(S).where(S.c.subscription_id == subscription_id)).first()
        return _sub(row._asdict()) if row else None

    def list_subscriptions(self, *, after: str | None, limit: int) -> list[SubscriptionRecord]:
        q = select(S).order_by(S.c.subscription_id).limit(limit)
        if after is not None:
            q = q.where(S.c.subscription_id > after)
        return [_sub(r._asdict()) for r in self._conn.execute(q)]

    def active_subscriptions(self) -> list[SubscriptionRecord]:
        q = select(S).where(S.c.active.is_(True)).order_by(S.c.subscription_id)
        return [_sub(r._asdict()) for r in self._conn.execute(q)]

    def deactivate(self, subscription_id: str) -> bool:
        q = update(S).where(S.c.subscription_id == subscription_id, S.c.active.is_(True)).values(active=False)
        return self._conn.execute(q).rowcount == 1

    def add_delivery(self, delivery: DeliveryRecord) -> None:
        self._conn.execute(insert(D).values(**asdict(delivery)))

    def get_delivery(self, delivery_id: str) -> DeliveryRecord | None:
        row = self._conn.execute(select(*_DELIVERY).where(D.c.delivery_id == delivery_id)).mappings().first()
        return DeliveryRecord(**row) if row else None

    def list_deliveries(
        self, *, subscription_id: str | None, status: str | None, after: str | None, limit: int
    ) -> list[DeliveryRecord]:
        q = select(*_DELIVERY).order_by(D.c.delivery_id).limit(limit)
        if subscription_id is not None:
            q = q.where(D.c.subscription_id == subscription_id)
        if status is not None:
            q = q.where(D.c.status == status)
        if after is not None:
            q = q.where(D.c.delivery_id > after)
        return [DeliveryRecord(**r) for r in self._conn.execute(q).mappings()]

    def due(
        self, now: datetime, limit: int, *, skip_subscriptions: Collection[str] = ()
    ) -> list[tuple[DeliveryRecord, SubscriptionRecord]]:
        q = (
            select(D, *[c.label(f"s_{c.name}") for c in S.c])
            .join(S, S.c.subscription_id == D.c.subscription_id)
            .where(D.c.status == "pending", D.c.next_attempt_at <= now)
            .order_by(D.c.next_attempt_at, D.c.delivery_id)
            .limit(limit)
        )
        if skip_subscriptions:
            q = q.where(D.c.subscription_id.not_in(list(skip_subscriptions)))
        if self._conn.dialect.name == "postgresql":
            q = q.with_for_update(skip_locked=True, of=D)
        out = []
        for row in self._conn.execute(q).mappings():
            delivery = DeliveryRecord(**{c.name: row[c.name] for c in D.c if c.name != "lease_token"})
            out.append((delivery, _sub({c.name: row[f"s_{c.name}"] for c in S.c})))
        return out

    def lease(self, delivery_ids: Sequence[str], now: datetime, until: datetime, token: str) -> list[str]:
        if not delivery_ids:
            return []
        # Conditional on still being due: on SQLite the rows were read without a lock, and another
        # process may have leased some in between; what carries our token afterwards is ours.
        self._conn.execute(
            update(D)
            .where(D.c.delivery_id.in_(delivery_ids), D.c.status == "pending", D.c.next_attempt_at <= now)
            .values(next_attempt_at=until, lease_token=token)
        )
        q = select(D.c.delivery_id).where(D.c.delivery_id.in_(delivery_ids), D.c.lease_token == token)
        return list(self._conn.execute(q).scalars())

    def cancel_pending(
        self, reason: str, *, subscription_id: str | None = None, delivery_ids: Sequence[str] = ()
    ) -> int:
        q = update(D).where(D.c.status == "pending")
        if subscription_id is not None:
            q = q.where(D.c.subscription_id == subscription_id)
        if delivery_ids:
            q = q.where(D.c.delivery_id.in_(delivery_ids))
        if subscription_id is None and not delivery_ids:
            return 0
        return self._conn.execute(
            q.values(status="failed", next_attempt_at=None, last_error=reason, lease_token=None)
        ).rowcount

    def count_attempt(self, delivery_id: str) -> tuple[DeliveryRecord, str | None] | None:
        # The increment comes first: it takes the row lock (PostgreSQL) or the write lock (SQLite), so
        # the state read next is current and no other attempt is counted in between.
        q = update(D).where(D.c.delivery_id == delivery_id).values(attempt_count=D.c.attempt_count + 1)
        if self._conn.execute(q).rowcount != 1:
            return None
        row = self._conn.execute(select(D).where(D.c.delivery_id == delivery_id)).mappings().one()
        values = dict(row)
        token = values.pop("lease_token")
        return DeliveryRecord(**values), token

    def next_attempt_number(self, delivery_id: str) -> int:
        q = select(func.coalesce(func.max(A.c.attempt_number), 0)).where(A.c.delivery_id == delivery_id)
        return int(self._conn.execute(q).scalar_one()) + 1

    def add_attempt(self, attempt: AttemptRecord) -> None:
        self._conn.execute(insert(A).values(**asdict(attempt)))

    def finish(self, delivery: DeliveryRecord, token: str) -> bool:
        values = asdict(delivery)
        del values["delivery_id"]
        q = (
            update(D)
            .where(D.c.delivery_id == delivery.delivery_id, D.c.lease_token == token)
            .values(**values, lease_token=None)
        )
        return self._conn.execute(q).rowcount == 1

    def attempts(self, delivery_id: str) -> list[AttemptRecord]:
        q = select(A).where(A.c.delivery_id == delivery_id).order_by(A.c.attempt_number)
        return [AttemptRecord(**r) for r in self._conn.execute(q).mappings()]

    def reset_for_redelivery(self, delivery_id: str, at: datetime) -> bool:
        q = (
            update(D)
            .where(D.c.delivery_id == delivery_id)
            .values(status="pending", attempt_count=0, next_attempt_at=at, lease_token=None)
        )
        return self._conn.execute(q).rowcount == 1
