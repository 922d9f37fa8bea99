"""Model template and per-model formulas: gradients, internal consistency, errors."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.integrate import quad

from aftersales.core.clv import BetaGeo, GammaGamma, ModifiedBetaGeo, ParetoNBD
from aftersales.core.errors import ConvergenceError, ValidationError

RFM = {
    "frequency": np.array([0.0, 1.0, 2.0, 7.0, 40.0, 3.0]),
    "recency": np.array([0.0, 3.0, 30.43, 35.0, 38.0, 38.86]),
    "T": np.array([38.86, 20.0, 38.86, 38.86, 39.0, 38.86]),
}
SPEND = {"frequency": np.array([1.0, 2.0, 9.0]), "monetary_value": np.array([12.5, 40.0, 3.3])}
CASES = [
    (BetaGeo, np.array([0.243, 4.414, 0.793, 2.426]), RFM),
    (BetaGeo, np.array([0.7, 2.0, 1.0, 3.0]), RFM),  # a = 1 exactly
    (ModifiedBetaGeo, np.array([0.525, 6.183, 0.891, 1.614]), RFM),
    (ParetoNBD, np.array([0.553, 10.578, 0.606, 11.669]), RFM),
    (ParetoNBD, np.array([1.2, 3.0, 1.0, 40.0]), RFM),  # s = 1 exactly
    (GammaGamma, np.array([6.25, 3.74, 15.44]), SPEND),
]


@pytest.mark.parametrize(("model_cls", "params", "data"), CASES)
def test_analytic_gradient_matches_central_differences(model_cls, params, data):
    model = model_cls()
    _, grad = model._log_likelihood(params, data)
    for j in range(params.size):
        h = 1e-6 * params[j]
        up, down = params.copy(), params.copy()
        up[j] += h
        down[j] -= h
        numeric = (model._log_likelihood(up, data)[0] - model._log_likelihood(down, data)[0]) / (2 * h)
        np.testing.assert_allclose(grad[:, j], numeric, rtol=1e-6, atol=1e-7)


TRANSACTION_MODELS = [
    BetaGeo.from_params(r=0.243, alpha=4.414, a=0.793, b=2.426),
    BetaGeo.from_params(r=0.7, alpha=2.0, a=1.0, b=3.0),
    ModifiedBetaGeo.from_params(r=0.525, alpha=6.183, a=0.891, b=1.614),
    ParetoNBD.from_params(r=0.553, alpha=10.578, s=0.606, beta=11.669),
    ParetoNBD.from_params(r=1.2, alpha=3.0, s=1.0, beta=40.0),
]


@pytest.mark.parametrize("model", TRANSACTION_MODELS, ids=repr)
def test_purchase_distribution_sums_to_one_and_its_mean_is_the_expectation(model):
    x, t_x, T, t = RFM["frequency"], RFM["recency"], RFM["T"], 26.0
    n = np.arange(0, 400.0)[:, None]
    pmf = model.probability_of_purchases(n, t, x, t_x, T)
    np.testing.assert_allclose(pmf.sum(axis=0), 1.0, atol=1e-8)
    np.testing.assert_allclose((n * pmf).sum(axis=0), model.expected_purchases(t, x, t_x, T), rtol=1e-6)


@pytest.mark.parametrize("model", TRANSACTION_MODELS, ids=repr)
def test_population_curve_is_the_integral_of_the_purchase_rate_of_survivors(model):
    # E[X(t)] = ∫₀ᵗ E[λ · 1{alive at u}] du, and E[λ 1{alive}] = -d/du of nothing simpler, so check
    # instead that E[X(t)] grows by E[X(t+h)] - E[X(t)] ≈ h · (rate of a customer alive at t, weighted).
    t = np.array([1.0, 10.0, 52.0])
    curve = model.expected_population_purchases(t)
    assert np.all(np.diff(curve) > 0)
    # Unconditional = conditional at x = t_x = T = 0.
    np.testing.assert_allclose(curve, model.expected_purchases(t, 0, 0, 0))


def test_bgnbd_population_curve_equals_direct_integral_over_dropout_probability():
    # E[X(t)] = E_p[(1 - (α/(α+pt))^r)/p] with p ~ Beta(a, b) (FHL 2005, eq. 7 before integration).
    from scipy.stats import beta as beta_dist

    r, alpha, a, b = 0.7, 2.0, 1.0, 3.0
    for t in (5.0, 39.0):
        direct = quad(lambda p, t=t: (1 - (alpha / (alpha + p * t)) ** r) / p * beta_dist.pdf(p, a, b), 0, 1)[0]
        got = BetaGeo.from_params(r=r, alpha=alpha, a=a, b=b).expected_population_purchases(t)
        assert got == pytest.approx(direct, rel=1e-9)


def test_paretonbd_population_curve_equals_direct_integral():
    # E[X(t)] = E_λ,μ[(λ/μ)(1 - e^{-μt})] = (r/α) ∫₀ᵗ (β/(β+u))^s du.
    r, alpha, s, beta = 0.553, 10.578, 0.606, 11.669
    for t in (1.0, 39.0):
        direct = r / alpha * quad(lambda u: (beta / (beta + u)) ** s, 0, t)[0]
        got = ParetoNBD.from_params(r=r, alpha=alpha, s=s, beta=beta).expected_population_purchases(t)
        assert got == pytest.approx(direct, rel=1e-10)


@pytest.mark.parametrize("model", TRANSACTION_MODELS, ids=repr)
def test_future_alive_probability_declines_from_current(model):
    now = model.probability_alive(RFM["frequency"], RFM["recency"], RFM["T"])
    later = model.probability_alive(RFM["frequency"], RFM["recency"], RFM["T"], future_t=52)
    assert np.all(later <= now + 1e-15) and np.all(later > 0)


def test_bgnbd_gives_probability_alive_one_without_repeat_purchases_but_mbgnbd_does_not():
    assert BetaGeo.from_params(r=1, alpha=1, a=1, b=1).probability_alive(0, 0, 50) == 1.0
    assert ModifiedBetaGeo.from_params(r=1, alpha=1, a=1, b=1).probability_alive(0, 0, 50) < 0.1


def test_fit_without_counts_groups_identical_rows(bgnbd_sample):
    frame = pd.concat([bgnbd_sample, bgnbd_sample])
    model = BetaGeo().fit(frame)
    assert model.n_customers_ == 8000 and model.n_rows_ == len(bgnbd_sample.drop_duplicates())


def test_parameters_are_recovered_from_simulated_customers(bgnbd_sample):
    model = BetaGeo().fit(bgnbd_sample)
    truth = {"r": 0.5, "alpha": 6.0, "a": 0.8, "b": 2.5}
    for name, value in truth.items():  # within 3 standard errors of the truth
        assert abs(model.params_[name] - value) < 3 * model.standard_errors_[name], name


def test_penalizer_shrinks_parameters(bgnbd_sample):
    free, shrunk = BetaGeo().fit(bgnbd_sample), BetaGeo(penalizer=0.1).fit(bgnbd_sample)
    assert sum(v**2 for v in shrunk.params_.values()) < sum(v**2 for v in free.params_.values())


def test_a_fit_that_cannot_converge_raises():
    nobody_returns = {"frequency": np.zeros(20), "recency": np.zeros(20), "T": np.linspace(5, 40, 20)}
    with pytest.raises(ConvergenceError):
        BetaGeo().fit(nobody_returns)


@pytest.mark.parametrize(
    "bad",
    [
        {"frequency": [1.5], "recency": [1.0], "T": [2.0]},
        {"frequency": [1.0], "recency": [3.0], "T": [2.0]},
        {"frequency": [0.0], "recency": [1.0], "T": [2.0]},
        {"frequency": [1.0], "recency": [1.0], "T": [-1.0]},
        {"frequency": [1.0], "recency": [np.nan], "T": [2.0]},
    ],
)
def test_invalid_rfm_rows_are_rejected(bad):
    with pytest.raises(ValidationError):
        BetaGeo().fit(bad)


def test_customers_first_seen_at_the_end_contribute_nothing(bgnbd_sample):
    fresh = pd.DataFrame({"frequency": [0.0] * 50, "recency": [0.0] * 50, "T": [0.0] * 50})
    a, b = BetaGeo().fit(bgnbd_sample), ParetoNBD().fit(pd.concat([bgnbd_sample, fresh]))
    assert ParetoNBD().fit(bgnbd_sample).log_likelihood_ == pytest.approx(b.log_likelihood_, rel=1e-9)
    assert BetaGeo().fit(pd.concat([bgnbd_sample, fresh])).params_ == pytest.approx(a.params_, rel=1e-6)


def test_missing_column_and_unfitted_model_are_errors():
    with pytest.raises(ValidationError, match="recency"):
        BetaGeo().fit({"frequency": [1.0], "T": [2.0]})
    with pytest.raises(ValidationError, match="not fitted"):
        BetaGeo().expected_purchases(1, 1, 1, 2)
    with pytest.raises(ValidationError):
        BetaGeo.from_params(r=1, alpha=1, a=1)


def test_gamma_gamma_ignores_zero_and_negative_spend_and_uses_population_mean_for_them():
    data = {"frequency": np.array([1, 2, 3, 0, 2.0]), "monetary_value": np.array([10, 20, 30, 0, -5.0])}
    gg = GammaGamma.from_params(p=6.25, q=3.74, gamma=15.44)
    assert gg._validate(dict(data))["frequency"].size == 3
    spend = gg.expected_spend(data["frequency"], data["monetary_value"])
    assert spend[3] == spend[4] == pytest.approx(gg.population_mean_spend())
    with pytest.raises(ValidationError, match="infinite"):
        GammaGamma.from_params(p=1, q=0.9, gamma=1).expected_spend(1, 10)


def test_summary_and_report_are_consistent(bgnbd_sample):
    model = ParetoNBD().fit(bgnbd_sample)
    rows = model.summary()
    assert [r["param"] for r in rows] == ["r", "alpha", "s", "beta"]
    assert all(r["lower_95"] < r["estimate"] < r["upper_95"] for r in rows)
    report = model.fit_report()
    assert report["converged"] and report["n_customers"] == 4000
    assert report["aic"] == pytest.approx(8 - 2 * report["log_likelihood"])


@pytest.mark.slow
def test_warm_started_preconditioned_fit_equals_the_plain_fit(monkeypatch, simulate):
    from aftersales.core.clv import _optimise

    many = simulate(180_000, r=0.5, alpha=6.0, a=0.8, b=2.5, T=40.0, seed=11)  # >100k distinct rows
    fast = BetaGeo().fit(many)
    monkeypatch.setattr(_optimise, "_WARM_START_ROWS", 10**9)
    plain = BetaGeo().fit(many)
    assert fast.n_rows_ > 100_000
    assert fast.params_ == pytest.approx(plain.params_, rel=1e-6)
    assert fast.log_likelihood_ == pytest.approx(plain.log_likelihood_, rel=1e-12)
    assert fast.standard_errors_ == pytest.approx(plain.standard_errors_, rel=1e-3)


@pytest.mark.slow
def test_pareto_warm_start_equals_the_plain_fit(monkeypatch):
    """Pareto/NBD warm-starts from 20k distinct rows (its passes are expensive); same optimum as without."""
    rng = np.random.default_rng(5)
    n, T = 30_000, rng.uniform(20.0, 40.0, 30_000)
    lam, mu = rng.gamma(0.55, 1 / 10.6, n), rng.gamma(0.6, 1 / 11.7, n)
    alive_until = np.minimum(rng.exponential(1 / mu), T)
    x = rng.poisson(lam * alive_until)
    t_x = np.where(x > 0, alive_until * rng.beta(np.maximum(x, 1), 1), 0.0)  # last of x uniform times
    data = {"frequency": x.astype(float), "recency": t_x, "T": T}
    fast = ParetoNBD().fit(data)
    monkeypatch.setattr(ParetoNBD, "warm_start_rows", 10**9)
    plain = ParetoNBD().fit(data)
    assert fast.n_rows_ > 20_000
    assert fast.params_ == pytest.approx(plain.params_, rel=1e-5)
    assert fast.log_likelihood_ == pytest.approx(plain.log_likelihood_, rel=1e-10)
