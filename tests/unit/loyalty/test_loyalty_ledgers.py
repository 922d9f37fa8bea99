"""Hand-computed ledgers: earn, lock, release on day 31, reverse on return, FIFO expiry, claw-back."""

from __future__ import annotations

import json

import pytest
from loyalty_helpers import Ledger, day, order, program

from aftersales.core.loyalty import InsufficientPoints


def test_earn_lock_and_release_on_day_31() -> None:
    led = Ledger(program(), orders=[order("o1", 0, "100.00")])
    led.process(day(0))
    assert led.kinds() == [("order:o1", "earn", 100, 0), ("order:o1:lock", "lock", 0, 100)]
    held = led.state(day(29.99))
    assert (held.balance, held.locked, held.available) == (100, 100, 0)
    assert led.process(day(29.99)) == []
    new = led.process(day(30))  # 2024-01-31 00:00: day 31 of the month, the window of 30 days has ended
    assert [(e.kind, e.locked, e.occurred_at) for e in new] == [("release", -100, day(30))]
    assert (led.state(day(30)).available, led.state(day(30)).locked) == (100, 0)
    assert led.process(day(60)) == []  # nothing more to write: re-processing changes nothing


def test_the_window_runs_from_delivery() -> None:
    led = Ledger(program(), orders=[order("o1", 0, 50, delivered_at=5)])
    led.process(day(34))
    assert led.state(day(34)).locked == 50
    led.process(day(35))
    assert led.state(day(35)).locked == 0


def test_a_return_in_the_window_reverses_the_locked_points() -> None:
    led = Ledger(program(), orders=[order("o1", 0, 80), order("o2", 1, 20)])
    led.process(day(2))
    led.orders[0] = order("o1", 0, 80, returned_at=10, status="returned")
    new = led.process(day(40))
    assert [(e.key, e.kind, e.points, e.locked, e.occurred_at) for e in new] == [
        ("order:o1:reverse", "reverse", -80, -80, day(10)),
        ("order:o2:release", "release", 0, -20, day(31)),
    ]
    s = led.state(day(40))
    assert (s.balance, s.locked, s.available) == (20, 0, 20)
    assert led.process(day(41)) == []


def test_a_cancelled_order_earns_and_is_reversed_the_same_way_late_or_on_time() -> None:
    late = Ledger(program(), orders=[order("o1", 0, 70, cancelled_at=0.5, status="cancelled")])
    late.process(day(90))
    on_time = Ledger(program(), orders=[order("o1", 0, 70)])
    on_time.process(day(0.25))
    on_time.orders = [order("o1", 0, 70, cancelled_at=0.5, status="cancelled")]
    on_time.process(day(90))
    assert (
        late.kinds()
        == on_time.kinds()
        == [
            ("order:o1", "earn", 70, 0),
            ("order:o1:lock", "lock", 0, 70),
            ("order:o1:reverse", "reverse", -70, -70),
        ]
    )
    assert late.state(day(90)).balance == 0


def test_a_return_after_release_takes_back_what_was_spent_from_other_lots_never_below_zero() -> None:
    led = Ledger(program(), orders=[order("a", 0, 100), order("b", 31, 50)])
    led.process(day(31))  # a released on day 30, b earned and locked
    led.redeem(80, "r1", day(35))  # from lot a (the only available one)
    led.process(day(70))  # b released on day 61
    led.orders[0] = order("a", 0, 100, returned_at=69, status="returned")
    led.process(day(70))
    rows = [r for r in led.rows if r.key == "order:a:reverse"]
    assert [(r.lot_id, r.points, r.locked) for r in rows] == [("order:a", -20, 0), ("order:b", -50, 0)]
    assert json.loads(rows[0].detail or "{}") == {"unrecovered": 30}
    s = led.state(day(70))
    assert (s.balance, s.available, s.lot_sum) == (0, 0, 0)


def test_fifo_redemption_means_expiry_never_takes_spent_points() -> None:
    """The "balance collapse": all-time debits (150) against unexpired credits (100) would leave
    nothing; drawing by lot leaves the 50 points of the lot that has not expired."""
    led = Ledger(program(), orders=[order("a", 0, 100), order("b", 152, 100)])
    led.process(day(190))
    spent = led.redeem(150, "r1", day(196))
    assert [(e.lot_id, e.points) for e in spent] == [("order:a", -100), ("order:b", -50)]
    assert led.process(day(366)) == []  # lot a expired on day 365 with nothing left: nothing to write off
    assert led.state(day(366)).balance == 50
    new = led.process(day(600))
    assert [(e.key, e.points, e.occurred_at) for e in new] == [("expire:order:b", -50, day(152 + 365))]
    assert led.state(day(600)).balance == 0


def test_expiry_writes_off_only_the_rest_of_its_own_lot() -> None:
    led = Ledger(program(), orders=[order("a", 0, 100), order("b", 152, 100)])
    led.process(day(190))
    led.redeem(30, "r1", day(196))
    assert led.state(day(364)).balance == 170
    assert led.state(day(365)).balance == 100  # lot a's 70 stop counting at its date, row or not
    assert led.state(day(365)).pending_expiry == 70
    new = led.process(day(365))
    assert [(e.key, e.points) for e in new] == [("expire:order:a", -70)]
    assert (led.state(day(365)).balance, led.state(day(365)).pending_expiry) == (100, 0)


def test_expired_points_cannot_be_redeemed_even_before_the_expire_row() -> None:
    led = Ledger(program(), orders=[order("a", 0, 100)])
    led.process(day(40))
    with pytest.raises(InsufficientPoints, match="0 available, 10 needed"):
        led.redeem(10, "r1", day(365))


def test_locked_points_cannot_be_redeemed_and_a_redemption_never_overdraws() -> None:
    led = Ledger(program(), orders=[order("a", 0, 100), order("b", 20, 40)])
    led.process(day(31))
    with pytest.raises(InsufficientPoints) as caught:
        led.redeem(101, "r1", day(31))
    assert (caught.value.wanted, caught.value.available) == (101, 100)
    led.redeem(100, "r2", day(31))
    assert led.state(day(31)).available == 0 and led.state(day(31)).balance == 40


def test_a_manual_award_is_a_lot_and_a_deduction_draws_fifo() -> None:
    led = Ledger(program(), orders=[order("a", 0, 100)])
    led.process(day(31))
    assert [(e.kind, e.points, e.expires_at) for e in led.adjust(25, "g1", day(40))] == [("adjust", 25, day(405))]
    assert [(e.lot_id, e.points) for e in led.adjust(-110, "c1", day(41))] == [("order:a", -100), ("adjust:g1", -10)]
    with pytest.raises(InsufficientPoints):
        led.adjust(-16, "c2", day(42))


def test_bonuses_earn_once_without_a_lock() -> None:
    from aftersales.core.loyalty import BonusFact

    p = program(earn={"bonuses": {"survey_answered": 20, "product_registered": 100}})
    led = Ledger(
        p, bonuses=[BonusFact("survey_answered", "r1", "m", day(3)), BonusFact("review_written", "e1", "m", day(3))]
    )
    led.bonuses.append(BonusFact("product_registered", "g1", "m", day(4)))
    led.process(day(5))
    assert led.kinds() == [("bonus:survey_answered:r1", "earn", 20, 0), ("bonus:product_registered:g1", "earn", 100, 0)]
    assert led.state(day(5)).available == 120
    assert led.process(day(5)) == []


def test_category_multipliers_and_other_currencies() -> None:
    from decimal import Decimal

    p = program(earn={"points_per_unit": 2, "category_multipliers": {"bikes": 3}})
    lines = (("bikes", Decimal("30")), ("locks", Decimal("10")), (None, Decimal("0")))
    led = Ledger(p, orders=[order("a", 0, "19.99", lines=lines), order("b", 0, 100, currency="EUR")])
    led.process(day(1))
    # floor(2 * 19.99 * (0.75 * 3 + 0.25 * 1)) = floor(99.95) = 99; the EUR order earns nothing
    assert led.kinds() == [("order:a", "earn", 99, 0), ("order:a:lock", "lock", 0, 99)]
