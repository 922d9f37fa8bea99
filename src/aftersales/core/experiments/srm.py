"""Sample ratio mismatch: is the observed split of units the split the experiment was set up for?

Pearson's chi-square goodness of fit of the unit counts ``o_k`` against the expected counts
``e_k = N w_k / Σw`` (``N = Σo``), with ``K - 1`` degrees of freedom::

    χ² = Σ (o_k - e_k)² / e_k,     p = P(χ²_{K-1} > χ²)

A mismatch (``p < 0.001``, GrowthBook's and Optimizely's threshold) means assignment or tracking is
broken: the lift estimates cannot be trusted, whatever their p-values. Arms with weight 0 are
left out, as in gbstats' ``check_srm``.

>>> round(srm_p_value([5000, 5200]), 6)
0.04767
>>> srm_p_value([5000, 5600]) < SRM_THRESHOLD
True
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from scipy import stats

__all__ = ["SRM_THRESHOLD", "srm_p_value", "srm_p_values"]

SRM_THRESHOLD = 0.001


def srm_p_values(counts: np.ndarray, weights: np.ndarray | None = None) -> np.ndarray:
    """P-values for many experiments at once: ``counts`` is (experiments × arms), NaN where an arm is absent."""
    counts = np.atleast_2d(np.asarray(counts, dtype=float))
    w = np.ones_like(counts) if weights is None else np.broadcast_to(np.asarray(weights, dtype=float), counts.shape)
    present = np.isfinite(counts) & np.isfinite(w) & (w > 0)
    o = np.where(present, counts, 0.0)
    w = np.where(present, w, 0.0)
    total = o.sum(axis=1, keepdims=True)
    with np.errstate(divide="ignore", invalid="ignore"):
        e = total * w / w.sum(axis=1, keepdims=True)
        chi2 = np.where(present, (o - e) ** 2 / e, 0.0).sum(axis=1)
    dof = present.sum(axis=1) - 1
    p = stats.chi2.sf(chi2, np.maximum(dof, 1))
    return np.where((total[:, 0] > 0) & (dof >= 1), p, 1.0)


def srm_p_value(counts: Sequence[float], weights: Sequence[float] | None = None) -> float:
    """P-value of one experiment's split (equal weights when ``weights`` is None)."""
    return float(srm_p_values(np.asarray([counts], dtype=float), None if weights is None else np.asarray(weights))[0])
