"""Hypothesis properties over wide parameter and data ranges: probabilities in [0, 1], expectations
increasing in t, nothing NaN or infinite (frequencies to 5,000, t_x = T, a and s at and near 1)."""

from __future__ import annotations

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from aftersales.core.clv import BetaGeo, GammaGamma, ModifiedBetaGeo, ParetoNBD
from aftersales.core.clv.value import score

positive = st.floats(min_value=0.02, max_value=50.0)
near_one = st.one_of(positive, st.just(1.0), st.floats(min_value=0.999, max_value=1.001))
PROFILE = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@st.composite
def customers(draw):
    T = draw(st.floats(min_value=0.5, max_value=400.0))
    x = draw(st.one_of(st.integers(0, 30), st.integers(1000, 5000)))
    share = draw(st.one_of(st.just(1.0), st.floats(min_value=0.0, max_value=1.0)))  # 1.0: t_x = T
    t_x = 0.0 if x == 0 else share * T
    return float(x), float(t_x), T


@st.composite
def models(draw):
    kind = draw(st.sampled_from([BetaGeo, ModifiedBetaGeo, ParetoNBD]))
    r, alpha, c, d = draw(positive), draw(positive), draw(near_one), draw(positive)
    if kind is ParetoNBD:
        return kind.from_params(r=r, alpha=alpha, s=c, beta=d)
    return kind.from_params(r=r, alpha=alpha, a=c, b=d)


@PROFILE
@given(model=models(), customer=customers())
def test_predictions_are_finite_probabilities_and_increasing(model, customer):
    x, t_x, T = customer
    alive = model.probability_alive(x, t_x, T, future_t=[0.0, 10.0, 100.0])
    assert np.all(np.isfinite(alive)) and np.all((alive >= 0) & (alive <= 1))
    assert alive[0] >= alive[1] - 1e-12 >= alive[2] - 2e-12
    t = np.array([0.0, 1.0, 10.0, 52.0, 520.0])
    expected = model.expected_purchases(t, x, t_x, T)
    assert np.all(np.isfinite(expected)) and expected[0] == 0.0
    assert np.all(np.diff(expected) >= -1e-9 * np.maximum(expected[1:], 1.0))
    pmf = model.probability_of_purchases(np.array([0.0, 1.0, 5.0]), 10.0, x, t_x, T)
    assert np.all(np.isfinite(pmf)) and np.all((pmf >= 0) & (pmf <= 1))
    ll, grad = model._log_likelihood(
        model._params(), {"frequency": np.array([x]), "recency": np.array([t_x]), "T": np.array([T])}
    )
    assert np.all(np.isfinite(ll)) and np.all(np.isfinite(grad))


@PROFILE
@given(model=models(), customer=customers(), discount=st.floats(0.0, 0.5))
def test_discounted_purchases_never_exceed_undiscounted(model, customer, discount):
    x, t_x, T = customer
    s = score(model, [x], [t_x], [T], horizon=52.0, annual_discount=discount, periods_per_year=52.18)
    assert np.isfinite(s["discounted_purchases"][0])
    assert 0.0 <= s["discounted_purchases"][0] <= s["expected_purchases"][0] * (1 + 1e-9) + 1e-12


@PROFILE
@given(
    p=positive,
    q=st.floats(min_value=1.01, max_value=50.0),
    gamma=positive,
    x=st.integers(0, 5000),
    m=st.floats(min_value=-10.0, max_value=1e5),
)
def test_expected_spend_lies_between_customer_mean_and_population_mean(p, q, gamma, x, m):
    gg = GammaGamma.from_params(p=p, q=q, gamma=gamma)
    spend = float(gg.expected_spend(x, m))
    population = gg.population_mean_spend()
    assert np.isfinite(spend)
    if x > 0 and m > 0:
        lo, hi = sorted((m, population))
        assert lo * (1 - 1e-9) <= spend <= hi * (1 + 1e-9)
    else:
        assert spend == population
