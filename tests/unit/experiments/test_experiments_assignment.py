"""Assignment: deterministic, sticky, weighted; holdouts independent; re-weighting needs a new salt."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import pytest

from aftersales.core.errors import ConflictError, ValidationError
from aftersales.core.experiments.assignment import Experiment, HoldoutGroup, bucket, check_reassignment, expose
from aftersales.core.experiments.srm import srm_p_value

IDS = [f"cust-{i}" for i in range(20_000)]


def test_same_inputs_same_variant_and_known_bucket():
    exp = Experiment("post-purchase-tone", ("control", "warm"), salt="v1")
    assert exp.assign_many(IDS[:100]) == exp.assign_many(IDS[:100])
    # Pinned value: a change of hash would silently re-bucket every running experiment.
    assert bucket("v1", "post-purchase-tone", "cust-1") == pytest.approx(0.9189952065800068, abs=0)


def test_weights_are_respected():
    exp = Experiment("winback", ("control", "10pct", "20pct"), (2, 1, 1), salt="s")
    got = exp.assign_many(IDS)
    counts = [got.count(v) for v in exp.variants]
    assert srm_p_value(counts, list(exp.weights)) > 0.001
    assert counts[0] / len(IDS) == pytest.approx(0.5, abs=0.02)


def test_salt_and_key_redraw_customers():
    a = Experiment("e", ("a", "b"), salt="1").assign_many(IDS[:2000])
    b = Experiment("e", ("a", "b"), salt="2").assign_many(IDS[:2000])
    c = Experiment("f", ("a", "b"), salt="1").assign_many(IDS[:2000])
    assert 0.4 < np.mean(np.array(a) == np.array(b)) < 0.6
    assert 0.4 < np.mean(np.array(a) == np.array(c)) < 0.6


def test_zero_weight_variant_gets_nobody():
    exp = Experiment("e", ("a", "b", "off"), (1, 1, 0))
    assert "off" not in set(exp.assign_many(IDS[:5000]))


def test_holdout_fraction_and_independence_from_variants():
    exp = Experiment("survey-invite", ("day3", "day7"), salt="x")
    hold = HoldoutGroup("global-2026", 0.1)
    held = hold.contains_many(IDS)
    assert held.mean() == pytest.approx(0.1, abs=0.01)
    variants = np.array(exp.assign_many(IDS))
    # Among held-out customers the would-be variants are still split evenly (independent hashes).
    assert np.mean(variants[held] == "day3") == pytest.approx(0.5, abs=0.04)
    assert hold.contains(IDS[0]) == bool(held[0])


def test_exposures_mark_holdouts_without_variant():
    exp = Experiment("e", ("a", "b"))
    rows = expose(exp, IDS[:1000], datetime(2026, 11, 1, tzinfo=UTC), [HoldoutGroup("h", 0.2)])
    assert len(rows) == 1000
    assert all((r.variant is None) == (r.holdout == "h") for r in rows)
    assert 100 < sum(r.holdout is not None for r in rows) < 300
    with pytest.raises(ValidationError, match="timezone"):
        expose(exp, IDS[:1], datetime(2026, 11, 1))


def test_reweighting_requires_new_salt():
    old = Experiment("e", ("a", "b"), (1, 1), salt="v1")
    check_reassignment(old, Experiment("e", ("a", "b"), (2, 2), salt="v1"))  # same shares: fine
    with pytest.raises(ConflictError, match="new salt"):
        check_reassignment(old, Experiment("e", ("a", "b"), (9, 1), salt="v1"))
    with pytest.raises(ConflictError):
        check_reassignment(old, Experiment("e", ("a", "b", "c"), salt="v1"))
    check_reassignment(old, Experiment("e", ("a", "b"), (9, 1), salt="v2"))


@pytest.mark.parametrize(
    ("variants", "weights"),
    [(("a",), ()), (("a", "a"), ()), (("a", "b"), (1,)), (("a", "b"), (-1, 2)), (("a", "b"), (0, 0))],
)
def test_invalid_experiments_are_refused(variants, weights):
    with pytest.raises(ValidationError):
        Experiment("e", variants, weights)


def test_invalid_holdout_fraction():
    with pytest.raises(ValidationError):
        HoldoutGroup("h", 1.0)
