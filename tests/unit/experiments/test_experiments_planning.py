"""Power and sample size, multiple-testing corrections with agreeing intervals, SRM by hand."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from aftersales.core.errors import ValidationError
from aftersales.core.experiments.analysis import AnalysisOptions, analyze
from aftersales.core.experiments.corrections import adjust, benjamini_hochberg, holm
from aftersales.core.experiments.power import (
    mde_means,
    mde_proportions,
    power_proportions,
    sample_size_means,
    sample_size_proportions,
)
from aftersales.core.experiments.srm import srm_p_value
from aftersales.core.experiments.table import summary_table


def test_published_sample_size_evan_miller():
    # Baseline 20%, +5 points absolute, α = 0.05, power 0.8: 1,030 per variant (Evan Miller's calculator).
    size = sample_size_proportions(0.20, 0.05)
    assert size.n_per_variant == 1030
    assert size.n_total == 2060
    assert size.n_exact == pytest.approx(1030.219, abs=1e-3)
    assert sample_size_proportions(0.20, 0.25, relative=True).n_per_variant == 1030


def test_means_sample_size_by_hand():
    # 2 σ² (z_.975 + z_.8)² / δ² with σ = 20, δ = 5: 2·400·7.84887/25 = 251.16
    z = stats.norm.ppf(0.975) + stats.norm.ppf(0.8)
    assert sample_size_means(50, 5, 20).n_exact == pytest.approx(2 * 400 * z**2 / 25)
    assert sample_size_means(50, 0.1, 20, relative=True).n_exact == pytest.approx(2 * 400 * z**2 / 25)


def test_variants_split_alpha_bonferroni():
    three = sample_size_proportions(0.2, 0.05, variants=3)
    assert three.alpha_per_comparison == pytest.approx(0.025)
    assert three.n_per_variant > 1030
    assert three.n_total == 3 * three.n_per_variant


def test_mde_inverts_sample_size():
    n = sample_size_proportions(0.1, 0.02).n_exact
    assert mde_proportions(0.1, n) == pytest.approx(0.02, rel=1e-9)
    assert power_proportions(0.1, 0.02, n) == pytest.approx(0.8, rel=1e-9)
    n = sample_size_means(10, 1.5, 7).n_exact
    assert mde_means(n, 7) == pytest.approx(1.5)


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: sample_size_proportions(1.2, 0.05), "baseline"),
        (lambda: sample_size_proportions(0.9, 0.2), "not a proportion"),
        (lambda: sample_size_proportions(0.2, 0.0), "non-zero"),
        (lambda: sample_size_proportions(0.2, 0.05, alpha=1.5), "alpha"),
        (lambda: sample_size_proportions(0.2, 0.05, power=1.0), "power"),
        (lambda: sample_size_proportions(0.2, 0.05, variants=1), "two variants"),
        (lambda: sample_size_means(1, 1, 0), "standard deviation"),
        (lambda: mde_proportions(0.2, 1), "at least 2"),
    ],
)
def test_power_input_errors(call, message):
    with pytest.raises(ValidationError, match=message):
        call()


def test_srm_by_hand():
    # 5,000 vs 5,200 on 50/50: χ² = 2·100²/5,100 = 3.9216 with 1 dof.
    assert srm_p_value([5000, 5200]) == pytest.approx(stats.chi2.sf(20000 / 5100, 1))
    assert srm_p_value([0, 0]) == 1.0
    assert srm_p_value([900, 100], [9, 1]) == pytest.approx(1.0)


def test_corrections_known_vectors_and_nan():
    p = [0.01, 0.02, 0.03, 0.04, 0.05]
    assert holm(p) == pytest.approx([0.05, 0.08, 0.09, 0.09, 0.09])
    assert benjamini_hochberg(p) == pytest.approx([0.05] * 5)
    out = holm([0.01, np.nan, 0.02])
    assert np.isnan(out[1]) and out[[0, 2]] == pytest.approx([0.02, 0.02])
    with pytest.raises(ValueError):
        adjust([0.1], "sidak")  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        holm([1.5])


def _many_comparisons(seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    rows = []
    for metric in range(12):
        for v, shift in (("control", 0.0), ("b", rng.normal(0, 0.3)), ("c", rng.normal(0, 0.3))):
            n = int(rng.integers(200, 2000))
            y = rng.normal(10 + shift, 3, n)
            rows.append({"metric": f"m{metric}", "variant": v, "n": n, "sum": y.sum(), "sum_squares": (y * y).sum()})
    return pd.DataFrame(rows)


@pytest.mark.parametrize("method", ["frequentist", "sequential"])
@pytest.mark.parametrize("correction", ["holm", "bh"])
@pytest.mark.parametrize("seed", range(5))
def test_adjusted_intervals_agree_with_adjusted_p_values(method, correction, seed):
    table = summary_table(_many_comparisons(seed))
    out = analyze(table, AnalysisOptions(method=method, correction=correction, relative=False))
    raw = analyze(table, AnalysisOptions(method=method, relative=False))
    assert out["p_value_unadjusted"].to_numpy() == pytest.approx(raw["p_value"].to_numpy())
    assert np.all(out["p_value"] >= out["p_value_unadjusted"] - 1e-15)
    excludes_zero = (out["ci_low"] > 0) | (out["ci_high"] < 0)
    for alpha_cut in (0.05,):
        significant = out["p_value"] < alpha_cut
        assert (excludes_zero == significant).all()
    # Adjusted intervals are never narrower than the unadjusted ones.
    assert np.all(out["ci_high"] - out["ci_low"] >= raw["ci_high"] - raw["ci_low"] - 1e-12)
