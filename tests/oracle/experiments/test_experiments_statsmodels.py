"""statsmodels and scipy as oracles: Welch t-test, proportions z-test, Holm/BH, chi-square SRM."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from aftersales.core.experiments.analysis import AnalysisOptions, analyze
from aftersales.core.experiments.corrections import benjamini_hochberg, holm
from aftersales.core.experiments.frequentist import two_proportion_ztest
from aftersales.core.experiments.srm import srm_p_value
from aftersales.core.experiments.table import summary_table

smp = pytest.importorskip("statsmodels.stats.proportion")
smm = pytest.importorskip("statsmodels.stats.multitest")


def test_statsmodels_documented_proportions_ztest_example():
    # statsmodels' docstring: count = [5, 12], nobs = [83, 99] -> p-value 0.159.
    z_sm, p_sm = smp.proportions_ztest(np.array([5, 12]), np.array([83, 99]))
    z, p = two_proportion_ztest(5, 83, 12, 99)
    assert round(p, 3) == 0.159
    assert (z, p) == pytest.approx((z_sm, p_sm), rel=1e-12)


@pytest.mark.parametrize("seed", range(15))
def test_pooled_and_unpooled_ztests_match_statsmodels(seed):
    rng = np.random.default_rng(seed)
    nobs = rng.integers(50, 5000, 2)
    count = rng.binomial(nobs, rng.uniform(0.05, 0.6))
    z_sm, p_sm = smp.proportions_ztest(count, nobs, prop_var=False)
    z, p = two_proportion_ztest(count[0], nobs[0], count[1], nobs[1], pooled=True)
    assert (z, p) == pytest.approx((z_sm, p_sm), rel=1e-10)
    # statsmodels' test_proportions_2indep "wald" is the unpooled (Welch-like) z-test.
    res = smp.test_proportions_2indep(count[0], nobs[0], count[1], nobs[1], method="wald", compare="diff")
    z_u, p_u = two_proportion_ztest(count[0], nobs[0], count[1], nobs[1], pooled=False)
    assert (z_u, p_u) == pytest.approx((res.statistic, res.pvalue), rel=1e-10)


@pytest.mark.parametrize("seed", range(25))
def test_welch_from_sums_matches_scipy_on_raw_data(seed):
    rng = np.random.default_rng(seed)
    a = rng.lognormal(2, 1, int(rng.integers(5, 400)))
    b = rng.lognormal(2.1, 1.2, int(rng.integers(5, 400)))
    rows = [
        {"metric": "revenue", "variant": name, "n": x.size, "sum": x.sum(), "sum_squares": (x * x).sum()}
        for name, x in (("control", a), ("treatment", b))
    ]
    for alternative in ("two-sided", "greater", "less"):
        ours = analyze(summary_table(pd.DataFrame(rows)), AnalysisOptions(relative=False, alternative=alternative))
        ref = stats.ttest_ind(b, a, equal_var=False, alternative=alternative)
        ci = ref.confidence_interval(0.95)
        assert ours["p_value"][0] == pytest.approx(ref.pvalue, rel=1e-8)
        assert ours["lift"][0] == pytest.approx(b.mean() - a.mean(), rel=1e-10)
        assert ours["ci_low"][0] == pytest.approx(ci.low, rel=1e-8)
        assert ours["ci_high"][0] == pytest.approx(ci.high, rel=1e-8)


# Benjamini & Hochberg (1995), section 4: 15 p-values; at q = 0.05 the first four are rejected.
BH_1995 = [0.0001, 0.0004, 0.0019, 0.0095, 0.0201, 0.0278, 0.0298, 0.0344, 0.0459, 0.3240, 0.4262, 0.5719, 0.6528,
           0.7590, 1.0000]  # fmt: skip


def test_bh_published_example_rejects_four():
    adjusted = benjamini_hochberg(BH_1995)
    assert (adjusted <= 0.05).sum() == 4
    assert adjusted == pytest.approx(smm.multipletests(BH_1995, method="fdr_bh")[1], rel=1e-12)


def test_holm_published_vector():
    # Holm (1979)-style worked case: p = (0.01, 0.04, 0.03, 0.005) -> (0.03, 0.06, 0.06, 0.02).
    assert holm([0.01, 0.04, 0.03, 0.005]) == pytest.approx([0.03, 0.06, 0.06, 0.02], rel=1e-12)


@pytest.mark.parametrize("seed", range(30))
def test_corrections_match_statsmodels(seed):
    rng = np.random.default_rng(seed)
    m = int(rng.integers(1, 60))
    p = np.concatenate([rng.uniform(0, 1, m), rng.uniform(0, 0.01, m // 3)])
    p[rng.integers(0, p.size)] = p[0]  # ties
    assert holm(p) == pytest.approx(smm.multipletests(p, method="holm")[1], rel=1e-12)
    assert benjamini_hochberg(p) == pytest.approx(smm.multipletests(p, method="fdr_bh")[1], rel=1e-12)


@pytest.mark.parametrize("seed", range(15))
def test_srm_matches_scipy_chisquare(seed):
    rng = np.random.default_rng(seed)
    k = int(rng.integers(2, 7))
    w = rng.uniform(1, 3, k)
    counts = rng.integers(500, 50_000, k)
    expected = counts.sum() * w / w.sum()
    assert srm_p_value(counts.tolist(), w.tolist()) == pytest.approx(
        stats.chisquare(counts, expected).pvalue, rel=1e-10, abs=1e-300
    )
