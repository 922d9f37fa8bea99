"""Properties over random histories driven through the core's writers: lots always sum to the
balance, nothing goes below zero, re-processing writes nothing, and settling late equals settling
on time."""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from loyalty_helpers import Ledger, day, order, program

from aftersales.core.loyalty import BonusFact, InsufficientPoints, derive, lots_of

TIERS = {
    "window_days": 120,
    "retain_days": 20,
    "levels": [
        {"name": "member", "min_points": 0},
        {"name": "silver", "min_points": 300, "earn_multiplier": 1.5},
        {"name": "gold", "min_points": 900, "earn_multiplier": 2},
    ],
}
PROGRAM = program(
    tiers=TIERS,
    expiry={"active_days": 90},
    lock={"return_window_days": 30},
    earn={"bonuses": {"survey_answered": 15}},
)

orders = st.lists(
    st.tuples(
        st.integers(0, 400),  # ordered on day
        st.integers(0, 500),  # revenue
        st.one_of(st.none(), st.integers(0, 60)),  # returned this many days later
        st.one_of(st.none(), st.integers(0, 10)),  # delivered this many days later
    ),
    max_size=12,
)
actions = st.lists(
    st.tuples(st.sampled_from(["process", "redeem", "adjust", "deduct"]), st.integers(1, 400), st.integers(1, 600)),
    max_size=25,
)


def _orders(raw: list[tuple[int, int, int | None, int | None]]) -> list[Any]:
    made = []
    for i, (at, revenue, back, delivered) in enumerate(raw):
        kw: dict[str, Any] = {}
        if back is not None:
            kw.update(returned_at=at + back, status="returned")
        if delivered is not None:
            kw["delivered_at"] = at + delivered
        made.append(order(f"o{i}", at, revenue, **kw))
    return made


def _check(led: Ledger, at: Any) -> None:
    s = derive(led.rows, at)
    lots = lots_of(led.rows)
    assert all(lot.remaining >= 0 and 0 <= lot.locked <= lot.remaining for lot in lots.values())
    assert s.balance == s.lot_sum >= 0 and s.available >= 0
    assert sum(r.points for r in led.rows if r.occurred_at <= at) == s.balance + s.pending_expiry


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(orders, actions)
def test_lots_sum_to_the_balance_and_nothing_goes_below_zero(raw_orders, raw_actions) -> None:
    led = Ledger(PROGRAM, orders=_orders(raw_orders), bonuses=[BonusFact("survey_answered", "s1", "m", day(50))])
    for n, (action, when, points) in enumerate(sorted(raw_actions, key=lambda a: a[1])):
        at = day(when)
        try:
            if action == "process":
                led.process(at)
                assert led.process(at) == []  # re-processing the same orders changes nothing
            elif action == "redeem":
                led.redeem(points, f"r{n}", at)
            elif action == "adjust":
                led.adjust(points, f"a{n}", at)
            else:
                led.adjust(-points, f"d{n}", at)
        except InsufficientPoints as exc:
            assert exc.available < points == exc.wanted
        _check(led, at)
    led.process(day(900))
    _check(led, day(900))
    assert derive(led.rows, day(900)).balance == sum(  # only never-expiring awards outlive day 900
        r.points for r in led.rows if r.key.startswith("adjust:a") and r.expires_at is None
    )


@settings(max_examples=150, deadline=None)
@given(orders, st.lists(st.integers(0, 500), max_size=12))
def test_settling_late_writes_the_same_rows_as_settling_on_time(raw_orders, moments) -> None:
    facts = _orders(raw_orders)
    late = Ledger(PROGRAM, orders=facts)
    late.process(day(600))
    on_time = Ledger(PROGRAM, orders=facts)
    for m in sorted(moments):
        on_time.process(day(m))
    on_time.process(day(600))
    assert sorted(late.rows, key=lambda r: (r.key, r.line)) == sorted(on_time.rows, key=lambda r: (r.key, r.line))


money = st.decimals(min_value=0, max_value=10**9, places=2, allow_nan=False, allow_infinity=False)
factor = st.decimals(min_value=0, max_value=100, places=3, allow_nan=False, allow_infinity=False)


@settings(max_examples=300, deadline=None)
@given(money, factor, factor, st.lists(st.tuples(st.sampled_from(["a", "b", None]), money), max_size=5))
def test_order_points_equal_the_floor_of_the_exact_rational(revenue, per_unit, tier, lines) -> None:
    from fractions import Fraction
    from math import floor

    from aftersales.core.loyalty import order_points

    p = program(earn={"points_per_unit": str(per_unit), "category_multipliers": {"a": "2.5", "b": "0.125"}})
    o = order("o", 0, revenue, lines=tuple(lines))
    weights = [(Fraction(a), Fraction(p.multiplier(c))) for c, a in lines if a > 0]
    total = sum(a for a, _ in weights)
    share = sum(a * m for a, m in weights) / total if total else Fraction(1)
    expected = floor(Fraction(per_unit) * Fraction(tier) * Fraction(revenue) * share) if revenue > 0 else 0
    assert order_points(p, o, tier) == expected
