"""Frequentist, sequential and Bayesian read-outs: hand-computed cases and properties."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import integrate, stats

from aftersales.core.errors import ValidationError
from aftersales.core.experiments.analysis import AnalysisOptions, analyze
from aftersales.core.experiments.bayesian import GaussianPrior, gaussian_posterior
from aftersales.core.experiments.frequentist import welch_test
from aftersales.core.experiments.sequential import confidence_sequence, sequential_p_value
from aftersales.core.experiments.table import summary_table

A = np.array


def _table(n_a, mean_a, sd_a, n_b, mean_b, sd_b, **extra):
    def row(name, n, m, s):
        return {"metric": "m", "variant": name, "n": n, "sum": n * m, "sum_squares": (n - 1) * s**2 + n * m**2}

    return summary_table(pd.DataFrame([row("a", n_a, mean_a, sd_a), row("b", n_b, mean_b, sd_b)]).assign(**extra))


def test_welch_by_hand():
    # n = 50 / 60, means 10 / 11, sds 2 / 3: V = 4/50 + 9/60 = 0.23, t = 1/√0.23 = 2.08514,
    # ν = 0.23² / ((0.08)²/49 + (0.15)²/59) = 102.78 (Welch–Satterthwaite).
    r = welch_test(A([10.0]), A([4.0]), A([50.0]), A([11.0]), A([9.0]), A([60.0]))
    assert r.variance[0] == pytest.approx(0.23)
    assert r.statistic[0] == pytest.approx(2.0851441)
    assert r.dof[0] == pytest.approx(0.0529 / (0.0064 / 49 + 0.0225 / 59))
    assert r.p_value[0] == pytest.approx(2 * stats.t.sf(2.0851441, r.dof[0]), rel=1e-6)
    half = stats.t.ppf(0.975, r.dof[0]) * np.sqrt(0.23)
    assert (r.ci_low[0], r.ci_high[0]) == pytest.approx((1 - half, 1 + half))


def test_relative_lift_delta_method_by_hand():
    out = analyze(_table(1000, 20.0, 10.0, 1000, 22.0, 10.0))
    # Δ = 2/20 = 0.1; V = 100/(400·1000) + 100·484/(160000·1000) = 0.00025 + 0.0003025
    assert out["lift"][0] == pytest.approx(0.1)
    assert out["se"][0] == pytest.approx(np.sqrt(0.0005525))


def test_cuped_reduces_variance_and_keeps_lift_unbiased():
    rng = np.random.default_rng(3)
    pre = rng.normal(50, 10, 4000)
    y = pre + rng.normal(0, 5, 4000) + np.r_[np.zeros(2000), np.full(2000, 1.0)]
    rows = []
    for name, sl in (("a", slice(0, 2000)), ("b", slice(2000, 4000))):
        yy, xx = y[sl], pre[sl]
        rows.append({"metric": "m", "variant": name, "n": 2000, "sum": yy.sum(), "sum_squares": (yy**2).sum(),
                     "pre_sum": xx.sum(), "pre_sum_squares": (xx**2).sum(), "cross_sum": (xx * yy).sum()})  # fmt: skip
    with_cov = analyze(summary_table(pd.DataFrame(rows)), AnalysisOptions(relative=False))
    plain = analyze(summary_table(pd.DataFrame(rows).drop(columns=["pre_sum", "pre_sum_squares", "cross_sum"])),
                    AnalysisOptions(relative=False))  # fmt: skip
    assert with_cov["cuped_theta"][0] == pytest.approx(1.0, abs=0.05)
    assert with_cov["se"][0] < plain["se"][0] / 2
    assert with_cov["lift"][0] == pytest.approx(1.0, abs=4 * with_cov["se"][0])


def test_sequential_by_formula():
    est, var, n = A([0.1]), A([0.001]), A([2000.0])
    rho2 = (-2 * np.log(0.05) + np.log(1 - 2 * np.log(0.05))) / 5000
    width = np.sqrt(var * n) * np.sqrt(2 * (n * rho2 + 1) * np.log(np.sqrt(n * rho2 + 1) / 0.05) / (n**2 * rho2))
    low, high = confidence_sequence(est, var, n, 0.05, 5000)
    assert (low[0], high[0]) == pytest.approx((0.1 - width[0], 0.1 + width[0]))
    # Duality: the sequence touches zero exactly where the always-valid p-value equals α.
    var_at_edge = var * (0.1 / width) ** 2
    assert sequential_p_value(est, var_at_edge, n, 0.05, 5000)[0] == pytest.approx(0.05)


def test_bayesian_risk_matches_numerical_integration():
    post = gaussian_posterior(A([0.01]), A([0.02**2]))
    loss, _ = integrate.quad(lambda d: max(-d, 0) * stats.norm.pdf(d, 0.01, 0.02), -1, 1, points=[0])
    assert post.risk_treatment[0] == pytest.approx(loss, rel=1e-7)
    assert post.chance_to_win[0] == pytest.approx(stats.norm.cdf(0.5))


def test_proper_prior_shrinks_towards_prior_mean():
    flat = gaussian_posterior(A([0.2]), A([0.01]))
    shrunk = gaussian_posterior(A([0.2]), A([0.01]), GaussianPrior(0.0, 0.01))
    assert shrunk.mean[0] == pytest.approx(0.1)  # equal precisions: halfway
    assert shrunk.sd[0] == pytest.approx(np.sqrt(0.005))
    assert shrunk.ci_high[0] - shrunk.ci_low[0] < flat.ci_high[0] - flat.ci_low[0]


def test_lower_is_better_flips_chance_to_win():
    t = _table(1000, 0.3, 0.4, 1000, 0.25, 0.4)
    up = analyze(t, AnalysisOptions(method="bayesian"))
    down = analyze(t, AnalysisOptions(method="bayesian", lower_is_better=frozenset({"m"})))
    assert down["chance_to_win"][0] == pytest.approx(1 - up["chance_to_win"][0])
    assert down["risk"][0] == pytest.approx(up["risk_control"][0])


def test_zero_control_mean_and_zero_variance_are_flagged_not_crashing():
    out = analyze(_table(100, 0.0, 1.0, 100, 1.0, 1.0))
    assert np.isnan(out["lift"][0]) and "control mean is zero" in out["note"][0]
    out = analyze(_table(100, 2.0, 0.0, 100, 2.0, 0.0))
    assert np.isnan(out["p_value"][0]) and "variance" in out["note"][0]


def test_srm_is_reported_per_cell():
    out = analyze(_table(10_000, 1.0, 1.0, 11_000, 1.0, 1.0))
    assert out["srm_mismatch"][0] and "sample ratio mismatch" in out["note"][0]
    out = analyze(_table(10_000, 1.0, 1.0, 11_000, 1.0, 1.0, weight=[10, 11]))
    assert not out["srm_mismatch"][0]


@pytest.mark.parametrize(
    "kwargs",
    [dict(method="x"), dict(correction="x"), dict(alpha=0), dict(method="sequential", alternative="greater"),
     dict(method="bayesian", correction="holm"), dict(sequential_tuning=0), dict(alternative="up")],
)  # fmt: skip
def test_bad_options(kwargs):
    with pytest.raises(ValidationError):
        AnalysisOptions(**kwargs)


moments = st.tuples(
    st.integers(20, 5000), st.floats(1, 100), st.floats(0.5, 50), st.integers(20, 5000), st.floats(1, 100),
    st.floats(0.5, 50),
)  # fmt: skip


@pytest.mark.slow
@settings(max_examples=60, deadline=None)
@given(moments, st.integers(2, 50))
def test_intervals_shrink_with_n(m, factor):
    n_a, mu_a, sd_a, n_b, mu_b, sd_b = m
    for method in ("frequentist", "sequential", "bayesian"):
        small = analyze(_table(n_a, mu_a, sd_a, n_b, mu_b, sd_b), AnalysisOptions(method=method))
        big = analyze(_table(n_a * factor, mu_a, sd_a, n_b * factor, mu_b, sd_b), AnalysisOptions(method=method))
        assert big["ci_high"][0] - big["ci_low"][0] < small["ci_high"][0] - small["ci_low"][0]


@settings(max_examples=60, deadline=None)
@given(moments, st.floats(100, 1e6))
def test_sequential_wider_than_fixed_horizon_and_p_larger(m, tuning):
    t = _table(*m)
    fixed = analyze(t, AnalysisOptions())
    seq = analyze(t, AnalysisOptions(method="sequential", sequential_tuning=tuning))
    assert seq["ci_high"][0] - seq["ci_low"][0] > fixed["ci_high"][0] - fixed["ci_low"][0]
    assert seq["ci_low"][0] <= fixed["lift"][0] <= seq["ci_high"][0]
    # At the nominal α a sequential rejection implies a fixed-horizon one (not so at every level:
    # far in the tail the mixture boundary grows more slowly than a t quantile).
    if seq["p_value"][0] < 0.05:
        assert fixed["p_value"][0] < 0.05


def _null_p_values(method: str, n_sims: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    rows = []
    for i in range(n_sims):
        for v in ("a", "b"):
            y = rng.exponential(10.0, 200)
            rows.append(
                {"metric": "m", "sim": str(i), "variant": v, "n": 200, "sum": y.sum(), "sum_squares": (y * y).sum()}
            )
    return analyze(summary_table(pd.DataFrame(rows)), AnalysisOptions(method=method))["p_value"].to_numpy()


@pytest.mark.slow
def test_p_values_are_uniform_under_the_null():
    p = _null_p_values("frequentist", 4000, 11)
    assert stats.kstest(p, "uniform").pvalue > 0.001
    assert np.mean(p < 0.05) == pytest.approx(0.05, abs=0.012)
    # Always-valid p-values are conservative at a fixed look: never more than α rejections.
    assert np.mean(_null_p_values("sequential", 2000, 12) < 0.05) <= 0.05
