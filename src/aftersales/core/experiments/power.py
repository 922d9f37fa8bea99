"""Power, sample size and minimum detectable effect for proportions and means.

Two-sided test at level ``α`` with power ``1 - β``, ``z_a = Φ⁻¹(1 - α/2)``, ``z_b = Φ⁻¹(1 - β)``, equal
allocation. With ``K`` variants every treatment is compared with the control, so α is split
Bonferroni-wise over the ``K - 1`` comparisons (``α/(K-1)``); the total is ``K`` times the per-variant n.

* **Proportions** (baseline ``p``, absolute effect ``δ``, ``p₂ = p + δ``), the formula of Evan Miller's
  calculator (null variance at the baseline, alternative variance from both rates)::

      n = ( z_a √(2 p(1-p)) + z_b √(p(1-p) + p₂(1-p₂)) )² / δ²

  Baseline 20%, +5 points, α = 0.05, power 0.8 gives 1,030.2 → **1,030 per variant** (published).
* **Means** (standard deviation ``σ``, absolute effect ``δ``): ``n = 2 σ² (z_a + z_b)² / δ²``.
* **Minimum detectable effect** for a given ``n``: the ``δ`` solving the same equation (closed form for
  means, a root search for proportions).

A relative effect is converted with ``δ = baseline × mde``.

>>> round(sample_size_proportions(0.20, 0.05).n_exact, 1)
1030.2
>>> sample_size_proportions(0.20, 0.05).n_per_variant
1030
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from scipy import optimize, stats

from aftersales.core.errors import ValidationError

__all__ = [
    "SampleSize",
    "mde_means",
    "mde_proportions",
    "power_proportions",
    "sample_size_means",
    "sample_size_proportions",
]


@dataclass(frozen=True)
class SampleSize:
    """Units needed per variant (``n_exact`` unrounded) and in total, with the inputs that produced it."""

    n_exact: float
    n_per_variant: int
    n_total: int
    effect: float
    alpha_per_comparison: float
    variants: int


def _z(alpha: float, power: float, variants: int) -> tuple[float, float, float]:
    if not 0 < alpha < 1:
        raise ValidationError(f"alpha must be in (0, 1), got {alpha}")
    if not 0 < power < 1:
        raise ValidationError(f"power must be in (0, 1), got {power}")
    if variants < 2:
        raise ValidationError(f"an experiment needs at least two variants, got {variants}")
    a = alpha / (variants - 1)
    return float(stats.norm.ppf(1 - a / 2)), float(stats.norm.ppf(power)), a


def _effect(baseline: float, mde: float, relative: bool) -> float:
    delta = baseline * mde if relative else mde
    if delta == 0 or not math.isfinite(delta):
        raise ValidationError("the minimum detectable effect must be non-zero")
    return delta


def _result(n: float, delta: float, a: float, variants: int) -> SampleSize:
    # Nearest integer, as the published calculators (Evan Miller) report it; n_exact keeps the rest.
    n_int = max(2, math.floor(n + 0.5))
    return SampleSize(n, n_int, n_int * variants, delta, a, variants)


def _n_proportions(p: float, delta: float, za: float, zb: float) -> float:
    p2 = p + delta
    sd1 = math.sqrt(2 * p * (1 - p))
    sd2 = math.sqrt(p * (1 - p) + p2 * (1 - p2))
    return (za * sd1 + zb * sd2) ** 2 / delta**2


def sample_size_proportions(
    baseline: float,
    mde: float,
    *,
    relative: bool = False,
    alpha: float = 0.05,
    power: float = 0.8,
    variants: int = 2,
) -> SampleSize:
    """Units per variant to detect a change of a conversion rate (see the module docstring)."""
    if not 0 < baseline < 1:
        raise ValidationError(f"a baseline proportion must be in (0, 1), got {baseline}")
    delta = _effect(baseline, mde, relative)
    if not 0 < baseline + delta < 1:
        raise ValidationError(f"baseline + effect = {baseline + delta} is not a proportion in (0, 1)")
    za, zb, a = _z(alpha, power, variants)
    return _result(_n_proportions(baseline, delta, za, zb), delta, a, variants)


def sample_size_means(
    baseline: float,
    mde: float,
    sd: float,
    *,
    relative: bool = False,
    alpha: float = 0.05,
    power: float = 0.8,
    variants: int = 2,
) -> SampleSize:
    """Units per variant to detect a change ``mde`` of a mean with unit standard deviation ``sd``.

    >>> sample_size_means(50.0, 5.0, 20.0).n_per_variant
    251
    """
    if not sd > 0:
        raise ValidationError(f"the standard deviation must be positive, got {sd}")
    delta = _effect(baseline, mde, relative)
    za, zb, a = _z(alpha, power, variants)
    return _result(2 * sd**2 * (za + zb) ** 2 / delta**2, delta, a, variants)


def power_proportions(baseline: float, delta: float, n: float, *, alpha: float = 0.05, variants: int = 2) -> float:
    """Power of the test with ``n`` units per variant (inverse of :func:`sample_size_proportions`).

    >>> round(power_proportions(0.2, 0.05, 1030.2192831), 6)
    0.8
    """
    a = alpha / (variants - 1)
    za = stats.norm.ppf(1 - a / 2)
    p2 = baseline + delta
    sd1 = math.sqrt(2 * baseline * (1 - baseline))
    sd2 = math.sqrt(baseline * (1 - baseline) + p2 * (1 - p2))
    return float(stats.norm.cdf((abs(delta) * math.sqrt(n) - za * sd1) / sd2))


def mde_means(n: float, sd: float, *, alpha: float = 0.05, power: float = 0.8, variants: int = 2) -> float:
    """Smallest absolute change of a mean detectable with ``n`` units per variant.

    >>> round(mde_means(sample_size_means(50.0, 5.0, 20.0).n_exact, 20.0), 6)
    5.0
    """
    za, zb, _ = _z(alpha, power, variants)
    return (za + zb) * sd * math.sqrt(2 / n)


def mde_proportions(baseline: float, n: float, *, alpha: float = 0.05, power: float = 0.8, variants: int = 2) -> float:
    """Smallest absolute increase of ``baseline`` detectable with ``n`` units per variant.

    >>> round(mde_proportions(0.2, 1030.2192831), 6)
    0.05
    """
    if not 0 < baseline < 1:
        raise ValidationError(f"a baseline proportion must be in (0, 1), got {baseline}")
    if n < 2:
        raise ValidationError(f"n per variant must be at least 2, got {n}")
    za, zb, _ = _z(alpha, power, variants)
    hi = 1 - baseline - 1e-12
    if _n_proportions(baseline, hi, za, zb) > n:
        raise ValidationError(f"no increase of {baseline} is detectable with {n} units per variant")
    return float(optimize.brentq(lambda d: _n_proportions(baseline, d, za, zb) - n, 1e-12, hi, xtol=1e-14))
