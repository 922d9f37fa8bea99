"""Outlier capping (winsorising) of per-customer outcomes before they are summed.

A handful of very large orders can swamp a revenue test. Winsorising replaces every value above
the ``upper`` quantile ``q_hi`` by ``q_hi`` (and, for refunds and other negative tails, every value
below the ``lower`` quantile by ``q_lo``). Quantiles use linear interpolation between order
statistics (numpy's default, DuckDB's ``quantile_cont``).

``ignore_zeros``: most customers buy nothing during a test window, so the 99th percentile of all
customers may be 0 and capping would wipe out every purchase. With ``ignore_zeros`` the quantiles
are computed over the non-zero values only, and zeros are left as they are.

>>> capped, (lo, hi) = winsorize(np.array([0, 0, 0, 0, 10, 20, 30, 1000.0]), upper=0.5, ignore_zeros=True)
>>> capped.tolist(), hi
([0.0, 0.0, 0.0, 0.0, 10.0, 20.0, 25.0, 25.0], 25.0)
"""

from __future__ import annotations

import ibis
import ibis.expr.types as ir
import numpy as np

__all__ = ["capped_column", "winsorize"]


def _check(upper: float | None, lower: float | None) -> None:
    for q in (upper, lower):
        if q is not None and not 0.0 <= q <= 1.0:
            raise ValueError(f"capping quantiles must lie in [0, 1], got {q}")
    if upper is not None and lower is not None and lower > upper:
        raise ValueError("the lower capping quantile must not exceed the upper one")


def winsorize(
    values: np.ndarray,
    *,
    upper: float | None = 0.99,
    lower: float | None = None,
    ignore_zeros: bool = False,
) -> tuple[np.ndarray, tuple[float | None, float | None]]:
    """Capped copy of ``values`` and the thresholds used ``(q_lo, q_hi)`` (None where not capped)."""
    _check(upper, lower)
    x = np.asarray(values, dtype=float)
    basis = x[np.isfinite(x) & (x != 0)] if ignore_zeros else x[np.isfinite(x)]
    if basis.size == 0:
        return x.copy(), (None, None)
    hi = float(np.quantile(basis, upper)) if upper is not None else None
    lo = float(np.quantile(basis, lower)) if lower is not None else None
    out = np.clip(x, lo, hi)
    if ignore_zeros:
        out = np.where(x == 0, 0.0, out)
    return out, (lo, hi)


def capped_column(
    table: ir.Table,
    column: str,
    *,
    upper: float | None = 0.99,
    lower: float | None = None,
    ignore_zeros: bool = False,
) -> ir.Table:
    """``table`` with ``column`` winsorised in the engine (same rule as :func:`winsorize`).

    The thresholds are whole-table quantiles computed by the engine, so nothing leaves it.
    """
    _check(upper, lower)
    col = table[column].cast("float64")
    where = col != 0 if ignore_zeros else None
    bounds = {}
    if upper is not None:
        bounds["_cap_hi"] = col.quantile(upper, where=where)
    if lower is not None:
        bounds["_cap_lo"] = col.quantile(lower, where=where)
    if not bounds:
        return table
    # A one-row aggregate cross-joined back: PostgreSQL has no windowed percentile_cont.
    joined = table.cross_join(table.aggregate(**bounds))
    value = joined[column].cast("float64")
    clipped = value.clip(
        lower=joined["_cap_lo"] if lower is not None else None,
        upper=joined["_cap_hi"] if upper is not None else None,
    )
    if ignore_zeros:
        clipped = ibis.ifelse(value == 0, 0.0, clipped)
    return joined.mutate(**{column: clipped}).select(*table.columns)
