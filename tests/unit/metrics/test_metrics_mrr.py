from datetime import date

import pytest

from aftersales.core.metrics.mrr import mrr_churn, mrr_churn_formula, mrr_movements, net_mrr_churn
from aftersales.core.metrics.periods import calendar_periods


@pytest.fixture
def subs(tables, utc):
    def s(sid, c, start, cancel=None):
        return {"subscription_id": sid, "customer_id": c, "started_at": start, "cancelled_at": cancel}

    def h(sid, at, mrr):
        return {"subscription_id": sid, "effective_at": at, "mrr": mrr}

    return tables(
        subscriptions=[
            s("s1", "a", utc(2023, 12, 1)),
            s("s2", "b", utc(2023, 12, 1), utc(2024, 1, 15)),
            s("s3", "c", utc(2024, 1, 10)),
            s("s4", "d", utc(2023, 11, 1)),
        ],
        subscription_mrr=[
            h("s1", utc(2023, 12, 1), 100.0),
            h("s1", utc(2024, 1, 20), 150.0),  # expansion
            h("s2", utc(2023, 12, 1), 50.0),  # churned on Jan 15
            h("s3", utc(2024, 1, 10), 30.0),  # new
            h("s4", utc(2023, 11, 1), 20.0),
            h("s4", utc(2023, 11, 20), 0.0),
            h("s4", utc(2024, 1, 3), 25.0),  # reactivation
        ],
    )


def test_movements_by_hand(subs, run):
    p = calendar_periods("month", date(2024, 1, 1), date(2024, 3, 1))
    jan, feb = run(mrr_movements(subs["subscriptions"], subs["subscription_mrr"], p))
    assert (jan["starting_mrr"], jan["new"], jan["reactivation"], jan["expansion"]) == (150.0, 30.0, 25.0, 50.0)
    assert (jan["contraction"], jan["churned"], jan["ending_mrr"]) == (0.0, 50.0, 205.0)
    assert feb["starting_mrr"] == feb["ending_mrr"] == 205.0 and feb["churned"] == 0.0


def test_gross_and_net_churn(subs, run):
    p = calendar_periods("month", date(2024, 1, 1), date(2024, 2, 1))
    [g] = run(mrr_churn(subs["subscriptions"], subs["subscription_mrr"], p))
    [n] = run(net_mrr_churn(subs["subscriptions"], subs["subscription_mrr"], p))
    assert g["value"] == pytest.approx(50 / 150 * 100)
    assert n["value"] == pytest.approx((50 - 50 - 25) / 150 * 100)


def test_formula_and_zero_start():
    assert mrr_churn_formula(starting=1000, churned=50, contraction=30, expansion=60, reactivation=10) == (8.0, 1.0)
    assert mrr_churn_formula(starting=0, churned=0, contraction=0, expansion=0, reactivation=0) == (None, None)
