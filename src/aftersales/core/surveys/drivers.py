"""Drivers of satisfaction: how much each dimension's score explains the overall score.

Ordinary least squares of the overall score y on the dimension scores x_1..x_k of the same
responses (complete answers only), with an intercept:

    y = b_0 + Σ_j b_j x_j + e

computed from **sufficient statistics** (n, Σx, Σxx', Σy, Σxy, Σy²), which the engine sums over any
number of responses (:func:`cross_product_sums` builds that one-row aggregate), so a million
responses cost one scan. With centred cross-products C_xx = Σxx' − n·x̄x̄', c_xy = Σxy − n·x̄ȳ,
s_yy = Σy² − n·ȳ²:

    b = C_xx⁻¹ c_xy,  b_0 = ȳ − x̄'b,  RSS = s_yy − b'c_xy,  σ² = RSS / (n − k − 1),
    Cov(b) = σ² C_xx⁻¹,  Var(b_0) = σ² (1/n + x̄' C_xx⁻¹ x̄),  R² = 1 − RSS / s_yy

and two-sided t intervals with n − k − 1 degrees of freedom (the classical OLS results; statsmodels'
``OLS`` gives the same numbers: tests/oracle). Each dimension's **share** of the explained variation
is its Shapley value of R² over all subsets of the dimensions (Lindeman, Merenda & Gold 1980, "LMG";
Grömping 2006): the average gain in R² from adding it, over every order in which the dimensions could
be added; the shares sum to R².

>>> import numpy as np
>>> rng = np.random.default_rng(0)
>>> x = rng.integers(1, 8, size=(500, 2)).astype(float)
>>> y = 1.0 + 0.5 * x[:, 0] + 0.2 * x[:, 1] + rng.normal(0, 0.5, 500)
>>> d = drivers_from_sums(sums_from_arrays(x, y), ("shipping", "product"))
>>> [round(c.estimate, 2) for c in d.coefficients], round(d.r_squared, 2)
([0.5, 0.2], 0.84)
>>> print(d.coefficients[0].plain())  # doctest: +ELLIPSIS
A one-point better shipping score goes with a 0.50-point higher overall score (95% interval 0.48 to 0.52), ...
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import ibis
import ibis.expr.types as ir
import numpy as np
import numpy.typing as npt
from scipy import stats

from aftersales.core.errors import ConvergenceError

__all__ = [
    "CoefficientEstimate",
    "Drivers",
    "cross_product_sums",
    "drivers_from_sums",
    "sums_from_arrays",
    "sums_from_row",
]

FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True)
class CrossProducts:
    """Σ over responses of z z' where z = (1, x_1..x_k, y): n is ``matrix[0, 0]``."""

    matrix: FloatArray

    @property
    def n(self) -> int:
        return round(float(self.matrix[0, 0]))


@dataclass(frozen=True)
class CoefficientEstimate:
    """One term of the regression: estimate, standard error, t interval, p-value and LMG share."""

    name: str
    estimate: float
    std_error: float
    ci_low: float
    ci_high: float
    t_stat: float
    p_value: float
    share: float | None = None
    """This dimension's Shapley share of R² (``None`` for the intercept)."""

    def plain(self, level: float = 0.95) -> str:
        """The estimate in words."""
        pct = f"{level:.0%}"
        if self.ci_low <= 0.0 <= self.ci_high:
            what = (
                f"{self.name} shows no clear link with the overall score: the {pct} interval "
                f"{self.ci_low:.2f} to {self.ci_high:.2f} includes zero"
            )
        else:
            direction = "higher" if self.estimate > 0 else "lower"
            what = (
                f"A one-point better {self.name} score goes with a {abs(self.estimate):.2f}-point {direction} "
                f"overall score ({pct} interval {self.ci_low:.2f} to {self.ci_high:.2f}), other answers equal"
            )
        share = (
            f"; it accounts for {self.share:.0%} of the variation in the overall score"
            if self.share is not None
            else ""
        )
        return f"{what}{share}."


@dataclass(frozen=True)
class Drivers:
    """The fitted regression: intercept, one coefficient per dimension (largest share first), fit."""

    intercept: CoefficientEstimate
    coefficients: tuple[CoefficientEstimate, ...]
    n: int
    r_squared: float
    residual_sd: float
    dof: int
    level: float

    def summary(self) -> list[str]:
        """The result in plain sentences, most important dimension first."""
        head = (
            f"The {len(self.coefficients)} dimension scores together explain {self.r_squared:.0%} of the "
            f"variation in the overall score ({self.n:,} complete responses)."
        )
        return [head, *(c.plain(self.level) for c in self.coefficients)]

    def by_name(self) -> Mapping[str, CoefficientEstimate]:
        return {c.name: c for c in self.coefficients}


def cross_product_sums(wide: ir.Table, dimensions: Sequence[str], overall: str = "overall") -> ir.Table:
    """One row: ``n`` and ``s_<i>_<j>`` = Σ z_i z_j over the rows of ``wide`` where every column is
    known (z_0 = 1, z_1..z_k the dimensions, z_(k+1) the overall score; i <= j). Values are cast to
    float64 before multiplying (exact for scores; and SUM of bigint is NUMERIC on PostgreSQL)."""
    cols = [*dimensions, overall]
    rows = wide.filter([wide[c].notnull() for c in cols])
    z = [ibis.literal(1.0)] + [rows[c].cast("float64") for c in cols]
    aggs: dict[str, ir.Value] = {"n": rows.count().cast("float64")}
    for i, j in itertools.combinations_with_replacement(range(len(z)), 2):
        if (i, j) != (0, 0):
            aggs[f"s_{i}_{j}"] = (z[i] * z[j]).sum().cast("float64")
    return rows.aggregate(**aggs)


def sums_from_row(row: Mapping[str, float | None], k: int) -> CrossProducts:
    """The matrix of a :func:`cross_product_sums` row (``k`` dimensions)."""
    size = k + 2
    m = np.zeros((size, size))
    m[0, 0] = float(row.get("n") or 0.0)
    for i, j in itertools.combinations_with_replacement(range(size), 2):
        if (i, j) != (0, 0):
            m[i, j] = m[j, i] = float(row.get(f"s_{i}_{j}") or 0.0)
    return CrossProducts(m)


def sums_from_arrays(x: FloatArray, y: FloatArray) -> CrossProducts:
    """The cross-products of in-memory data (``x``: n × k, ``y``: n)."""
    z = np.column_stack([np.ones(len(y)), x, y]).astype(np.float64)
    return CrossProducts(z.T @ z)


def _r2_subsets(cxx: FloatArray, cxy: FloatArray, syy: float) -> dict[frozenset[int], float]:
    k = len(cxy)
    out: dict[frozenset[int], float] = {frozenset(): 0.0}
    for size in range(1, k + 1):
        for subset in itertools.combinations(range(k), size):
            idx = list(subset)
            b = np.linalg.lstsq(cxx[np.ix_(idx, idx)], cxy[idx], rcond=None)[0]
            out[frozenset(subset)] = float(b @ cxy[idx]) / syy
    return out


def _shapley(r2: Mapping[frozenset[int], float], k: int) -> list[float]:
    shares = []
    for j in range(k):
        total = 0.0
        others = [i for i in range(k) if i != j]
        for size in range(k):
            weight = math.factorial(size) * math.factorial(k - size - 1) / math.factorial(k)
            for subset in itertools.combinations(others, size):
                s = frozenset(subset)
                total += weight * (r2[s | {j}] - r2[s])
        shares.append(total)
    return shares


def drivers_from_sums(sums: CrossProducts, dimensions: Sequence[str], *, level: float = 0.95) -> Drivers:
    """The regression of the overall score on ``dimensions`` from their cross-products (module docstring).

    :class:`ConvergenceError` when the data cannot identify it: fewer responses than terms plus one,
    a dimension that never varies or is a linear combination of others, an overall score that
    never varies."""
    k = len(dimensions)
    m = sums.matrix
    n = m[0, 0]
    dof = round(n) - k - 1
    if dof < 1:
        raise ConvergenceError(f"{int(n)} complete responses cannot fit {k} dimensions and an intercept")
    means = m[0, 1:] / n
    centred = m[1:, 1:] - n * np.outer(means, means)
    cxx, cxy, syy = centred[:k, :k], centred[:k, k], float(centred[k, k])
    if syy <= 0:
        raise ConvergenceError("the overall score never varies: nothing to explain")
    scale = np.sqrt(np.clip(np.diag(cxx), 0.0, None))
    if k and (np.any(scale == 0.0) or np.linalg.matrix_rank(cxx / np.outer(scale, scale)) < k):
        raise ConvergenceError("a dimension never varies, or is a combination of others: drop it")
    inv = np.linalg.inv(cxx) if k else np.zeros((0, 0))
    b = inv @ cxy
    rss = max(syy - float(b @ cxy), 0.0)
    sigma2 = rss / dof
    se = np.sqrt(np.clip(np.diag(inv) * sigma2, 0.0, None))
    x_mean, y_mean = means[:k], means[k]
    b0 = float(y_mean - x_mean @ b)
    se0 = math.sqrt(sigma2 * (1.0 / n + float(x_mean @ inv @ x_mean)))
    crit = float(stats.t.ppf(0.5 + level / 2.0, dof))
    shares = _shapley(_r2_subsets(cxx, cxy, syy), k) if k else []

    def term(name: str, est: float, s: float, share: float | None) -> CoefficientEstimate:
        t = est / s if s > 0 else math.inf
        p = float(2.0 * stats.t.sf(abs(t), dof)) if s > 0 else 0.0
        return CoefficientEstimate(name, est, s, est - crit * s, est + crit * s, t, p, share)

    coefs = [term(name, float(b[j]), float(se[j]), shares[j]) for j, name in enumerate(dimensions)]
    coefs.sort(key=lambda c: -(c.share or 0.0))
    return Drivers(
        intercept=term("intercept", b0, se0, None),
        coefficients=tuple(coefs),
        n=round(n),
        r_squared=1.0 - rss / syy,
        residual_sd=math.sqrt(sigma2),
        dof=dof,
        level=level,
    )
