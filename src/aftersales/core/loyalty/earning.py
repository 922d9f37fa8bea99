"""What earns points: orders (revenue, category multipliers, the tier's multiplier) and bonuses.

An order's points are, with ``R`` its revenue (net of discounts, before tax and shipping), ``a_c`` the
net amount of its lines in category ``c`` (quantity x unit price - line discount), ``m_c`` the
category's multiplier (1 when the program names none), ``u`` the points per currency unit and ``k``
the member's tier multiplier just before the order::

    points = floor( u * k * R * sum_c (a_c / sum_c a_c) * m_c )

so the revenue is shared among categories by the lines' weights (an order-level discount lowers every
category alike), and an order without lines earns ``floor(u * k * R)``. The arithmetic is exact
(decimals wide enough to hold every product), and only the result is rounded down. An order in
another currency than the program's earns nothing (no conversion is guessed).

>>> from datetime import UTC, datetime
>>> from decimal import Decimal
>>> from aftersales.core.loyalty.program import parse_program
>>> p = parse_program({"earn": {"category_multipliers": {"bikes": 2}}})
>>> o = OrderFacts("o1", "m", datetime(2024, 1, 1, tzinfo=UTC), Decimal("90.00"), "USD",
...                lines=(("bikes", Decimal("60")), ("locks", Decimal("40"))))
>>> order_points(p, o, Decimal("1.5"))  # floor(1.5 * 90 * (0.6 * 2 + 0.4 * 1)) = floor(216)
216
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import ROUND_FLOOR, Context, Decimal
from functools import cached_property

from aftersales.core.loyalty.program import Program

__all__ = ["BonusFact", "OrderFacts", "order_points"]


@dataclass(frozen=True)
class OrderFacts:
    """What the ledger needs to know of one order, as the store holds it now."""

    order_id: str
    member_id: str
    ordered_at: datetime
    revenue: Decimal
    currency: str
    lines: tuple[tuple[str | None, Decimal], ...] = ()  # (category, net line amount)
    delivered_at: datetime | None = None
    returned_at: datetime | None = None
    cancelled_at: datetime | None = None
    status: str = "placed"

    @cached_property
    def key(self) -> str:
        """The order's lot and earn key."""
        return f"order:{self.order_id}"

    def reversed_at(self) -> datetime | None:
        """When the order stopped counting: returned or cancelled (the order time when the status says
        so without a time), never before it was placed; ``None`` while it stands."""
        when = self.returned_at or self.cancelled_at
        if when is None and self.status in ("returned", "cancelled"):
            when = self.ordered_at
        return None if when is None else max(when, self.ordered_at)

    def release_at(self, window_days: int) -> datetime:
        """The end of the return window: ``window_days`` after delivery (after the order while undelivered)."""
        return (self.delivered_at or self.ordered_at) + timedelta(days=window_days)


@dataclass(frozen=True)
class BonusFact:
    """Something that earns a bonus once: a review (an event), a survey answer, a product registration."""

    kind: str  # review_written | survey_answered | product_registered
    ref: str  # the event, response or registration id
    member_id: str
    at: datetime

    @property
    def key(self) -> str:
        return f"bonus:{self.kind}:{self.ref}"


_EXACT = Context(prec=200, rounding=ROUND_FLOOR)  # wide enough that no product of the inputs is rounded


def order_points(program: Program, order: OrderFacts, tier_multiplier: Decimal) -> int:
    """The points ``order`` earns at a tier multiplier (module docstring's formula).

    Decimal products of the inputs are exact at 200 digits; the one division is an integer division
    of positive numbers, i.e. the floor, so the result equals the exact rational's floor."""
    if order.currency != program.currency or order.revenue <= 0:
        return 0
    c = _EXACT
    base = c.multiply(c.multiply(program.points_per_unit, tier_multiplier), order.revenue)
    total = weighted = Decimal(0)
    for category, amount in order.lines:
        if amount > 0:
            total = c.add(total, amount)
            weighted = c.add(weighted, c.multiply(amount, program.multiplier(category)))
    if total > 0:
        return int(c.divide_int(c.multiply(base, weighted), total))
    return int(c.to_integral_value(base))
