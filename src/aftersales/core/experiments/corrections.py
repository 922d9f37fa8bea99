"""Multiple testing: Holm–Bonferroni and Benjamini–Hochberg adjusted p-values and intervals.

With ``m`` comparisons and p-values sorted ascending ``p_(1) ≤ … ≤ p_(m)``:

* **Holm** (family-wise error rate): ``p̃_(i) = max_{j ≤ i} min(1, (m - j + 1) p_(j))``;
* **Benjamini–Hochberg** (false discovery rate): ``p̃_(i) = min_{j ≥ i} min(1, m p_(j) / j)``.

Both equal statsmodels' ``multipletests(method="holm" | "fdr_bh")``.

**Adjusted intervals.** Each comparison's interval is recomputed at the level ``α_i = α p_i / p̃_i``.
For a test whose intervals are dual to its p-values (t-test, confidence sequence with fixed ρ) the
interval at level ``α_i`` excludes the null exactly when ``p_i ≤ α p_i / p̃_i``, i.e. when ``p̃_i ≤ α``:
adjusted intervals and adjusted p-values always agree. For Bonferroni this is the textbook
``α/m`` interval. (GrowthBook instead backs a standard error out of the adjusted p-value; the two
cross zero at the same point but differ in width.)

>>> [round(float(x), 4) for x in holm([0.01, 0.04, 0.03, 0.005])]
[0.03, 0.06, 0.06, 0.02]
>>> [round(float(x), 4) for x in benjamini_hochberg([0.01, 0.04, 0.03, 0.005])]
[0.02, 0.04, 0.04, 0.02]
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import numpy as np

__all__ = ["Correction", "adjust", "adjusted_alpha", "benjamini_hochberg", "holm"]

Correction = Literal["holm", "bh", "none"]


def _clean(p: Sequence[float] | np.ndarray) -> np.ndarray:
    arr = np.asarray(p, dtype=float)
    if arr.ndim != 1:
        raise ValueError("p-values must be a flat sequence")
    if np.any((arr < 0) | (arr > 1)):
        raise ValueError("p-values must lie in [0, 1]")
    return arr


def holm(p: Sequence[float] | np.ndarray) -> np.ndarray:
    """Holm–Bonferroni step-down adjusted p-values (NaN p-values are left out of the family)."""
    arr = _clean(p)
    out = np.full_like(arr, np.nan)
    ok = np.flatnonzero(np.isfinite(arr))
    m = ok.size
    if m == 0:
        return out
    order = ok[np.argsort(arr[ok], kind="stable")]
    scaled = np.minimum(1.0, (m - np.arange(m)) * arr[order])
    out[order] = np.maximum.accumulate(scaled)
    return out


def benjamini_hochberg(p: Sequence[float] | np.ndarray) -> np.ndarray:
    """Benjamini–Hochberg step-up adjusted p-values (NaN p-values are left out of the family)."""
    arr = _clean(p)
    out = np.full_like(arr, np.nan)
    ok = np.flatnonzero(np.isfinite(arr))
    m = ok.size
    if m == 0:
        return out
    order = ok[np.argsort(arr[ok], kind="stable")]
    scaled = np.minimum(1.0, m * arr[order] / np.arange(1, m + 1))
    out[order] = np.minimum.accumulate(scaled[::-1])[::-1]
    return out


def adjust(p: Sequence[float] | np.ndarray, correction: Correction) -> np.ndarray:
    """Adjusted p-values for ``correction`` (``"none"`` returns them unchanged)."""
    if correction == "holm":
        return holm(p)
    if correction == "bh":
        return benjamini_hochberg(p)
    if correction == "none":
        return _clean(p).copy()
    raise ValueError(f"unknown correction {correction!r}: use holm, bh or none")


def adjusted_alpha(p: np.ndarray, p_adjusted: np.ndarray, alpha: float) -> np.ndarray:
    """Per-comparison interval level ``α p / p̃`` that makes intervals agree with adjusted p-values.

    Where ``p = 0`` (underflow) the Bonferroni level ``α/m`` is used; it still excludes the null.

    >>> adjusted_alpha(np.array([0.01, 0.5]), np.array([0.02, 0.5]), 0.05).tolist()
    [0.025, 0.05]
    """
    p = np.asarray(p, dtype=float)
    p_adjusted = np.asarray(p_adjusted, dtype=float)
    m = max(int(np.isfinite(p).sum()), 1)
    with np.errstate(divide="ignore", invalid="ignore"):
        level = alpha * p / p_adjusted
    return np.where((p > 0) & (p_adjusted > 0), level, alpha / m)
