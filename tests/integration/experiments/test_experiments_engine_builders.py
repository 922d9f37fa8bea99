"""Ibis builders run on DuckDB: capping, summary statistics and outcomes agree with numpy by hand."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import ibis
import numpy as np
import pandas as pd
import pytest

from aftersales.adapters.engines import open_tables
from aftersales.core.errors import MissingColumnError, ValidationError
from aftersales.core.experiments.capping import capped_column, winsorize
from aftersales.core.experiments.outcomes import order_outcomes
from aftersales.core.experiments.summaries import MetricSpec, outcome_metrics, summary_statistics
from aftersales.services.analytical.experiments import analyze_outcomes, analyze_summary


@pytest.fixture(scope="module")
def customers() -> pd.DataFrame:
    rng = np.random.default_rng(7)
    n = 3000
    pre = np.where(rng.random(n) < 0.6, 0.0, rng.lognormal(3, 1, n))
    variant = rng.choice(["control", "b", "c"], n)
    revenue = np.where(rng.random(n) < 0.7, 0.0, rng.lognormal(3, 1.2, n)) + 0.3 * pre
    return pd.DataFrame(
        {
            "customer_id": [f"c{i}" for i in range(n)],
            "variant": variant,
            "country": rng.choice(["FR", "DE"], n),
            "revenue": revenue,
            "pre_revenue": pre,
            "orders": rng.poisson(1.0, n).astype("int64"),
            "repeat_purchase": rng.random(n) < 0.3,
        }
    )


@pytest.mark.parametrize(
    "kw",
    [dict(upper=0.95), dict(upper=0.9, ignore_zeros=True), dict(upper=0.99, lower=0.01), dict(upper=None, lower=0.2)],
)
def test_engine_capping_equals_numpy(customers, kw):
    t = ibis.memtable(customers[["customer_id", "revenue"]].assign(revenue=customers.revenue - 5))
    got = capped_column(t, "revenue", **kw).to_pandas().sort_values("customer_id")["revenue"].to_numpy()
    expected, _ = winsorize((customers.revenue - 5).to_numpy(), **kw)
    order = np.argsort(customers.customer_id.to_numpy())
    assert got == pytest.approx(expected[order], rel=1e-12)


def test_winsorize_by_hand_and_errors():
    capped, (lo, hi) = winsorize(np.array([-50.0, 1, 2, 3, 4, 100]), upper=0.8, lower=0.2)
    assert (lo, hi) == (1.0, 4.0)
    assert capped.tolist() == [1.0, 1, 2, 3, 4, 4]
    assert winsorize(np.zeros(3), ignore_zeros=True)[1] == (None, None)
    with pytest.raises(ValueError):
        winsorize(np.ones(3), upper=1.5)
    with pytest.raises(ValueError):
        winsorize(np.ones(3), upper=0.1, lower=0.5)


def test_summary_statistics_equal_numpy_sums(customers):
    t = ibis.memtable(customers)
    specs = outcome_metrics(t, exclude=("customer_id", "country"))
    assert set(specs) == {"revenue", "orders", "repeat_purchase"}
    assert specs["revenue"].covariate == "pre_revenue" and specs["repeat_purchase"].kind == "proportion"
    specs["revenue_per_order"] = MetricSpec("revenue", denominator="orders")
    df = summary_statistics(t, specs, by=["country"]).to_pandas()
    assert len(df) == 4 * 2 * 3
    row = df[(df.metric == "revenue") & (df.variant == "b") & (df.country == "FR")].iloc[0]
    sub = customers[(customers.variant == "b") & (customers.country == "FR")]
    y, x = sub.revenue.to_numpy(), sub.pre_revenue.to_numpy()
    assert row.n == len(sub)
    assert (row["sum"], row.sum_squares, row.pre_sum, row.pre_sum_squares, row.cross_sum) == pytest.approx(
        (y.sum(), (y * y).sum(), x.sum(), (x * x).sum(), (x * y).sum()), rel=1e-12
    )
    ratio = df[(df.metric == "revenue_per_order") & (df.variant == "b") & (df.country == "FR")].iloc[0]
    d = sub.orders.to_numpy(float)
    assert ratio.kind == "ratio"
    assert (ratio.denominator_sum, ratio.denominator_sum_squares, ratio.denominator_cross_sum) == pytest.approx(
        (d.sum(), (d * d).sum(), (y * d).sum()), rel=1e-12
    )
    with pytest.raises(MissingColumnError, match="nope"):
        summary_statistics(t, ["nope"])
    with pytest.raises(ValidationError):
        summary_statistics(t, [])


def test_outcomes_path_equals_summary_path(customers):
    with open_tables({"outcomes": customers.drop(columns=["country"])}) as source:
        via_outcomes = analyze_outcomes(source)
    df = summary_statistics(
        ibis.memtable(customers), outcome_metrics(ibis.memtable(customers.drop(columns=["country"])))
    ).to_pandas()
    df = df.assign(_c=df.variant != "control").sort_values(["metric", "_c", "variant"]).drop(columns="_c")
    via_stats = analyze_summary(df, control="control").results.set_index(["metric", "variant"])
    got = via_outcomes.results.set_index(["metric", "variant"]).loc[via_stats.index]
    assert via_outcomes.control == "control"
    assert got["lift"].to_numpy() == pytest.approx(via_stats["lift"].to_numpy(), rel=1e-10)
    assert got["p_value"].to_numpy() == pytest.approx(via_stats["p_value"].to_numpy(), rel=1e-10)
    assert "cuped_theta" in got.columns


def test_capping_in_outcomes_changes_revenue_only(customers):
    with open_tables({"outcomes": customers}) as source:
        plain = analyze_outcomes(source, by=["country"]).results.set_index(["metric", "country", "variant"])
        capped = analyze_outcomes(source, by=["country"], cap_upper=0.5, cap_ignore_zeros=True)
    capped = capped.results.set_index(["metric", "country", "variant"])
    assert not np.allclose(capped.loc["revenue", "mean"], plain.loc["revenue", "mean"])
    assert np.allclose(capped.loc["repeat_purchase", "mean"], plain.loc["repeat_purchase", "mean"])


def test_order_outcomes_by_hand():
    t0 = datetime(2026, 1, 10, tzinfo=UTC)
    ts = "datetime64[us, UTC]"
    exposures = pd.DataFrame({"customer_id": ["a", "b", "c"], "variant": ["control", "t", "t"], "exposed_at": [t0] * 3})
    orders = pd.DataFrame(
        {
            "order_id": list("123456"),
            "customer_id": ["a", "a", "b", "b", "c", "c"],
            "status": ["paid", "paid", "cancelled", "paid", "paid", "paid"],
            "ordered_at": [t0 + timedelta(days=d) for d in (1, -3, 2, 40, -100, 5)],
            "cancelled_at": [None] * 6,
            "returned_at": [None] * 5 + [t0 + timedelta(days=9)],
            "revenue": [10.0, 20, 30, 40, 50, 60],
        }
    ).astype({"cancelled_at": ts, "returned_at": ts})
    out = order_outcomes(ibis.memtable(exposures), ibis.memtable(orders), window_days=30, pre_days=30)
    got = out.to_pandas().sort_values("customer_id").reset_index(drop=True)
    assert got.repeat_purchase.tolist() == [True, False, False]
    assert got.orders.tolist() == [1, 0, 0]
    assert got.revenue.tolist() == [10.0, 0.0, 0.0]
    assert got.pre_revenue.tolist() == [20.0, 0.0, 0.0]
    with pytest.raises(ValidationError):
        order_outcomes(ibis.memtable(exposures), ibis.memtable(orders), window_days=0)
