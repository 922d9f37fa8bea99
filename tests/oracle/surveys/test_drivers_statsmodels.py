"""Driver analysis against statsmodels' OLS (a test-only oracle): the same coefficients, standard
errors, t intervals, p-values and R², from the cross-product sums the engine would compute."""

from __future__ import annotations

from datetime import date

import numpy as np
import pytest
import statsmodels.api as sm

from aftersales.core.surveys.drivers import drivers_from_sums, sums_from_arrays
from aftersales.core.synthetic import generate_store
from aftersales.core.synthetic.feedback import CES_SURVEY, DIMENSIONS


@pytest.mark.parametrize("level", [0.95, 0.9])
def test_coefficients_errors_and_intervals_match_statsmodels_on_generated_answers(level: float) -> None:
    s = generate_store(2_500, seed=3, as_of=date(2025, 6, 1)).tables["survey_responses"].to_pandas()
    wide = s[s.survey_id == CES_SURVEY].pivot(index="response_id", columns="dimension", values="score")
    x, y = wide[list(DIMENSIONS)].to_numpy(float), wide["overall"].to_numpy(float)
    ours = drivers_from_sums(sums_from_arrays(x, y), DIMENSIONS, level=level)
    fit = sm.OLS(y, sm.add_constant(x)).fit()
    ci = fit.conf_int(alpha=1 - level)
    by_name = ours.by_name()
    for j, name in enumerate(DIMENSIONS, start=1):
        c = by_name[name]
        assert c.estimate == pytest.approx(fit.params[j], rel=1e-9)
        assert c.std_error == pytest.approx(fit.bse[j], rel=1e-7)
        assert (c.ci_low, c.ci_high) == pytest.approx(tuple(ci[j]), rel=1e-7)
        assert c.t_stat == pytest.approx(fit.tvalues[j], rel=1e-7)
        assert c.p_value == pytest.approx(fit.pvalues[j], rel=1e-6, abs=1e-300)
    assert ours.intercept.estimate == pytest.approx(fit.params[0], rel=1e-9)
    assert ours.intercept.std_error == pytest.approx(fit.bse[0], rel=1e-7)
    assert ours.r_squared == pytest.approx(fit.rsquared, rel=1e-9)
    assert ours.residual_sd == pytest.approx(np.sqrt(fit.scale), rel=1e-9)
    assert ours.dof == int(fit.df_resid)


def test_shapley_shares_match_the_average_r_squared_gain_over_orders() -> None:
    """The LMG share of each dimension is its R² gain averaged over every order of entry (brute force
    over the 3! orders with statsmodels fits)."""
    from itertools import permutations

    rng = np.random.default_rng(8)
    x = rng.normal(size=(400, 3)) @ np.array([[1, 0.5, 0.2], [0, 1, 0.4], [0, 0, 1]])
    y = x @ np.array([0.6, 0.3, -0.2]) + rng.normal(0, 1, 400)

    def r2(cols: tuple[int, ...]) -> float:
        return 0.0 if not cols else float(sm.OLS(y, sm.add_constant(x[:, list(cols)])).fit().rsquared)

    expected = np.zeros(3)
    orders = list(permutations(range(3)))
    for order in orders:
        for k, j in enumerate(order):
            expected[j] += r2(tuple(sorted(order[: k + 1]))) - r2(tuple(sorted(order[:k])))
    expected /= len(orders)
    got = drivers_from_sums(sums_from_arrays(x, y), ("a", "b", "c")).by_name()
    assert [got[n].share for n in "abc"] == pytest.approx(list(expected), rel=1e-9)
