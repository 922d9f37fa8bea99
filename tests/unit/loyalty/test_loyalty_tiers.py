"""Tiers on a rolling window of points earned: up and down, retention, reversals, never the balance."""

from __future__ import annotations

import json

from loyalty_helpers import Ledger, day, order, program

from aftersales.core.loyalty import qualifying_spans, tier_at, tier_changes

TIERS = {
    "window_days": 365,
    "levels": [
        {"name": "member", "min_points": 0},
        {"name": "silver", "min_points": 1000, "earn_multiplier": 1.5},
        {"name": "gold", "min_points": 5000, "earn_multiplier": 2},
    ],
}


def _changes(led: Ledger, until: float) -> list[tuple[str, str, int]]:
    t = led.program.tiers
    spans = qualifying_spans(led.rows, t.window_days)
    return [(c.at.date().isoformat(), c.tier, c.qualifying_points) for c in tier_changes(t, spans, day(until))]


def _multiplier(led: Ledger, key: str) -> tuple[str, str]:
    row = next(r for r in led.rows if r.key == key)
    detail = json.loads(row.detail or "{}")
    return detail["tier"], detail["multiplier"]


def test_tier_up_and_down_across_the_rolling_window() -> None:
    led = Ledger(program(tiers=TIERS), orders=[order("a", 0, 600), order("b", 100, 500), order("c", 152, 100)])
    led.process(day(500))
    # c is earned at silver: floor(100 * 1.5) = 150
    assert [(r.key, r.points) for r in led.rows if r.kind == "earn"] == [("order:a", 600), ("order:b", 500),
                                                                          ("order:c", 150)]  # fmt: skip
    assert _multiplier(led, "order:b") == ("member", "1") and _multiplier(led, "order:c") == ("silver", "1.5")
    # up on day 100 (600 + 500); a leaves the window on day 365 (2024-12-31): 650 left, down again
    assert _changes(led, 500) == [("2024-04-10", "silver", 1100), ("2024-12-31", "member", 650)]
    spans = qualifying_spans(led.rows, 365)
    assert [tier_at(led.program.tiers, spans, day(n)).name for n in (99, 100, 364, 365)] == [
        "member", "silver", "silver", "member"]  # fmt: skip


def test_retain_days_delay_the_downgrade_not_the_upgrade() -> None:
    tiers = {**TIERS, "retain_days": 30}
    led = Ledger(program(tiers=tiers), orders=[order("a", 0, 600), order("b", 100, 500)])
    led.process(day(500))
    assert _changes(led, 500) == [("2024-04-10", "silver", 1100), ("2025-01-30", "member", 500)]


def test_the_first_order_earns_at_the_base_tier_whatever_its_size() -> None:
    led = Ledger(program(tiers=TIERS), orders=[order("a", 0, 6000), order("b", 1, 10)])
    led.process(day(2))
    assert _multiplier(led, "order:a") == ("member", "1")
    assert [r.points for r in led.rows if r.kind == "earn"] == [6000, 20]  # b at gold: x2
    assert _changes(led, 2) == [("2024-01-01", "gold", 6000)]


def test_spending_points_never_demotes_and_a_balance_never_promotes() -> None:
    led = Ledger(program(tiers=TIERS), orders=[order("a", 0, 1200)])
    led.process(day(31))
    led.redeem(1200, "r1", day(31))
    assert led.state(day(31)).balance == 0
    spans = qualifying_spans(led.rows, 365)
    assert tier_at(led.program.tiers, spans, day(31)).name == "silver"  # earned 1200, spent them all
    led.adjust(5000, "gift", day(32))  # a manual award is not earned
    assert tier_at(led.program.tiers, qualifying_spans(led.rows, 365), day(32)).name == "silver"


def test_a_reversed_order_stops_qualifying_from_its_return() -> None:
    led = Ledger(program(tiers=TIERS), orders=[order("a", 0, 1200), order("b", 5, 100)])
    led.process(day(5))
    led.orders[0] = order("a", 0, 1200, returned_at=10, status="returned")
    led.process(day(20))
    assert _changes(led, 20) == [("2024-01-01", "silver", 1200), ("2024-01-11", "member", 150)]
    # b was earned while a still counted (x1.5), and keeps its points: late or on time, the same rows
    assert [r.points for r in led.rows if r.key == "order:b"] == [150]


def test_thresholds_are_inclusive() -> None:
    led = Ledger(program(tiers=TIERS), orders=[order("a", 0, 999), order("b", 1, 1)])
    led.process(day(1))
    spans = qualifying_spans(led.rows, 365)
    assert tier_at(led.program.tiers, spans, day(0)).name == "member"
    assert tier_at(led.program.tiers, spans, day(1)).name == "silver"
