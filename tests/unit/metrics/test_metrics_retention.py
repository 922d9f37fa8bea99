from datetime import date

import pytest

from aftersales.core.metrics.periods import Periods, calendar_periods, custom_period
from aftersales.core.metrics.registry import Context, get_metric
from aftersales.core.metrics.retention import retention_formula


def rates(name, tables, periods: Periods, **context):
    """Metric ``name`` as the registry builds it (``as_of`` is not read by the retention metrics)."""
    return get_metric(name).build(tables, Context(periods, as_of=date(2024, 1, 1), **context))


def test_founding_text_example():
    assert retention_formula(start=200, end=220, new=40) == pytest.approx(90.0)


def test_monthly_retention_and_churn_by_hand(tables, run, utc, order):
    t = tables(
        orders=[
            order("1", "a", utc(2023, 12, 5)),
            order("2", "b", utc(2023, 11, 5)),  # outside the 40-day window at Jan 1
            order("3", "a", utc(2024, 1, 5)),
            order("4", "c", utc(2024, 1, 1)),  # exactly at the boundary: new in January, not in S
            order("5", "d", utc(2024, 2, 1), status="returned"),  # only returns: never a customer
        ]
    )
    p = calendar_periods("month", date(2024, 1, 1), date(2024, 3, 1))
    ret = run(rates("retention_rate", t, p, window_days=40))
    assert [(r["S"], r["E"], r["N"], r["value"]) for r in ret] == [(1, 2, 1, 100.0), (2, 0, 0, 0.0)]
    ch = run(rates("churn_rate", t, p, window_days=40))
    assert [(r["lost"], r["value"]) for r in ch] == [(0, 0.0), (2, 100.0)]


def test_zero_start_is_undefined_not_an_error(tables, run, utc, order):
    t = tables(orders=[order("1", "a", utc(2024, 1, 10))])
    rows = run(rates("retention_rate", t, custom_period(date(2024, 1, 1), date(2024, 2, 1))))
    assert rows[0]["S"] == 0 and rows[0]["value"] is None and rows[0]["N"] == 1


def test_boundary_in_reporting_zone(tables, run, utc, order):
    # 2024-03-31 22:30 UTC is already April 1st in Oslo (UTC+2 after the DST change).
    t = tables(orders=[order("1", "a", utc(2024, 2, 10)), order("2", "b", utc(2024, 3, 31, 22, 30))])
    p = calendar_periods("month", date(2024, 3, 1), date(2024, 5, 1), "Europe/Oslo")
    rows = run(rates("retention_rate", t, p))
    assert [(r["period"], r["N"]) for r in rows] == [(date(2024, 3, 1), 0), (date(2024, 4, 1), 1)]
    rows_utc = run(rates("retention_rate", t, calendar_periods("month", date(2024, 3, 1), date(2024, 5, 1))))
    assert [r["N"] for r in rows_utc] == [1, 0]


def test_reactivation_and_segments(tables, run, utc, order):
    t = tables(
        customers=[{"customer_id": "a", "country": "NO"}, {"customer_id": "b", "country": "SE"}],
        orders=[
            order("1", "a", utc(2022, 12, 20)),
            order("2", "a", utc(2024, 1, 20)),  # lapsed at Jan 1 2024 (W=365), back in January
            order("3", "b", utc(2023, 12, 20)),
        ],
    )
    p = custom_period(date(2024, 1, 1), date(2024, 2, 1))
    rows = run(rates("retention_rate", t, p, by="country"))
    assert [(r["segment"], r["S"], r["E"], r["reactivated"], r["value"]) for r in rows] == [
        ("NO", 0, 1, 1, None),
        ("SE", 1, 1, 0, 100.0),
    ]


def test_contractual_churn_from_subscriptions(tables, run, utc):
    t = tables(
        subscriptions=[
            {"subscription_id": "s1", "customer_id": "a", "started_at": utc(2023, 6, 1)},
            {
                "subscription_id": "s2",
                "customer_id": "b",
                "started_at": utc(2023, 6, 1),
                "cancelled_at": utc(2024, 1, 9),
            },
            {"subscription_id": "s3", "customer_id": "c", "started_at": utc(2024, 1, 3)},
        ]
    )
    p = custom_period(date(2024, 1, 1), date(2024, 2, 1))
    [r] = run(rates("contractual_churn_rate", t, p))
    assert (r["metric"], r["S"], r["E"], r["N"], r["lost"], r["value"]) == ("contractual_churn_rate", 2, 2, 1, 1, 50.0)
