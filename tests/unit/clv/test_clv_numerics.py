"""Numerical building blocks against independent computations (scipy quad / hyp2f1 / sums)."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from scipy.integrate import quad
from scipy.special import hyp2f1

from aftersales.core.clv._special import _bracket_series, bg_bracket, hyp2f1_safe, log_sum_exp2, one_minus_pow_over
from aftersales.core.clv.pareto_nbd import _integral


def _log_integral_by_quad(r, alpha, s, beta, x, t_x, T):
    def log_h(tau):
        return -(r + x) * np.log(alpha + tau) - (s + 1.0) * np.log(beta + tau)

    scale = log_h(t_x)
    width = (alpha + t_x) / (r + x + s + 1.0)  # where the integrand has fallen by ~e
    edges = sorted({t_x, min(T, t_x + width), min(T, t_x + 10 * width), T})
    total = sum(
        quad(lambda u: np.exp(log_h(u) - scale), lo, hi, epsabs=0, epsrel=1e-13, limit=200)[0]
        for lo, hi in itertools.pairwise(edges)
        if hi > lo
    )
    return scale + np.log(total)


@pytest.mark.parametrize(
    ("r", "alpha", "s", "beta", "x", "t_x", "T"),
    [
        (0.553, 10.578, 0.606, 11.669, 2, 30.43, 38.86),
        (0.553, 10.578, 0.606, 11.669, 0, 0.0, 38.86),
        (0.5, 0.01, 0.5, 100.0, 0, 0.0, 40.0),  # scales four orders apart
        (0.5, 100.0, 0.5, 0.01, 3, 1.0, 40.0),
        (2.0, 5.0, 3.0, 7.0, 5000, 20.0, 52.0),  # frequency in the thousands
        (0.3, 2.0, 1.0, 3.0, 10, 51.9, 52.0),  # t_x close to T
        (10.465, 7.98565181e-03, 3.0516, 2.820, 500, 1.0, 37.0),  # lifetimes' overflow case
    ],
)
def test_pareto_integral_matches_adaptive_quadrature(r, alpha, s, beta, x, t_x, T):
    log_i, _ = _integral(r, alpha, s, beta, np.array([float(x)]), np.array([t_x]), np.array([T]))
    assert np.isfinite(log_i[0])
    assert log_i[0] == pytest.approx(_log_integral_by_quad(r, alpha, s, beta, x, t_x, T), abs=1e-7)


def test_pareto_integral_is_exact_when_the_integrand_is_a_pure_power():
    # α = β makes ρ ≡ 1: I = [(α+t_x)^-(m-1) - (α+T)^-(m-1)]/(m-1), here with the mass within 1e-5 of t_x.
    r, s, ab, x, t_x, T = 50.0, 50.0, 0.02, 5000.0, 0.001, 400.0
    k = r + x + s
    exact = -k * np.log(ab + t_x) + np.log(-np.expm1(-k * np.log((ab + T) / (ab + t_x)))) - np.log(k)
    log_i, _ = _integral(r, ab, s, ab, np.array([x]), np.array([t_x]), np.array([T]))
    assert log_i[0] == pytest.approx(exact, rel=1e-14)


def test_pareto_integral_vanishes_smoothly_as_recency_reaches_age():
    gaps = np.array([1e-2, 1e-5, 1e-9, 0.0])
    log_i, _ = _integral(0.5, 10.0, 0.6, 12.0, np.full(4, 3.0), 30.0 - gaps, np.full(4, 30.0))
    # I ≈ gap · h(T) for small gaps: log I - log gap is constant, and I = 0 exactly at t_x = T.
    slope = log_i[:3] - np.log(gaps[:3])
    np.testing.assert_allclose(slope, slope[2], atol=1e-3)
    assert log_i[3] == -np.inf


@pytest.mark.parametrize("a", [0.3, 0.8, 1.5, 4.0])
def test_bg_bracket_equals_hypergeometric_closed_form_away_from_one(a):
    A, C, z = 1.7, 6.2, np.array([0.1, 0.5, 0.9])
    direct = (1 - (1 - z) ** (a - 1) * hyp2f1(A, a - 1, C, z)) / (a - 1)
    np.testing.assert_allclose(bg_bracket(A, a, C, z), direct, rtol=1e-11)


def test_bg_bracket_is_continuous_through_a_equal_one():
    A, C, z = 2.2, 5.0, np.array([0.05, 0.4, 0.85])
    at_one = bg_bracket(A, 1.0, C, z)
    for eps in (1e-3, 1e-6, 1e-10):
        np.testing.assert_allclose(bg_bracket(A, 1.0 + eps, C, z), at_one, rtol=3 * eps + 1e-12)
        np.testing.assert_allclose(bg_bracket(A, 1.0 - eps, C, z), at_one, rtol=3 * eps + 1e-12)
    # Where the exact series hands over to the closed form, both agree (no jump at the switch).
    for a in (0.99, 1.01):
        direct = (1 - (1 - z) ** (a - 1) * hyp2f1(A, a - 1, C, z)) / (a - 1)
        np.testing.assert_allclose(_bracket_series(np.full(3, A), np.full(3, a), np.full(3, C), z), direct, rtol=1e-10)


def test_one_minus_pow_over_limit_and_series():
    log_y = np.log(np.array([0.2, 0.9]))
    np.testing.assert_allclose(one_minus_pow_over(0.0, log_y), -log_y, rtol=1e-15)
    np.testing.assert_allclose(one_minus_pow_over(1e-12, log_y), -log_y, rtol=1e-11)
    np.testing.assert_allclose(one_minus_pow_over(-0.5, log_y), (1 - np.exp(-0.5 * log_y)) / -0.5, rtol=1e-14)


def test_log_sum_exp2_handles_minus_infinity_and_huge_values():
    assert log_sum_exp2(np.array(-np.inf), np.array(3.0)) == 3.0
    assert log_sum_exp2(np.array(1000.0), np.array(1000.0)) == pytest.approx(1000 + np.log(2))


@pytest.mark.parametrize(("b", "c", "z"), [(1.0, 1002.0, 100 / 102), (2.5, 4001.3, 0.995), (0.7, 3.0, 0.4)])
def test_hyp2f1_safe_matches_euler_integral(b, c, z):
    # 2F1(1, b; c; z) = (c-1) ∫₀¹ (1-t)^(c-2) (1-zt)^(-b) dt
    edges = [0.0, min(0.5, 20 / c), 1.0]
    direct = sum(
        (c - 1) * quad(lambda t: (1 - t) ** (c - 2) * (1 - z * t) ** (-b), lo, hi, epsabs=0, epsrel=1e-13)[0]
        for lo, hi in itertools.pairwise(edges)
    )
    assert hyp2f1_safe(np.array(1.0), np.array(b), np.array(c), np.array(z)) == pytest.approx(direct, rel=1e-11)
