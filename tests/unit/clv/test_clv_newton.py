"""The exact-Hessian Newton fit of BG/NBD and MBG/NBD: derivatives and agreement with L-BFGS."""

from __future__ import annotations

import numpy as np
import pytest

from aftersales.core.clv import BetaGeo, ModifiedBetaGeo, _optimise
from aftersales.core.clv.base import group_rows


@pytest.fixture(scope="module")
def daily(simulate):
    """Customers of different ages at daily resolution (weekly unit), as in real summaries."""
    d = simulate(6000, r=0.5, alpha=6.0, a=0.8, b=2.5, T=40.0, seed=3)
    rng = np.random.default_rng(1)
    d["T"] = np.round(rng.uniform(d["recency"], 40.0) * 7) / 7
    d["recency"] = np.floor(d["recency"] * 7) / 7
    return d


@pytest.mark.parametrize("cls", [BetaGeo, ModifiedBetaGeo])
@pytest.mark.parametrize("params", [(0.5, 6.0, 0.8, 2.5), (0.3, 2.0, 1.0, 1.0), (2.0, 20.0, 0.1, 5.0)])
def test_value_gradient_and_hessian_match_the_per_row_likelihood(cls, params, daily):
    model = cls()
    cols, w = group_rows({k: daily[k].to_numpy(float) for k in model.data_columns})
    p = np.array(params)
    state = model._hessian_state(cols, w)
    ll, grad, hess = model._ll_grad_hess(p, state)
    rows_ll, rows_grad = model._log_likelihood(p, cols)  # the textbook per-row form
    assert ll == pytest.approx(float(w @ rows_ll), rel=1e-13)
    np.testing.assert_allclose(grad, w @ rows_grad, rtol=1e-10, atol=1e-8)
    numeric = np.empty((4, 4))
    for j in range(4):  # central differences of the analytic gradient
        h = np.zeros(4)
        h[j] = 1e-6 * p[j]
        up, down = model._ll_grad_hess(p + h, state)[1], model._ll_grad_hess(p - h, state)[1]
        numeric[:, j] = (up - down) / (2 * h[j])
    np.testing.assert_allclose(hess, numeric, rtol=1e-6, atol=1e-6 * np.abs(numeric).max())
    np.testing.assert_array_equal(hess, hess.T)


@pytest.mark.parametrize("cls", [BetaGeo, ModifiedBetaGeo])
@pytest.mark.parametrize("penalizer", [0.0, 0.01])
def test_newton_fit_equals_the_quasi_newton_fit(cls, penalizer, daily, monkeypatch):
    results = []
    real = _optimise.newton_minimize
    monkeypatch.setattr(_optimise, "newton_minimize", lambda *a, **k: results.append(real(*a, **k)) or results[-1])
    newton = cls(penalizer=penalizer).fit(daily)
    assert results and results[-1] is not None  # Newton converged: no fallback
    monkeypatch.setattr(_optimise, "newton_minimize", lambda *args, **kwargs: None)  # forces L-BFGS
    lbfgs = cls(penalizer=penalizer).fit(daily)
    assert newton.params_ == pytest.approx(lbfgs.params_, rel=1e-5)
    assert newton.log_likelihood_ == pytest.approx(lbfgs.log_likelihood_, rel=1e-10)
    # exact Hessian vs forward differences of the gradient
    assert newton.standard_errors_ == pytest.approx(lbfgs.standard_errors_, rel=1e-4)
    assert newton.gradient_norm_ < 1e-7
