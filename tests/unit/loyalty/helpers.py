"""A member's ledger driven only through the core's own writers (settle, spend, award), as the
services drive it: no hand-built rows."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from aftersales.core.loyalty import (
    BonusFact,
    Entry,
    OrderFacts,
    Program,
    award,
    check_shape,
    derive,
    parse_program,
    settle,
    spend,
)

START = datetime(2024, 1, 1, tzinfo=UTC)


def day(n: float) -> datetime:
    """Day ``n`` of the test calendar (day 0 = 2024-01-01 00:00 UTC)."""
    return START + timedelta(days=n)


def program(**sections: Any) -> Program:
    doc: dict[str, Any] = {
        "tiers": {"window_days": 365, "levels": [{"name": "member", "min_points": 0}]},
        "rewards": [{"id": "ten_off", "points": 100, "kind": "amount_off", "value": 10}],
    }
    doc.update(sections)
    return parse_program(doc)


def order(order_id: str, at: float, revenue: str | int, **kw: Any) -> OrderFacts:
    times = {k: day(v) for k, v in kw.items() if k in ("delivered_at", "returned_at", "cancelled_at")}
    rest = {k: v for k, v in kw.items() if k not in times}
    return OrderFacts(order_id, "m", day(at), Decimal(str(revenue)), rest.pop("currency", "USD"), **times, **rest)


@dataclass
class Ledger:
    """One member's rows, extended by the core's writers."""

    program: Program
    orders: list[OrderFacts] = field(default_factory=list)
    bonuses: list[BonusFact] = field(default_factory=list)
    rows: list[Entry] = field(default_factory=list)

    def process(self, at: datetime) -> list[Entry]:
        new = settle(self.program, "m", self.rows, self.orders, self.bonuses, at)
        for e in new:
            check_shape(e)
        self.rows.extend(new)
        return new

    def redeem(self, points: int, key: str, at: datetime) -> list[Entry]:
        new = spend(self.rows, "m", points, f"redeem:{key}", at, kind="redeem", source="reward:x")
        self.rows.extend(new)
        return new

    def adjust(self, points: int, key: str, at: datetime) -> list[Entry]:
        new = award(self.program, self.rows, "m", points, f"adjust:{key}", at, reason="test")
        self.rows.extend(new)
        return new

    def state(self, at: datetime) -> Any:
        return derive(self.rows, at)

    def kinds(self) -> list[tuple[str, str, int, int]]:
        return [(e.key, e.kind, e.points, e.locked) for e in self.rows]
