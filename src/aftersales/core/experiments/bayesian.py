"""Bayesian read-out with a Gaussian prior on the effect: chance to win, credible interval, risk.

The lift estimate ``Δ̂`` (absolute or relative, see :mod:`.frequentist`) with sampling variance ``V``
is the likelihood ``Δ̂ | Δ ~ N(Δ, V)``. With the prior ``Δ ~ N(μ₀, τ²)`` the posterior is normal::

    precision  = 1/V + 1/τ²
    mean       = (Δ̂/V + μ₀/τ²) / precision,     sd = 1/√precision

With no prior (flat, GrowthBook's default ``proper = False``) the posterior is ``N(Δ̂, V)``.

* **chance to win** ``P(Δ > 0) = Φ(mean/sd)`` (``P(Δ < 0)`` for metrics where lower is better);
* **credible interval** ``mean ± Φ⁻¹(1 - α/2) sd``;
* **risk** (expected loss) of shipping the treatment ``E[max(-Δ, 0)] = sd φ(mean/sd) - mean Φ(-mean/sd)``
  and of keeping the control ``E[max(Δ, 0)] = sd φ(mean/sd) + mean Φ(mean/sd)`` (closed forms of the
  truncated-normal means GrowthBook computes with scipy's ``truncnorm``).

>>> post = gaussian_posterior(np.array([0.02]), np.array([0.0001]))
>>> round(float(post.chance_to_win[0]), 6), round(float(post.risk_treatment[0]), 8)
(0.97725, 8.491e-05)
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import stats

__all__ = ["GaussianPrior", "Posterior", "gaussian_posterior"]


@dataclass(frozen=True)
class GaussianPrior:
    """Prior ``N(mean, variance)`` on the lift, on the same scale as the lift (absolute or relative)."""

    mean: float = 0.0
    variance: float = 1.0

    def __post_init__(self) -> None:
        if not self.variance > 0:
            raise ValueError("prior variance must be positive")


@dataclass(frozen=True)
class Posterior:
    mean: np.ndarray
    sd: np.ndarray
    chance_to_win: np.ndarray
    ci_low: np.ndarray
    ci_high: np.ndarray
    risk_control: np.ndarray
    risk_treatment: np.ndarray


def gaussian_posterior(
    estimate: np.ndarray,
    variance: np.ndarray,
    prior: GaussianPrior | None = None,
    *,
    alpha: float = 0.05,
    lower_is_better: bool = False,
) -> Posterior:
    """Posterior of the lift for every comparison (flat prior when ``prior`` is None)."""
    estimate = np.asarray(estimate, dtype=float)
    variance = np.asarray(variance, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        if prior is None:
            mean, var = estimate, variance
        else:
            precision = 1 / variance + 1 / prior.variance
            mean = (estimate / variance + prior.mean / prior.variance) / precision
            var = 1 / precision
        sd = np.sqrt(var)
        z = mean / sd
    up = stats.norm.sf(0, mean, sd)
    ctw = 1 - up if lower_is_better else up
    q = stats.norm.ppf(1 - alpha / 2)
    loss_if_treatment = sd * stats.norm.pdf(z) - mean * stats.norm.cdf(-z)  # E[max(-Δ, 0)]
    loss_if_control = sd * stats.norm.pdf(z) + mean * stats.norm.cdf(z)  # E[max(Δ, 0)]
    if lower_is_better:
        loss_if_treatment, loss_if_control = loss_if_control, loss_if_treatment
    return Posterior(mean, sd, ctw, mean - q * sd, mean + q * sd, loss_if_control, loss_if_treatment)
