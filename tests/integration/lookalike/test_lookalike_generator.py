"""The lookalike report on the generator's store, whose truth says what makes a customer valuable.

In the synthetic store (docs/generator.md) value comes only from latent traits: purchase rate λ,
dropout p and spend level ν. Acquisition channel and country are drawn independently of them. So the
report must rank first the traits that reveal λ and ν (orders, recency, revenue, AOV, the first
order's value, registrations and categories, which follow orders and their value), find nothing in
acquisition, and its scores must track the true expected value. A planted trait (a channel given to
most truly valuable customers) must be found with a risk ratio whose interval excludes 1.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pytest
from scipy.stats import spearmanr

from aftersales.adapters.engines import open_dataframes
from aftersales.core.synthetic import generate_store
from aftersales.services.analytical.lookalike import LookalikeOptions, lookalike_report, lookalike_scores

AS_OF = date(2025, 1, 1)
NOW = datetime(2025, 1, 1, tzinfo=UTC)
TRUTH_DRIVEN_NUMBERS = {"orders", "revenue", "aov", "days_since_last_order", "first_order_value", "registrations"}
TRUTH_DRIVEN_NUMBERS |= {"tickets"}  # tickets come per order
TRUTH_DRIVEN_PREFIXES = ("bought:", "nps_class=", "first_category=")  # categories follow value; NPS follows orders


def _truth_driven(trait: str) -> bool:
    return trait in TRUTH_DRIVEN_NUMBERS or trait.startswith(TRUTH_DRIVEN_PREFIXES)


@pytest.fixture(scope="module")
def store():
    return generate_store(20_000, seed=11, as_of=AS_OF)


@pytest.fixture(scope="module")
def report(store):
    with open_dataframes(store.tables) as source:
        return lookalike_report(source, NOW)


@pytest.mark.slow
def test_the_truly_high_value_traits_rank_first_and_acquisition_sets_nobody_apart(report):
    assert report.customers > 19_000 and report.high_value == pytest.approx(0.2 * report.customers, rel=0.01)
    ranked = [t.trait for t in report.traits]
    assert all(_truth_driven(t) for t in ranked[:10]), ranked[:10]
    by_name = {t.trait: t for t in report.traits}
    acquisition = [t for t in report.traits if t.trait.startswith(("acquisition_channel=", "country="))]
    assert len(acquisition) == 6 + 8
    assert max(abs(t.smd) for t in acquisition) < 0.1
    assert min(ranked.index(t.trait) for t in acquisition) > 15
    # ν (spend level) shows in the first order and in the expensive category; λ in orders and recency
    assert by_name["first_order_value"].smd > 0.3
    espresso = by_name["bought:espresso_machines"]
    assert espresso.risk_ratio_low is not None and espresso.risk_ratio_low > 2.0
    assert by_name["orders"].smd > 0.8 and by_name["days_since_last_order"].smd < -0.8
    assert any(line.startswith("Nothing in acquisition sets them apart") for line in report.summary)


@pytest.mark.slow
def test_the_holdout_check_beats_chance_by_far(report):
    check = report.check
    assert check is not None and check.calibration == "isotonic"
    assert check.test_cutoff == datetime(2024, 1, 2, tzinfo=UTC) and check.train_cutoff == datetime(
        2023, 1, 2, tzinfo=UTC
    )
    assert check.holdout.auc > 0.8 and check.holdout.top_decile_lift > 2.5
    assert check.upgrade is not None and check.upgrade.auc > 0.75
    top = check.holdout.calibration[-1]
    assert abs(top.mean_predicted - top.observed_rate) < 0.1  # calibrated where it matters
    assert len(report.candidates) == 10 and report.notes == ()


@pytest.mark.slow
def test_scores_cover_every_customer_and_track_the_true_value(store):
    with open_dataframes(store.tables) as source:
        scores = lookalike_scores(source, NOW)
    assert scores.schema == pa.schema([("customer_id", pa.string()), ("lookalike_score", pa.float64())])
    assert scores.num_rows == store.tables["customers"].num_rows
    p = scores["lookalike_score"].to_numpy()
    assert p.min() >= 0.0 and p.max() <= 1.0
    truth = store.customer_truth
    value = dict(zip(truth["customer_id"].to_pylist(), _true_value(truth), strict=True))
    rho = spearmanr(p, [value[c] for c in scores["customer_id"].to_pylist()]).statistic
    assert rho > 0.5


@pytest.mark.slow
def test_a_large_training_set_is_sampled_and_still_ranks(store):
    with open_dataframes(store.tables) as source:
        report = lookalike_report(source, NOW, LookalikeOptions(max_training_rows=2_000))
    assert report.check is not None and report.check.train_customers > 5_000
    assert report.check.calibration == "sigmoid"  # 2,000 sampled rows: below the isotonic minimum
    assert report.check.holdout.auc > 0.8


def _true_value(truth: pa.Table) -> np.ndarray:
    """Expected spend per week while alive, zero for customers who dropped out: λ · E[order value]."""
    lam = truth["lambda_per_week"].to_numpy()
    mov = truth["mean_order_value"].to_numpy()
    alive = truth["alive"].to_numpy(zero_copy_only=False)
    return lam * mov * alive


@pytest.mark.slow
def test_a_planted_channel_is_found_with_its_risk_ratio():
    store = generate_store(4_000, seed=5, as_of=AS_OF)
    value = _true_value(store.customer_truth)
    top = value >= np.quantile(value, 0.8)
    rng = np.random.default_rng(0)
    partner = np.where(top, rng.random(value.size) < 0.6, rng.random(value.size) < 0.03)
    customers = store.tables["customers"]
    channel = pc.if_else(pa.array(partner), pa.scalar("partner"), customers["acquisition_channel"])
    tables = dict(store.tables)
    tables["customers"] = customers.set_column(
        customers.schema.get_field_index("acquisition_channel"), "acquisition_channel", channel
    )
    with open_dataframes(tables) as source:
        report = lookalike_report(source, NOW)
    acquisition = [t for t in report.traits if t.group == "acquisition"]
    planted = acquisition[0]
    assert planted.trait == "acquisition_channel=partner"
    assert planted.risk_ratio_low is not None and planted.risk_ratio_low > 2.0
    assert planted.difference_low is not None and planted.difference_low > 0.1
    countries = [t for t in acquisition if t.trait.startswith("country=")]
    assert max(abs(t.smd) for t in countries) < 0.1  # untouched: flat
    others = [t for t in acquisition if t.trait.startswith("acquisition_channel=") and t is not planted]
    assert all(t.smd < 0 for t in others)  # the planted channel displaced the others among the valuable
    assert any(line.startswith("Acquired through partner:") for line in report.summary)
