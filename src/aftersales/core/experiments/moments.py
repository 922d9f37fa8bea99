"""From summary statistics to the mean and variance of each arm of a comparison (vectorised).

Every comparison needs, per arm, a mean ``m``, the variance of one unit ``v`` and the count ``n``.
They come from sums only (gbstats' rule: the engine returns sums, Python does the math):

* **mean** metric: ``m = S/n``, ``v = (Q - S²/n) / (n - 1)`` (``S`` = sum, ``Q`` = sum of squares).
* **proportion** metric (0/1 outcome): ``m = S/n``, ``v = m (1 - m)`` (GrowthBook's binomial variance).
* **ratio** metric ``Σy / Σx`` over units (revenue per order with customers as units): delta method
  ``v = v_y/μ_x² - 2 c_xy μ_y/μ_x³ + μ_y² v_x/μ_x⁴`` with ``μ`` the per-unit means and ``c_xy`` the
  per-unit covariance ``(Σxy - Σx Σy/n)/(n - 1)``.
* **CUPED** (a pre-period covariate ``X`` per unit): ``θ = cov(Y, X) / var(X)`` computed on the two
  arms pooled, adjusted mean ``m - θ m_X`` and variance ``v_Y + θ² v_X - 2θ c_XY`` (Deng et al. 2013;
  identical to GrowthBook's regression adjustment). When the pooled variance of ``X`` or ``Y`` is zero
  the adjustment is skipped (θ = 0), as GrowthBook does.

All functions take numpy arrays (one element per arm or per comparison) so that thousands of
comparisons run in a handful of array operations.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["KIND_CODES", "ArmMoments", "Sums", "cuped_pair", "plain_moments"]

# Integer codes for the metric kind, so that whole tables are handled with ``np.where``.
KIND_CODES: dict[str, int] = {"mean": 0, "proportion": 1, "ratio": 2}


@dataclass(frozen=True)
class Sums:
    """Summary statistics of many arms (each attribute is a float array of the same length).

    ``pre_*``/``cross_sum`` are NaN where no covariate was given; ``den_*`` are NaN except for
    ratio metrics (``den_cross_sum`` is Σ numerator × denominator per unit).
    """

    kind: np.ndarray
    n: np.ndarray
    sum: np.ndarray
    sum_squares: np.ndarray
    pre_sum: np.ndarray
    pre_sum_squares: np.ndarray
    cross_sum: np.ndarray
    den_sum: np.ndarray
    den_sum_squares: np.ndarray
    den_cross_sum: np.ndarray

    def take(self, idx: np.ndarray) -> Sums:
        """The arms at positions ``idx``."""
        return Sums(**{k: getattr(self, k)[idx] for k in self.__dataclass_fields__})


@dataclass(frozen=True)
class ArmMoments:
    """Per-arm mean (possibly CUPED-adjusted), unadjusted mean, unit variance and count."""

    mean: np.ndarray
    raw_mean: np.ndarray
    var: np.ndarray
    n: np.ndarray


def _sample_var(n: np.ndarray, s: np.ndarray, q: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        var: np.ndarray = (q - s * s / n) / (n - 1)
        return var


def _sample_cov(n: np.ndarray, sx: np.ndarray, sy: np.ndarray, sxy: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        cov: np.ndarray = (sxy - sx * sy / n) / (n - 1)
        return cov


def _outcome_var(kind: np.ndarray, n: np.ndarray, s: np.ndarray, q: np.ndarray) -> np.ndarray:
    """Unit variance of the outcome: binomial ``p(1-p)`` for proportions, sample variance otherwise."""
    with np.errstate(divide="ignore", invalid="ignore"):
        p = s / n
    return np.where(kind == KIND_CODES["proportion"], p * (1 - p), _sample_var(n, s, q))


def plain_moments(a: Sums) -> ArmMoments:
    """Moments without covariate adjustment (mean, proportion and ratio metrics).

    >>> s = Sums(*(np.array([x], dtype=float) for x in (0, 4, 10, 30, *[np.nan] * 6)))
    >>> m = plain_moments(s)
    >>> float(m.mean[0]), round(float(m.var[0]), 6)
    (2.5, 1.666667)
    """
    n = a.n
    with np.errstate(divide="ignore", invalid="ignore"):
        mean = a.sum / n
        # Ratio metric: numerator / denominator means and delta-method unit variance.
        mx = a.den_sum / n
        vy = _sample_var(n, a.sum, a.sum_squares)
        vx = _sample_var(n, a.den_sum, a.den_sum_squares)
        cxy = _sample_cov(n, a.sum, a.den_sum, a.den_cross_sum)
        ratio = a.sum / a.den_sum
        ratio_var = vy / mx**2 - 2 * cxy * mean / mx**3 + mean**2 * vx / mx**4
    is_ratio = a.kind == KIND_CODES["ratio"]
    m = np.where(is_ratio, ratio, mean)
    v = np.where(is_ratio, ratio_var, _outcome_var(a.kind, n, a.sum, a.sum_squares))
    return ArmMoments(mean=m, raw_mean=m, var=v, n=n.astype(float))


def cuped_pair(a: Sums, b: Sums) -> tuple[ArmMoments, ArmMoments, np.ndarray]:
    """Moments of control ``a`` and treatment ``b`` with CUPED where a covariate is present.

    Returns the two arms' moments and θ per comparison (0 where no adjustment was made).
    θ is estimated on the two arms pooled, so the same θ adjusts both arms of one comparison.
    """
    plain_a, plain_b = plain_moments(a), plain_moments(b)
    has_cov = np.isfinite(a.pre_sum) & np.isfinite(b.pre_sum) & (a.kind != KIND_CODES["ratio"])
    n = a.n + b.n
    s, q = a.sum + b.sum, a.sum_squares + b.sum_squares
    ps, pq = a.pre_sum + b.pre_sum, a.pre_sum_squares + b.pre_sum_squares
    joint_post_var = _outcome_var(a.kind, n, s, q)
    joint_pre_var = _sample_var(n, ps, pq)
    joint_cov = _sample_cov(n, s, ps, a.cross_sum + b.cross_sum)
    usable = has_cov & (joint_pre_var > 0) & (joint_post_var > 0)
    with np.errstate(divide="ignore", invalid="ignore"):
        theta = np.where(usable, joint_cov / joint_pre_var, 0.0)

    def adjust(arm: Sums, plain: ArmMoments) -> ArmMoments:
        pre_mean = arm.pre_sum / arm.n
        pre_var = _sample_var(arm.n, arm.pre_sum, arm.pre_sum_squares)
        cov = _sample_cov(arm.n, arm.sum, arm.pre_sum, arm.cross_sum)
        with np.errstate(invalid="ignore"):
            mean = np.where(usable, plain.mean - theta * pre_mean, plain.mean)
            var = np.where(usable, plain.var + theta**2 * pre_var - 2 * theta * cov, plain.var)
        return ArmMoments(mean=mean, raw_mean=plain.raw_mean, var=var, n=plain.n)

    return adjust(a, plain_a), adjust(b, plain_b), theta
