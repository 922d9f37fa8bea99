"""Always-valid inference: Gaussian-mixture confidence sequences (Howard et al. 2021).

Peeking at a fixed-horizon test every day inflates false positives; a confidence sequence holds
at every sample size simultaneously, so the experiment may be stopped whenever it crosses.

With ``N = n_a + n_b`` units so far, lift estimate ``Δ`` with variance ``V`` and ``σ² = N V``
(the per-unit variance), the asymptotic normal-mixture confidence sequence is
(Waudby-Smith et al. 2023, eq. 9; the mixture SPRT of Howard et al. 2021)::

    Δ ± σ √( 2 (N ρ² + 1) / (N² ρ²) · log( √(N ρ² + 1) / α ) )

``ρ`` is the mixing variance; it is tuned so that the boundary is tightest at ``N*`` units
(the *tuning parameter*: set it to the sample size you expect at the end)::

    ρ² = ( -2 log α + log(1 - 2 log α) ) / N*

The always-valid p-value is the reciprocal of the mixture e-value, which makes it dual to the
sequence (the interval excludes ``Δ₀`` exactly when ``p ≤ α``)::

    e = exp( ρ² N² (Δ - Δ₀)² / (2 σ² (N ρ² + 1)) ) / √(N ρ² + 1),    p = min(1, 1/e)

These match GrowthBook's ``SequentialTwoSidedTTest`` (its default ``N*`` is 5,000). The sequence is
two-sided only. ``ρ`` is computed from the nominal α once; adjusted intervals (Holm, BH) keep that
``ρ`` and change only α inside the logarithm, so they stay dual to the adjusted p-values.

>>> low, high = confidence_sequence(np.array([0.1]), np.array([0.001]), np.array([2000.0]), 0.05, 5000)
>>> round(float(low[0]), 5), round(float(high[0]), 5)
(0.00122, 0.19878)
"""

from __future__ import annotations

import numpy as np

__all__ = ["confidence_sequence", "mixture_rho", "sequential_p_value"]


def mixture_rho(alpha: float, tuning_n: float) -> float:
    """Mixing parameter ``ρ`` that makes the sequence tightest at ``tuning_n`` units.

    >>> round(mixture_rho(0.05, 5000), 6)
    0.03984
    """
    if not 0 < alpha < 1 or tuning_n <= 0:
        raise ValueError("alpha must be in (0, 1) and the tuning parameter N* positive")
    la = -2 * np.log(alpha)
    return float(np.sqrt((la + np.log(la + 1)) / tuning_n))


def confidence_sequence(
    estimate: np.ndarray,
    variance: np.ndarray,
    n_total: np.ndarray,
    alpha: float | np.ndarray,
    tuning_n: float,
    *,
    rho_alpha: float | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Lower and upper bounds of the always-valid ``1 - alpha`` sequence at ``n_total`` units.

    ``rho_alpha`` is the α used to tune ``ρ`` (default: ``alpha``, which must then be a scalar).
    """
    rho = mixture_rho(float(alpha if rho_alpha is None else rho_alpha), tuning_n)
    s2 = variance * n_total
    r2n1 = n_total * rho**2 + 1
    with np.errstate(divide="ignore", invalid="ignore"):
        width = np.sqrt(s2) * np.sqrt(2 * r2n1 * np.log(np.sqrt(r2n1) / np.asarray(alpha)) / (n_total * rho) ** 2)
    return estimate - width, estimate + width


def sequential_p_value(
    estimate: np.ndarray,
    variance: np.ndarray,
    n_total: np.ndarray,
    alpha: float,
    tuning_n: float,
    null_value: float = 0.0,
) -> np.ndarray:
    """Always-valid two-sided p-value ``min(1, 1/e)`` of the mixture e-value (see the module docstring).

    >>> float(sequential_p_value(np.array([0.0]), np.array([0.001]), np.array([2000.0]), 0.05, 5000)[0])
    1.0
    """
    rho2 = mixture_rho(alpha, tuning_n) ** 2
    r2n1 = n_total * rho2 + 1
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        st2 = (estimate - null_value) ** 2 * n_total / variance
        log_e = rho2 * st2 / (2 * r2n1) - 0.5 * np.log(r2n1)
    p: np.ndarray = np.minimum(1.0, np.exp(-log_e))
    return p
