"""Historical CLV and CLV tiers on a hand-computed year (as of 2024-01-01, UTC, W = 365 days)."""

from datetime import date

import pytest

from aftersales.core.metrics.clv_historical import clv_tiers, historical_clv

AS_OF = date(2024, 1, 1)  # the year is [2023-01-01, 2024-01-01)


@pytest.fixture
def orders(tables, utc, order):
    return tables(
        orders=[
            order("1", "a", utc(2022, 6, 1), 50.0),  # before the year: a is a customer at its start
            order("2", "a", utc(2023, 3, 1), 100.0),
            order("3", "a", utc(2023, 9, 1), 200.0),
            order("4", "b", utc(2022, 8, 1), 80.0),  # a customer at the start, lost by the end
            order("5", "c", utc(2023, 5, 1), 30.0),  # new in the year
            order("6", "d", utc(2023, 2, 1), 40.0, status="returned"),  # not counted
            order("7", "c", utc(2024, 1, 1), 999.0),  # at as-of: after the year
        ]
    )["orders"]


def test_historical_clv_by_hand(orders, run):
    # customers ordering in the year: a (2 orders, $300) and c (1, $30): AOV 330 / 3 = 110, 1.5 orders each;
    # S = {a, b}, lost = {b}: churn 50 %, lifespan 2 years; CLV = 110 × 1.5 × 2 = 330.
    [row] = run(historical_clv(orders, as_of=AS_OF))
    assert row["customers"] == 2 and row["orders"] == 3 and row["revenue"] == pytest.approx(330.0)
    assert row["average_order_value"] == pytest.approx(110.0)
    assert row["orders_per_year"] == pytest.approx(1.5)
    assert row["churn_rate"] == pytest.approx(50.0) and row["lifespan_years"] == pytest.approx(2.0)
    assert row["value"] == pytest.approx(330.0)


def test_clv_tiers_by_hand(orders, run):
    # per customer CLV = revenue in the year × lifespan: a 600, c 60; the average is 330
    rows = {r["customer_id"]: r for r in run(clv_tiers(orders, as_of=AS_OF))}
    assert set(rows) == {"a", "c"}
    assert (rows["a"]["orders"], rows["a"]["clv"], rows["a"]["tier"]) == (2, pytest.approx(600.0), "above")
    assert (rows["c"]["orders"], rows["c"]["clv"], rows["c"]["tier"]) == (1, pytest.approx(60.0), "below")
    q = {r["customer_id"]: r["tier"] for r in run(clv_tiers(orders, as_of=AS_OF, quantiles=2))}
    assert q == {"c": "1", "a": "2"}
