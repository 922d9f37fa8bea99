"""Webhook subscriptions, deliveries (the outbox) and delivery attempts."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import asdict
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, insert, select, update

from aftersales.adapters.sql.service_tables import webhook_attempts, webhook_deliveries, webhook_subscriptions
from aftersales.services.ports import AttemptRecord, DeliveryRecord, SubscriptionRecord

__all__ = ["SqlWebhookRepository"]

S, D, A = webhook_subscriptions, webhook_deliveries, webhook_attempts


def _sub(row: Mapping[str, Any]) -> SubscriptionRecord:
    return SubscriptionRecord(**{**row, "event_types": tuple(json.loads(row["event_types"]))})


class SqlWebhookRepository:
    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    def add_subscription(self, sub: SubscriptionRecord) -> None:
        self._conn.execute(insert(S).values(**{**asdict(sub), "event_types": json.dumps(list(sub.event_types))}))

    def get_subscription(self, subscription_id: str) -> SubscriptionRecord | None:
        row = self._conn.execute(select(S).where(S.c.subscription_id == subscription_id)).mappings().first()
        return _sub(row) if row else None

    def list_subscriptions(self, *, after: str | None, limit: int) -> list[SubscriptionRecord]:
        q = select(S).order_by(S.c.subscription_id).limit(limit)
        if after is not None:
            q = q.where(S.c.subscription_id > after)
        return [_sub(r) for r in self._conn.execute(q).mappings()]

    def active_subscriptions(self) -> list[SubscriptionRecord]:
        q = select(S).where(S.c.active.is_(True)).order_by(S.c.subscription_id)
        return [_sub(r) for r in self._conn.execute(q).mappings()]

    def deactivate(self, subscription_id: str) -> bool:
        q = update(S).where(S.c.subscription_id == subscription_id, S.c.active.is_(True)).values(active=False)
        return self._conn.execute(q).rowcount == 1

    def add_delivery(self, delivery: DeliveryRecord) -> None:
        self._conn.execute(insert(D).values(**asdict(delivery)))

    def get_delivery(self, delivery_id: str) -> DeliveryRecord | None:
        row = self._conn.execute(select(D).where(D.c.delivery_id == delivery_id)).mappings().first()
        return DeliveryRecord(**row) if row else None

    def list_deliveries(
        self, *, subscription_id: str | None, status: str | None, after: str | None, limit: int
    ) -> list[DeliveryRecord]:
        q = select(D).order_by(D.c.delivery_id).limit(limit)
        if subscription_id is not None:
            q = q.where(D.c.subscription_id == subscription_id)
        if status is not None:
            q = q.where(D.c.status == status)
        if after is not None:
            q = q.where(D.c.delivery_id > after)
        return [DeliveryRecord(**r) for r in self._conn.execute(q).mappings()]

    def claim_due(self, now: datetime, lease_until: datetime, limit: int) -> list[DeliveryRecord]:
        q = (
            select(D)
            .where(D.c.status == "pending", D.c.next_attempt_at <= now)
            .order_by(D.c.next_attempt_at)
            .limit(limit)
        )
        if self._conn.dialect.name == "postgresql":
            q = q.with_for_update(skip_locked=True)
        rows = [DeliveryRecord(**r) for r in self._conn.execute(q).mappings()]
        if rows:
            ids = [r.delivery_id for r in rows]
            self._conn.execute(update(D).where(D.c.delivery_id.in_(ids)).values(next_attempt_at=lease_until))
        return rows

    def save_attempt(self, attempt: AttemptRecord, delivery: DeliveryRecord) -> None:
        self._conn.execute(insert(A).values(**asdict(attempt)))
        values = asdict(delivery)
        del values["delivery_id"]
        self._conn.execute(update(D).where(D.c.delivery_id == delivery.delivery_id).values(**values))

    def attempts(self, delivery_id: str) -> list[AttemptRecord]:
        q = select(A).where(A.c.delivery_id == delivery_id).order_by(A.c.attempt_number)
        return [AttemptRecord(**r) for r in self._conn.execute(q).mappings()]

    def reset_for_redelivery(self, delivery_id: str, at: datetime) -> bool:
        q = (
            update(D)
            .where(D.c.delivery_id == delivery_id)
            .values(status="pending", attempt_count=0, next_attempt_at=at)
        )
        return self._conn.execute(q).rowcount == 1
