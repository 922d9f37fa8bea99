"""A store on SQLite and PostgreSQL, written only through the product's writers: customers, products,
orders (with lines), survey responses and registrations through the resource services, the program
through ``apply_program``, the ledger through processing, awards and redemptions. ``world.at(n)`` is
day ``n`` of the test calendar (day 0 = 2024-01-01 00:00 UTC); each test gets a manual clock."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from aftersales.adapters.sql.engine import make_engine
from aftersales.adapters.sql.repositories import unit_of_work_factory
from aftersales.services.clock import ManualClock
from aftersales.services.operational import loyalty, resources

START = datetime(2024, 1, 1, tzinfo=UTC)
PROGRAM: dict[str, Any] = {
    "name": "rewards",
    "earn": {
        "points_per_unit": 1,
        "category_multipliers": {"bikes": 2},
        "bonuses": {"review_written": 50, "survey_answered": 20, "product_registered": 100},
    },
    "lock": {"return_window_days": 30},
    "expiry": {"active_days": 365, "warning_days": 30},
    "value": {"cost_per_point": 0.01},
    "tiers": {
        "window_days": 365,
        "levels": [
            {"name": "member", "min_points": 0},
            {"name": "silver", "min_points": 1000, "earn_multiplier": 1.5},
        ],
    },
    "rewards": [
        {"id": "ten_off", "name": "10 off", "points": 100, "kind": "amount_off", "value": 10},
        {"id": "thirty", "name": "30 points", "points": 30, "kind": "amount_off", "value": 3},
        {"id": "vip_gift", "name": "gift", "points": 50, "kind": "free_product", "product_id": "p-bike",
         "min_tier": "silver"},
    ],
}  # fmt: skip


def at(n: float) -> datetime:
    return START + timedelta(days=n)


class World:
    """The store, its unit of work, a manual clock and the writers a test uses."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine = make_engine(url)
        self.uow = unit_of_work_factory(self.engine)
        self.clock = ManualClock(START)
        resources.create(self.uow, "products", {"product_id": "p-bike", "category": "bikes", "price": 100})
        resources.create(self.uow, "products", {"product_id": "p-lock", "category": "locks", "price": 10})

    at = staticmethod(at)

    def customer(self, customer_id: str) -> None:
        resources.create(self.uow, "customers", {"customer_id": customer_id, "created_at": START})

    def order(self, order_id: str, customer_id: str, day: float, revenue: float, **extra: Any) -> None:
        lines = extra.pop("lines", None)
        data = {"order_id": order_id, "customer_id": customer_id, "ordered_at": at(day), "revenue": revenue, **extra}
        if lines:
            data["lines"] = [
                {"line_number": i + 1, "product_id": p, "quantity": q, "unit_price": price}
                for i, (p, q, price) in enumerate(lines)
            ]
        resources.create(self.uow, "orders", data)

    def returned(self, order_id: str, day: float) -> None:
        resources.update(self.uow, "orders", {"order_id": order_id}, {"status": "returned", "returned_at": at(day)})

    def apply(self, doc: dict[str, Any] | None = None) -> Any:
        return loyalty.apply_program(self.uow, doc or PROGRAM, clock=self.clock)

    def process(self, day: float) -> Any:
        self.clock.set(at(day))
        return loyalty.process(self.uow, clock=self.clock)

    def member(self, member_id: str, day: float | None = None) -> Any:
        if day is not None:
            self.clock.set(at(day))
        return loyalty.member(self.uow, member_id, clock=self.clock)

    def count(self, table: str, **where: Any) -> int:
        from aftersales.adapters.sql.tables import metadata

        t = metadata.tables[table]
        q = select(func.count()).select_from(t)
        for k, v in where.items():
            q = q.where(t.c[k] == v)
        with self.engine.connect() as conn:
            return int(conn.execute(q).scalar_one())

    def rows(self, member_id: str) -> list[tuple[str, str, int, int]]:
        """The member's ledger as (key, kind, points, locked), in the order written."""
        with self.uow() as u:
            return [(e.key, e.kind, e.points, e.locked) for e in u.loyalty.entries([member_id]).get(member_id, [])]

    def events(self, name: str) -> list[tuple[str, str]]:
        from aftersales.adapters.sql.tables import TABLES

        t = TABLES["events"]
        q = select(t.c.event_id, t.c.customer_id).where(t.c.name == name).order_by(t.c.event_id)
        with self.engine.connect() as conn:
            return [(r[0], r[1]) for r in conn.execute(q)]


@pytest.fixture
def world(store_url: str) -> Iterator[World]:
    w = World(store_url)
    yield w
    w.engine.dispose()
