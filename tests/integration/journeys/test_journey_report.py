"""The journey report on a simulated store with a known lift, checked against the experiment engine
and against figures computed by hand with pandas."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from aftersales.adapters.engines import open_tables
from aftersales.core.errors import ValidationError
from aftersales.core.experiments.assignment import Experiment, HoldoutGroup
from aftersales.core.experiments.srm import srm_p_value
from aftersales.core.journeys import parse_journey
from aftersales.services.analytical.experiments import analyze_outcomes
from aftersales.services.analytical.journey_report import journey_report

T0 = datetime(2026, 3, 1, tzinfo=UTC)
AS_OF = datetime(2026, 6, 1, tzinfo=UTC)
WINDOW = 30
TS = "datetime64[us, UTC]"
# The truth: 20% of holdout customers buy within the window, 30% of journey customers (relative lift
# +50%); in the split, the "discount" variant converts at 40%, "plain" at 30%.
P_HOLDOUT, P_JOURNEY, P_DISCOUNT = 0.20, 0.30, 0.40


@pytest.fixture(scope="module")
def store() -> dict[str, pd.DataFrame]:
    rng = np.random.default_rng(15)
    n = 6000
    ids = [f"c{i:05d}" for i in range(n)]
    held = HoldoutGroup("winback", 0.2, salt="s1").contains_many(ids)
    split = Experiment("winback:offer", ("plain", "discount"), (1, 1), salt="s1")
    variants = split.assign_many(ids)
    entered = [T0 + timedelta(hours=int(h)) for h in rng.integers(0, 24 * 40, n)]
    enrollments = pd.DataFrame(
        {
            "customer_id": ids,
            "arm": np.where(held, "holdout", "journey"),
            "variants_json": [None if h else json.dumps({"offer": v}) for h, v in zip(held, variants, strict=True)],
            "entered_at": pd.Series(entered).astype(TS),
        }
    )
    p = np.where(held, P_HOLDOUT, np.where(np.asarray(variants) == "discount", P_DISCOUNT, P_JOURNEY))
    buys = rng.random(n) < p
    rows = []
    for i in np.flatnonzero(buys):
        at = entered[i] + timedelta(days=float(rng.uniform(0.5, WINDOW - 0.5)))
        rows.append((f"o{i}", ids[i], at, float(rng.lognormal(3.5, 0.5))))
    for i in range(0, n, 3):  # orders before entry (the CUPED covariate) and long after the window
        rows.append((f"p{i}", ids[i], entered[i] - timedelta(days=10), 25.0))
        rows.append((f"q{i}", ids[i], entered[i] + timedelta(days=WINDOW + 5), 99.0))
    orders = pd.DataFrame(rows, columns=["order_id", "customer_id", "ordered_at", "revenue"])
    orders = orders.assign(status="paid", cancelled_at=None, returned_at=None).astype(
        {"ordered_at": TS, "cancelled_at": TS, "returned_at": TS}
    )
    events = pd.DataFrame(
        {
            "event_id": ["e1", "e2", "e3"],
            "customer_id": [ids[0], ids[1], ids[1]],
            "name": ["review.submitted", "review.submitted", "checkout_started"],
            "occurred_at": pd.Series(
                [entered[0] + timedelta(days=2), entered[1] - timedelta(days=1), entered[1]]
            ).astype(TS),
        }
    )
    return {"enrollments": enrollments, "orders": orders, "events": events}


def _journey(goal: str = "order.placed"):
    return parse_journey(
        {
            "name": "winback",
            "trigger": {"event": "segment.entered"},
            "holdout": 0.2,
            "goal": {"event": goal, "within": f"{WINDOW}d"},
            "steps": [
                {
                    "id": "offer",
                    "type": "split",
                    "variants": [
                        {"name": "plain", "weight": 1, "next": "plain-mail"},
                        {"name": "discount", "weight": 1, "next": "discount-mail"},
                    ],
                },
                {"id": "plain-mail", "type": "email", "template": "win-back", "next": "done"},
                {"id": "discount-mail", "type": "email", "template": "win-back"},
                {"id": "done", "type": "exit"},
            ],
        }
    )


def _report(store, goal: str = "order.placed", **kw):
    with open_tables({"orders": store["orders"], "events": store["events"]}) as src:
        exposures = pa.Table.from_pandas(store["enrollments"], preserve_index=False)
        return journey_report(src, exposures, _journey(goal), **{"as_of": AS_OF, **kw})


def test_arm_figures_equal_pandas_by_hand(store):
    report = _report(store)
    e, o = store["enrollments"], store["orders"]
    merged = e.merge(o, on="customer_id", how="left")
    inside = (merged.ordered_at > merged.entered_at) & (merged.ordered_at <= merged.entered_at + timedelta(days=WINDOW))
    per = merged.assign(rev=np.where(inside, merged.revenue, 0.0), hit=inside).groupby("customer_id")
    figures = e.set_index("customer_id").assign(revenue=per.rev.sum(), bought=per.hit.any())
    for arm in report.arms:
        mine = figures[figures.arm == arm.arm]
        assert arm.enrolled == len(mine)
        assert arm.converted == int(mine.bought.sum())
        assert arm.conversion_rate == pytest.approx(mine.bought.mean(), rel=1e-12)
        assert arm.revenue_per_enrolled == pytest.approx(mine.revenue.mean(), rel=1e-9)
        assert arm.churn_rate == pytest.approx(1 - mine.bought.mean(), rel=1e-12)
    assert report.matured == len(e) and report.immature == 0
    assert (report.goal, report.window_days, report.holdout_share) == ("order.placed", WINDOW, 0.2)


def test_holdout_comparison_agrees_with_the_experiment_engine_and_finds_the_known_lift(store):
    report = _report(store)
    res = report.holdout.results.set_index("metric")
    conv = res.loc["converted"]
    assert conv["variant"] == "journey" and conv["control"] == "holdout"
    true_lift = P_JOURNEY_MIXED / P_HOLDOUT - 1
    assert conv["ci_low"] < true_lift < conv["ci_high"]
    assert conv["p_value"] < 1e-6
    # The same outcomes analysed by the experiment engine's own entry point: identical figures.
    e = store["enrollments"]
    merged = e.merge(store["orders"], on="customer_id", how="left")
    inside = (merged.ordered_at > merged.entered_at) & (merged.ordered_at <= merged.entered_at + timedelta(days=WINDOW))
    outcomes = (merged.assign(converted=inside).groupby(["customer_id", "arm"]).converted.any().reset_index()).rename(
        columns={"arm": "variant"}
    )
    with open_tables({"outcomes": outcomes}) as src:
        engine = analyze_outcomes(src, control="holdout").results.set_index("metric").loc["converted"]
    assert conv["lift"] == pytest.approx(engine["lift"], rel=1e-9)
    assert conv["p_value_unadjusted"] == pytest.approx(engine["p_value"], rel=1e-9)
    # Holm over the four metrics: the adjusted p-value is at least the raw one.
    assert (report.holdout.results.p_value >= report.holdout.results.p_value_unadjusted - 1e-15).all()
    # SRM against the expected 20/80 shares.
    n = dict(zip(report.holdout.results.variant, report.holdout.results.n, strict=False))
    expected = srm_p_value([conv["control_n"], n["journey"]], [0.2, 0.8])
    assert conv["srm_p_value"] == pytest.approx(expected, rel=1e-9)
    assert not conv["srm_mismatch"]


# Journey customers are half "plain" (30%) and half "discount" (40%): 35% on average.
P_JOURNEY_MIXED = (P_JOURNEY + P_DISCOUNT) / 2


def test_split_report_compares_variants_among_those_who_reached_the_split(store):
    report = _report(store)
    arms, split = report.splits["offer"]
    assert {a.arm for a in arms} == {"plain", "discount"}
    assert sum(a.enrolled for a in arms) == int((store["enrollments"].arm == "journey").sum())
    conv = split.results.set_index("metric").loc["converted"]
    assert conv["control"] == "plain" and conv["variant"] == "discount"
    assert conv["ci_low"] < P_DISCOUNT / P_JOURNEY - 1 < conv["ci_high"]
    assert conv["p_value"] < 0.001


def test_goal_from_the_events_table_and_immature_enrollments(store):
    report = _report(store, goal="review.submitted")
    total = sum(a.converted for a in report.arms)
    assert total == 1  # c00000 reviewed two days after entry; c00001's review came before entry
    late = _report(store, as_of=T0 + timedelta(days=WINDOW + 20))
    assert late.immature > 0 and late.matured + late.immature == len(store["enrollments"])
    assert any("left out" in note for note in late.notes)


def test_bad_window_is_an_error(store):
    with pytest.raises(ValidationError, match="at least one day"):
        _report(store, window_days=0)
