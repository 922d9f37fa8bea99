"""Fixed-horizon frequentist tests: Welch's t-test on absolute or relative lift (vectorised).

For control ``a`` and treatment ``b`` with means ``m``, unit variances ``v`` and counts ``n``:

* absolute lift ``Δ = m_b - m_a`` with variance ``V = v_a/n_a + v_b/n_b``;
* relative lift ``Δ = (m_b - m_a) / μ_a`` (``μ_a`` the unadjusted control mean) with the delta-method
  variance ``V = v_b/(μ_a² n_b) + v_a μ_b²/(μ_a⁴ n_a)``;
* Welch–Satterthwaite degrees of freedom
  ``ν = (v_a/n_a + v_b/n_b)² / ((v_a/n_a)²/(n_a-1) + (v_b/n_b)²/(n_b-1))``;
* ``t = (Δ - Δ₀)/√V``; two-sided ``p = 2 (1 - F_ν(|t|))``, interval ``Δ ± F_ν⁻¹(1-α/2) √V``;
  one-sided ("greater": ``p = 1 - F_ν(t)``, interval ``[Δ - F_ν⁻¹(1-α) √V, ∞)``; "less" mirrored).

These are GrowthBook's formulas (gbstats 0.8 ``TwoSidedTTest``), which the oracle tests check to
1e-9. :func:`two_proportion_ztest` is the classic pooled z-test (statsmodels ``proportions_ztest``).

>>> r = welch_test(np.array([10.0]), np.array([4.0]), np.array([100.0]),
...                np.array([11.0]), np.array([4.0]), np.array([100.0]))
>>> round(float(r.estimate[0]), 4), round(float(r.p_value[0]), 6)
(1.0, 0.000507)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
from scipy import stats

__all__ = ["Alternative", "LiftResult", "lift_and_variance", "two_proportion_ztest", "welch_dof", "welch_test"]

Alternative = Literal["two-sided", "greater", "less"]


@dataclass(frozen=True)
class LiftResult:
    """Per-comparison estimate, its variance, degrees of freedom, statistic, p-value and interval."""

    estimate: np.ndarray
    variance: np.ndarray
    dof: np.ndarray
    statistic: np.ndarray
    p_value: np.ndarray
    ci_low: np.ndarray
    ci_high: np.ndarray


def lift_and_variance(
    mean_a: np.ndarray,
    var_a: np.ndarray,
    n_a: np.ndarray,
    mean_b: np.ndarray,
    var_b: np.ndarray,
    n_b: np.ndarray,
    *,
    relative: bool = False,
    raw_mean_a: np.ndarray | None = None,
    raw_mean_b: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Lift ``Δ`` and its sampling variance ``V`` (absolute, or relative by the delta method).

    ``raw_mean_*`` are the unadjusted means (they differ from ``mean_*`` under CUPED); relative lift
    divides by the unadjusted control mean.

    >>> d, v = lift_and_variance(np.array([0.2]), np.array([0.16]), np.array([1000.0]),
    ...                          np.array([0.25]), np.array([0.1875]), np.array([1000.0]), relative=True)
    >>> round(float(d[0]), 6), round(float(v[0]), 8)
    (0.25, 0.0109375)
    """
    mu_a = mean_a if raw_mean_a is None else raw_mean_a
    mu_b = mean_b if raw_mean_b is None else raw_mean_b
    with np.errstate(divide="ignore", invalid="ignore"):
        if relative:
            estimate = (mean_b - mean_a) / mu_a
            variance = var_b / (mu_a**2 * n_b) + var_a * mu_b**2 / (mu_a**4 * n_a)
        else:
            estimate = mean_b - mean_a
            variance = var_a / n_a + var_b / n_b
    return estimate, variance


def welch_dof(var_a: np.ndarray, n_a: np.ndarray, var_b: np.ndarray, n_b: np.ndarray) -> np.ndarray:
    """Welch–Satterthwaite degrees of freedom (from unit variances and counts).

    >>> float(welch_dof(np.array([1.0]), np.array([10.0]), np.array([1.0]), np.array([10.0]))[0])
    18.0
    """
    ea, eb = var_a / n_a, var_b / n_b
    with np.errstate(divide="ignore", invalid="ignore"):
        dof: np.ndarray = (ea + eb) ** 2 / (ea**2 / (n_a - 1) + eb**2 / (n_b - 1))
        return dof


def t_interval(
    estimate: np.ndarray,
    variance: np.ndarray,
    dof: np.ndarray,
    alpha: np.ndarray | float,
    alternative: Alternative = "two-sided",
) -> tuple[np.ndarray, np.ndarray]:
    """The t interval of level ``1 - alpha`` (``alpha`` may vary per comparison)."""
    se = np.sqrt(variance)
    if alternative == "two-sided":
        width = stats.t.ppf(1 - np.asarray(alpha) / 2, dof) * se
        return estimate - width, estimate + width
    width = stats.t.ppf(1 - np.asarray(alpha), dof) * se
    if alternative == "greater":
        return estimate - width, np.full_like(estimate, np.inf)
    return np.full_like(estimate, -np.inf), estimate + width


def t_p_value(statistic: np.ndarray, dof: np.ndarray, alternative: Alternative = "two-sided") -> np.ndarray:
    p: np.ndarray
    if alternative == "two-sided":
        p = 2 * stats.t.sf(np.abs(statistic), dof)
    elif alternative == "greater":
        p = stats.t.sf(statistic, dof)
    else:
        p = stats.t.cdf(statistic, dof)
    return p


def welch_test(
    mean_a: np.ndarray,
    var_a: np.ndarray,
    n_a: np.ndarray,
    mean_b: np.ndarray,
    var_b: np.ndarray,
    n_b: np.ndarray,
    *,
    relative: bool = False,
    alpha: float = 0.05,
    alternative: Alternative = "two-sided",
    null_value: float = 0.0,
    raw_mean_a: np.ndarray | None = None,
    raw_mean_b: np.ndarray | None = None,
) -> LiftResult:
    """Welch's t-test of ``Δ = null_value`` for every comparison at once (see the module docstring)."""
    estimate, variance = lift_and_variance(
        mean_a, var_a, n_a, mean_b, var_b, n_b, relative=relative, raw_mean_a=raw_mean_a, raw_mean_b=raw_mean_b
    )
    dof = welch_dof(var_a, n_a, var_b, n_b)
    with np.errstate(divide="ignore", invalid="ignore"):
        statistic = (estimate - null_value) / np.sqrt(variance)
    p = t_p_value(statistic, dof, alternative)
    low, high = t_interval(estimate, variance, dof, alpha, alternative)
    return LiftResult(estimate, variance, dof, statistic, p, low, high)


def two_proportion_ztest(
    count_a: float, nobs_a: float, count_b: float, nobs_b: float, *, pooled: bool = True
) -> tuple[float, float]:
    """Two-sided z-test of ``p_a = p_b``: returns ``(z, p_value)`` with ``z = (p̂_a - p̂_b)/se``.

    Pooled: ``se² = p̄(1-p̄)(1/n_a + 1/n_b)`` with ``p̄ = (x_a + x_b)/(n_a + n_b)`` (the textbook test and
    statsmodels' default); unpooled: ``se² = p̂_a(1-p̂_a)/n_a + p̂_b(1-p̂_b)/n_b``.
    statsmodels documents ``proportions_ztest([5, 12], [83, 99])`` giving p ≈ 0.159:

    >>> z, p = two_proportion_ztest(5, 83, 12, 99)
    >>> round(z, 4), round(p, 4)
    (-1.4078, 0.1592)
    """
    pa, pb = count_a / nobs_a, count_b / nobs_b
    if pooled:
        pbar = (count_a + count_b) / (nobs_a + nobs_b)
        se = np.sqrt(pbar * (1 - pbar) * (1 / nobs_a + 1 / nobs_b))
    else:
        se = np.sqrt(pa * (1 - pa) / nobs_a + pb * (1 - pb) / nobs_b)
    z = (pa - pb) / se
    return float(z), float(2 * stats.norm.sf(abs(z)))
