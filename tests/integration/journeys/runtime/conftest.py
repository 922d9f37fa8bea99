"""A store for the runtime's tests on each database, customers and facts to put in it, and a driver
that runs a worker on a manual clock from one due time to the next."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import Engine, func, insert, select

from aftersales.adapters.sql.engine import make_engine
from aftersales.adapters.sql.journey_tables import journey_enrollments, journey_messages
from aftersales.adapters.sql.repositories import unit_of_work_factory
from aftersales.adapters.sql.segment_tables import segment_memberships, segments
from aftersales.adapters.sql.tables import TABLES, metadata
from aftersales.services.clock import ManualClock
from aftersales.services.operational.journeys.worker import Worker, WorkerOptions
from aftersales.services.ports import UnitOfWorkFactory

T0 = datetime(2026, 3, 2, 6, tzinfo=UTC)  # a Monday, 06:00 UTC


@dataclass
class Store:
    engine: Engine
    uow: UnitOfWorkFactory

    def customers(self, ids: Sequence[str], **values: Any) -> None:
        rows = [{"customer_id": c, "timezone": None, "locale": None, "email_consent": True, **values} for c in ids]
        with self.engine.begin() as conn:
            conn.execute(insert(TABLES["customers"]), rows)

    def orders(self, rows: Sequence[dict[str, Any]]) -> None:
        base = {"status": "delivered", "revenue": 20, "currency": "EUR", "channel": "web", "delivered_at": None,
                "returned_at": None}  # fmt: skip
        with self.engine.begin() as conn:
            conn.execute(insert(TABLES["orders"]), [{**base, **r} for r in rows])

    def events(self, rows: Sequence[dict[str, Any]]) -> None:
        base = {"anonymous_id": None, "properties": None}
        with self.engine.begin() as conn:
            conn.execute(insert(TABLES["events"]), [{**base, **r} for r in rows])

    def segment(self, name: str, ids: Sequence[str]) -> str:
        """A saved segment ``name`` whose current members are ``ids``; its id."""
        segment_id = f"seg_{name}"
        with self.engine.begin() as conn:
            conn.execute(
                insert(segments).values(
                    segment_id=segment_id, name=name, definition_json="{}", definition_text=name,
                    created_at=T0, updated_at=T0,
                )
            )  # fmt: skip
            rows = [{"segment_id": segment_id, "customer_id": c, "entered_at": T0, "exited_at": None} for c in ids]
            if rows:
                conn.execute(insert(segment_memberships), rows)
        return segment_id

    def messages(self) -> list[dict[str, Any]]:
        q = select(journey_messages).order_by(journey_messages.c.created_at, journey_messages.c.message_id)
        with self.engine.connect() as conn:
            return [dict(r) for r in conn.execute(q).mappings()]

    def enrollments(self) -> list[dict[str, Any]]:
        q = select(journey_enrollments).order_by(journey_enrollments.c.customer_id, journey_enrollments.c.entered_at)
        with self.engine.connect() as conn:
            return [dict(r) for r in conn.execute(q).mappings()]

    def counts(self) -> dict[str, int]:
        """Rows in every table of the store (to show that something wrote nothing)."""
        with self.engine.connect() as conn:
            return {
                t.name: conn.execute(select(func.count()).select_from(t)).scalar_one() for t in metadata.sorted_tables
            }

    def next_wake(self) -> datetime | None:
        e = journey_enrollments
        q = select(func.min(e.c.wake_at)).where(e.c.status == "active")
        with self.engine.connect() as conn:
            return conn.execute(q).scalar_one()


@pytest.fixture
def store(store_url: str) -> Iterator[Store]:
    engine = make_engine(store_url)
    yield Store(engine, unit_of_work_factory(engine))
    engine.dispose()


def worker(store: Store, clock: ManualClock, **options: Any) -> Worker:
    opts = WorkerOptions(**{"date_scan_every": timedelta(0), **options})
    return Worker(store.uow, clock, options=opts)


def run_until(w: Worker, clock: ManualClock, store: Store, end: datetime, *, facts: Sequence[datetime] = ()) -> int:
    """Run rounds at each due time (the earliest wake, or fact time) up to ``end``, then at ``end``;
    how many rounds ran."""
    rounds = 0
    pending = sorted(t for t in facts if t > clock.now())
    while True:
        w.run_once()
        rounds += 1
        wake = store.next_wake()
        pending = [t for t in pending if t > clock.now()]
        nxt = min([t for t in (wake, *pending[:1]) if t is not None], default=None)
        if nxt is None or nxt > end:
            if clock.now() < end:
                clock.set(end)
                w.run_once()
                rounds += 1
            return rounds
        if nxt <= clock.now():  # still due (a lease held by a worker that died): let time pass
            clock.advance(timedelta(minutes=1))
        else:
            clock.set(nxt)


def days(n: float) -> timedelta:
    return timedelta(days=n)
