from datetime import date

import pytest

from aftersales.core.metrics import revenue as rv
from aftersales.core.metrics.periods import calendar_periods


@pytest.fixture
def orders(tables, utc, order):
    return tables(
        orders=[
            order("1", "a", utc(2023, 12, 5), 10.0),
            order("2", "a", utc(2024, 1, 5), 30.0),
            order("3", "a", utc(2024, 1, 5), 20.0),  # same-day second order: still two orders
            order("4", "b", utc(2024, 1, 31, 23, 59), 40.0),
            order("5", "c", utc(2024, 1, 7), 99.0, status="cancelled"),
            order("6", "b", utc(2024, 3, 2), 60.0),
        ]
    )["orders"]


P = calendar_periods("month", date(2024, 1, 1), date(2024, 4, 1))


def values(run, expr):
    return [(r["period"].month, r["value"]) for r in run(expr)]


def test_repeat_and_returning(orders, run):
    assert values(run, rv.repeat_purchase_ratio(orders, P)) == [(1, 50.0), (2, None), (3, 0.0)]
    assert values(run, rv.returning_customer_rate(orders, P)) == [(1, 50.0), (2, None), (3, 100.0)]


def test_frequency_and_aov(orders, run):
    assert values(run, rv.purchase_frequency(orders, P)) == [(1, 1.5), (2, None), (3, 1.0)]
    assert values(run, rv.average_order_value(orders, P)) == [(1, 30.0), (2, None), (3, 60.0)]


def test_including_returns_counts_cancelled_orders(orders, run):
    jan = run(rv.average_order_value(orders, P, include_returns=True))[0]
    assert (jan["orders"], jan["revenue"]) == (4, 189.0)


def test_revenue_growth_from_existing_customers(orders, run):
    # Jan: existing customers (a) spent 50 against December's 10; Feb: 0 against 90; Mar: 60 against 0.
    rows = run(rv.revenue_growth_existing(orders, P))
    assert [(r["revenue_existing"], r["previous_revenue"], r["value"]) for r in rows] == [
        (50.0, 10.0, 400.0),
        (0.0, 90.0, -100.0),
        (60.0, 0.0, None),
    ]
