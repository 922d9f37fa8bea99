"""In-memory fakes of the service plane's ports (``services/ports.py``), cosmicpython style.

A :class:`FakeStore` holds the committed state. Each :class:`FakeUnitOfWork` works on a deep copy of
it and writes the copy back only when its ``with`` block ends without an error, so a use case that
fails half-way leaves nothing behind, as a database transaction would. The repositories keep the
SQL repositories' observable rules (``adapters/sql/repositories``): lists in key order, pages
strictly after a key, ``insert`` of an existing key is a :class:`ConflictError`, a lease or a
finish holds only for the dispatcher's token, rows come back as copies.

They let the use cases run in microseconds; the real-database suites (``tests/integration``) stay
the proof that the SQL repositories keep the same rules on SQLite and PostgreSQL.
"""

from __future__ import annotations

import copy
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from types import TracebackType
from typing import Any

from aftersales.core import contract
from aftersales.core.errors import ConflictError
from aftersales.services.ports import (
    ApiKeyRecord,
    ApiKeyRepository,
    AttemptRecord,
    DeliveryRecord,
    EventRepository,
    EventRow,
    IdempotencyRecord,
    IdempotencyRepository,
    ProfileRepository,
    ResourceRepository,
    ScoreRecord,
    ScoreRepository,
    SegmentMembershipRepository,
    SegmentRepository,
    SegmentSizeRepository,
    SubscriptionRecord,
    WebhookRepository,
)

__all__ = ["FakeStore", "FakeUnitOfWork", "FakeUnitOfWorkFactory"]


def _sibling(filename: str) -> Any:
    """A module beside this one, loaded by path (the suite imports in importlib mode, as this file is)."""
    import importlib.util
    import sys
    from pathlib import Path

    name = f"aftersales_tests_{Path(filename).stem}"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, Path(__file__).with_name(filename))
        assert spec is not None and spec.loader is not None
        sys.modules[name] = module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
    return sys.modules[name]


_segments = _sibling("fake_segments.py")  # the segment repositories' fakes


@dataclass
class State:
    """Everything a store holds; records are frozen, so a deep copy shares nothing mutable."""

    api_keys: dict[str, ApiKeyRecord] = field(default_factory=dict)
    idempotency: dict[tuple[str, str], IdempotencyRecord] = field(default_factory=dict)
    events: dict[str, EventRow] = field(default_factory=dict)
    rows: dict[str, dict[tuple[Any, ...], dict[str, Any]]] = field(default_factory=dict)
    subscriptions: dict[str, SubscriptionRecord] = field(default_factory=dict)
    deliveries: dict[str, DeliveryRecord] = field(default_factory=dict)
    lease_tokens: dict[str, str] = field(default_factory=dict)  # delivery_id -> the dispatcher leasing it
    attempts: list[AttemptRecord] = field(default_factory=list)
    scores: dict[str, ScoreRecord] = field(default_factory=dict)
    segment_state: Any = field(default_factory=lambda: _segments.SegmentState())
    profiles: dict[str, dict[str, Any]] = field(default_factory=dict)


@dataclass
class FakeStore:
    """The committed state, and how many units of work committed or rolled back."""

    state: State = field(default_factory=State)
    commits: int = 0
    rollbacks: int = 0


class FakeApiKeyRepository:
    def __init__(self, state: State) -> None:
        self._s = state

    def add(self, key: ApiKeyRecord) -> None:
        if key.key_id in self._s.api_keys:
            raise ConflictError(f"api_keys: key {key.key_id!r} exists already")
        self._s.api_keys[key.key_id] = key

    def get(self, key_id: str) -> ApiKeyRecord | None:
        return self._s.api_keys.get(key_id)

    def list(self) -> list[ApiKeyRecord]:
        return sorted(self._s.api_keys.values(), key=lambda k: (k.created_at, k.key_id))

    def revoke(self, key_id: str, at: datetime) -> bool:
        key = self._s.api_keys.get(key_id)
        if key is None or key.revoked_at is not None:
            return False
        self._s.api_keys[key_id] = replace(key, revoked_at=at)
        return True


class FakeIdempotencyRepository:
    def __init__(self, state: State) -> None:
        self._s = state

    def claim(self, record: IdempotencyRecord) -> bool:
        key = (record.key_id, record.idempotency_key)
        if key in self._s.idempotency:
            return False
        self._s.idempotency[key] = record
        return True

    def get(self, key_id: str, idempotency_key: str) -> IdempotencyRecord | None:
        return self._s.idempotency.get((key_id, idempotency_key))

    def complete(
        self, key_id: str, idempotency_key: str, status_code: int, content_type: str, body: bytes, at: datetime
    ) -> None:
        rec = self._s.idempotency.get((key_id, idempotency_key))
        if rec is not None:
            done = replace(rec, state="completed", status_code=status_code, content_type=content_type, body=body)
            self._s.idempotency[(key_id, idempotency_key)] = done

    def release(self, key_id: str, idempotency_key: str) -> None:
        rec = self._s.idempotency.get((key_id, idempotency_key))
        if rec is not None and rec.state == "in_progress":
            del self._s.idempotency[(key_id, idempotency_key)]

    def take_over(self, key_id: str, idempotency_key: str, stale_before: datetime, at: datetime) -> bool:
        rec = self._s.idempotency.get((key_id, idempotency_key))
        if rec is None or rec.state != "in_progress" or not rec.created_at < stale_before:
            return False
        self._s.idempotency[(key_id, idempotency_key)] = replace(rec, created_at=at)
        return True


class FakeEventRepository:
    def __init__(self, state: State) -> None:
        self._s = state

    def insert_new(self, rows: Sequence[EventRow]) -> int:
        new = [r for r in rows if r[0] not in self._s.events]
        for r in new:
            self._s.events[r[0]] = r
        return len(new)


def _matches(row: Mapping[str, Any], match: Mapping[str, Any]) -> bool:
    """The SQL repository's ``_where``: a list or tuple value means ``IN``, anything else ``=``."""
    return all(row[k] in v if isinstance(v, list | tuple) else row[k] == v for k, v in match.items())


class FakeResourceRepository:
    def __init__(self, state: State) -> None:
        self._s = state

    def _table(self, table: str) -> dict[tuple[Any, ...], dict[str, Any]]:
        return self._s.rows.setdefault(table, {})

    def get(self, table: str, key: Mapping[str, Any]) -> dict[str, Any] | None:
        found = [r for r in self._table(table).values() if _matches(r, key)]
        return dict(found[0]) if found else None

    def exists(self, table: str, key: Mapping[str, Any]) -> bool:
        return any(_matches(r, key) for r in self._table(table).values())

    def insert(self, table: str, rows: Sequence[Mapping[str, Any]]) -> None:
        spec, stored = contract.get_table(table), self._table(table)
        full = [{c.name: r.get(c.name) for c in spec.columns} for r in rows]  # absent columns are NULL
        keys = [tuple(r[k] for k in spec.key) for r in full]
        if len(set(keys)) != len(keys) or any(k in stored for k in keys):  # one statement: all or nothing
            raise ConflictError(f"{table}: a row with this key exists already")
        stored.update(zip(keys, full, strict=True))

    def update(self, table: str, key: Mapping[str, Any], changes: Mapping[str, Any]) -> None:
        for r in self._table(table).values():
            if _matches(r, key):
                r.update(changes)

    def delete_where(self, table: str, match: Mapping[str, Any]) -> None:
        stored = self._table(table)
        for k in [k for k, r in stored.items() if _matches(r, match)]:
            del stored[k]

    def select(
        self,
        table: str,
        *,
        where: Mapping[str, Any] | None = None,
        after: Sequence[Any] | None = None,
        limit: int | None = None,
    ) -> list[dict[str, Any]]:
        rows = sorted(self._table(table).items())
        out = [
            dict(r)
            for k, r in rows
            if (not where or _matches(r, where)) and (after is None or k > tuple(after))  # row-value comparison
        ]
        return out if limit is None else out[:limit]


class FakeWebhookRepository:
    def __init__(self, state: State) -> None:
        self._s = state

    def add_subscription(self, sub: SubscriptionRecord) -> None:
        self._s.subscriptions[sub.subscription_id] = sub

    def get_subscription(self, subscription_id: str) -> SubscriptionRecord | None:
        return self._s.subscriptions.get(subscription_id)

    def list_subscriptions(self, *, after: str | None, limit: int) -> list[SubscriptionRecord]:
        ids = sorted(i for i in self._s.subscriptions if after is None or i > after)
        return [self._s.subscriptions[i] for i in ids[:limit]]

    def active_subscriptions(self) -> list[SubscriptionRecord]:
        return [s for _, s in sorted(self._s.subscriptions.items()) if s.active]

    def deactivate(self, subscription_id: str) -> bool:
        sub = self._s.subscriptions.get(subscription_id)
        if sub is None or not sub.active:
            return False
        self._s.subscriptions[subscription_id] = replace(sub, active=False)
        return True

    def add_delivery(self, delivery: DeliveryRecord) -> None:
        self._s.deliveries[delivery.delivery_id] = delivery

    def get_delivery(self, delivery_id: str) -> DeliveryRecord | None:
        return self._s.deliveries.get(delivery_id)

    def list_deliveries(
        self, *, subscription_id: str | None, status: str | None, after: str | None, limit: int
    ) -> list[DeliveryRecord]:
        out = [
            d
            for _, d in sorted(self._s.deliveries.items())
            if (subscription_id is None or d.subscription_id == subscription_id)
            and (status is None or d.status == status)
            and (after is None or d.delivery_id > after)
        ]
        return out[:limit]

    def due(
        self, now: datetime, limit: int, *, skip_subscriptions: Collection[str] = ()
    ) -> list[tuple[DeliveryRecord, SubscriptionRecord]]:
        due = [
            d
            for d in self._s.deliveries.values()
            if d.status == "pending"
            and d.next_attempt_at is not None
            and d.next_attempt_at <= now
            and d.subscription_id not in skip_subscriptions
        ]
        due = sorted(due, key=lambda d: (d.next_attempt_at or now, d.delivery_id))[:limit]
        return [(d, self._s.subscriptions[d.subscription_id]) for d in due]

    def lease(self, delivery_ids: Sequence[str], now: datetime, until: datetime, token: str) -> list[str]:
        for i in delivery_ids:
            d = self._s.deliveries.get(i)
            if d is not None and d.status == "pending" and d.next_attempt_at is not None and d.next_attempt_at <= now:
                self._s.deliveries[i] = replace(d, next_attempt_at=until)
                self._s.lease_tokens[i] = token
        return [i for i in delivery_ids if self._s.lease_tokens.get(i) == token]

    def cancel_pending(
        self, reason: str, *, subscription_id: str | None = None, delivery_ids: Sequence[str] = ()
    ) -> int:
        if subscription_id is None and not delivery_ids:
            return 0
        hit = [
            d
            for d in self._s.deliveries.values()
            if d.status == "pending"
            and (subscription_id is None or d.subscription_id == subscription_id)
            and (not delivery_ids or d.delivery_id in delivery_ids)
        ]
        for d in hit:
            self._s.deliveries[d.delivery_id] = replace(d, status="failed", next_attempt_at=None, last_error=reason)
            self._s.lease_tokens.pop(d.delivery_id, None)
        return len(hit)

    def count_attempt(self, delivery_id: str) -> tuple[DeliveryRecord, str | None] | None:
        d = self._s.deliveries.get(delivery_id)
        if d is None:
            return None
        d = self._s.deliveries[delivery_id] = replace(d, attempt_count=d.attempt_count + 1)
        return d, self._s.lease_tokens.get(delivery_id)

    def next_attempt_number(self, delivery_id: str) -> int:
        return max((a.attempt_number for a in self._s.attempts if a.delivery_id == delivery_id), default=0) + 1

    def add_attempt(self, attempt: AttemptRecord) -> None:
        self._s.attempts.append(attempt)

    def finish(self, delivery: DeliveryRecord, token: str) -> bool:
        if self._s.lease_tokens.get(delivery.delivery_id) != token:
            return False
        self._s.deliveries[delivery.delivery_id] = delivery
        self._s.lease_tokens.pop(delivery.delivery_id)
        return True

    def attempts(self, delivery_id: str) -> list[AttemptRecord]:
        return sorted((a for a in self._s.attempts if a.delivery_id == delivery_id), key=lambda a: a.attempt_number)

    def reset_for_redelivery(self, delivery_id: str, at: datetime) -> bool:
        d = self._s.deliveries.get(delivery_id)
        if d is None:
            return False
        self._s.deliveries[delivery_id] = replace(d, status="pending", attempt_count=0, next_attempt_at=at)
        self._s.lease_tokens.pop(delivery_id, None)
        return True


class FakeScoreRepository:
    def __init__(self, state: State) -> None:
        self._s = state

    def tiers(self) -> dict[str, str]:
        return {cid: s.risk_tier for cid, s in self._s.scores.items()}

    def upsert(self, scores: Sequence[ScoreRecord]) -> None:
        self._s.scores.update((s.customer_id, s) for s in scores)

    def delete_not_computed_at(self, computed_at: datetime) -> int:
        old = [cid for cid, s in self._s.scores.items() if s.computed_at != computed_at]
        for cid in old:
            del self._s.scores[cid]
        return len(old)

    def get(self, customer_id: str) -> ScoreRecord | None:
        return self._s.scores.get(customer_id)

    def list(self, *, risk_tier: str | None, after: str | None, limit: int) -> list[ScoreRecord]:
        out = [
            s
            for cid, s in sorted(self._s.scores.items())
            if (risk_tier is None or s.risk_tier == risk_tier) and (after is None or cid > after)
        ]
        return out[:limit]


class FakeProfileRepository:
    def __init__(self, state: State) -> None:
        self._s = state

    def replace_all(self, profiles: Any, refreshed_at: datetime) -> int:
        rows = profiles.to_pylist()
        self._s.profiles = {r["customer_id"]: {**r, "refreshed_at": refreshed_at} for r in rows}
        return len(rows)

    def get(self, customer_id: str) -> dict[str, Any] | None:
        row = self._s.profiles.get(customer_id)
        return None if row is None else copy.deepcopy(row)


class FakeUnitOfWork:
    """One transaction over a :class:`FakeStore`: a private copy, written back on a clean exit."""

    # Annotated with the ports' types so that the fake satisfies the UnitOfWork protocol exactly.
    api_keys: ApiKeyRepository
    idempotency: IdempotencyRepository
    events: EventRepository
    resources: ResourceRepository
    webhooks: WebhookRepository
    scores: ScoreRepository
    profiles: ProfileRepository
    segments: SegmentRepository
    memberships: SegmentMembershipRepository
    segment_sizes: SegmentSizeRepository

    def __init__(self, store: FakeStore) -> None:
        self._store = store

    def __enter__(self) -> FakeUnitOfWork:
        self._work = copy.deepcopy(self._store.state)
        self.api_keys = FakeApiKeyRepository(self._work)
        self.idempotency = FakeIdempotencyRepository(self._work)
        self.events = FakeEventRepository(self._work)
        self.resources = FakeResourceRepository(self._work)
        self.webhooks = FakeWebhookRepository(self._work)
        self.scores = FakeScoreRepository(self._work)
        self.segments = _segments.FakeSegmentRepository(self._work.segment_state)
        self.memberships = _segments.FakeSegmentMembershipRepository(self._work.segment_state)
        self.segment_sizes = _segments.FakeSegmentSizeRepository(self._work.segment_state)
        self.profiles = FakeProfileRepository(self._work)
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if exc_type is None:
            self._store.state = self._work
            self._store.commits += 1
        else:
            self._store.rollbacks += 1


class FakeUnitOfWorkFactory:
    """A ``UnitOfWorkFactory`` over one in-memory store (``uow.store`` for the test's assertions)."""

    def __init__(self) -> None:
        self.store = FakeStore()

    def __call__(self) -> FakeUnitOfWork:
        return FakeUnitOfWork(self.store)
