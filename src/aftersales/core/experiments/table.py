"""Summary-statistics tables: the input of every analysis, validated with errors that name the row.

One row per metric × slice × variant. Columns (``docs/experiments.md`` has the full reference):

=========================  ==============================================================
``metric``, ``variant``    required; the first variant listed is the control
``n``, ``sum``             required: units and Σy
``sum_squares``            Σy² (required except for ``kind = proportion``, where it equals Σy)
``kind``                   optional: ``mean`` (default), ``proportion`` or ``ratio``
``pre_sum``,               optional CUPED covariate: Σx, Σx², Σxy over the same units
``pre_sum_squares``,
``cross_sum``
``denominator_sum``, …     ratio metrics: Σd, Σd² and ``denominator_cross_sum`` = Σyd per unit
``weight``                 optional expected traffic weight of the variant (for the SRM check)
anything else              a slice (segment) key: each distinct combination is analysed apart
=========================  ==============================================================
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from aftersales.core.errors import FieldError, ValidationError
from aftersales.core.experiments.moments import KIND_CODES, Sums

__all__ = ["STAT_COLUMNS", "SummaryTable", "summary_table"]

STAT_COLUMNS = (
    "n",
    "sum",
    "sum_squares",
    "pre_sum",
    "pre_sum_squares",
    "cross_sum",
    "denominator_sum",
    "denominator_sum_squares",
    "denominator_cross_sum",
)
_PRE = ("pre_sum", "pre_sum_squares", "cross_sum")
_DEN = ("denominator_sum", "denominator_sum_squares", "denominator_cross_sum")
_RESERVED = frozenset(("metric", "variant", "kind", "weight", *STAT_COLUMNS))
# Relative tolerance for Σy² ≥ (Σy)²/n: sums of floats lose a few ulps.
_TOL = 1e-9


@dataclass(frozen=True)
class SummaryTable:
    """A validated table: the normalised frame, its slice columns, the control, cells and sums."""

    frame: pd.DataFrame
    slice_columns: tuple[str, ...]
    control: str
    cell: np.ndarray
    sums: Sums

    @property
    def n_cells(self) -> int:
        return int(self.cell.max()) + 1 if self.cell.size else 0


def _where(frame: pd.DataFrame, i: int, slices: tuple[str, ...]) -> str:
    row = frame.iloc[i]
    parts = [f"metric {row['metric']!r}", *(f"{c} {row[c]!r}" for c in slices), f"variant {row['variant']!r}"]
    return f"row {i + 1} ({', '.join(parts)})"


def _fail(frame: pd.DataFrame, mask: npt.ArrayLike, slices: tuple[str, ...], column: str, why: str) -> None:
    bad = np.flatnonzero(mask)
    if bad.size:
        more = f" (and {bad.size - 1} more rows)" if bad.size > 1 else ""
        i = int(bad[0])
        raise ValidationError(
            f"{_where(frame, i, slices)}: {column} {why}{more}",
            [FieldError(("stats", int(j) + 1, column), why) for j in bad[:50]],
        )


def _numeric(frame: pd.DataFrame, column: str, slices: tuple[str, ...]) -> np.ndarray:
    raw = frame[column]
    values = pd.to_numeric(raw, errors="coerce").to_numpy(dtype=float, na_value=np.nan)
    _fail(frame, raw.notna().to_numpy() & ~np.isfinite(values), slices, column, "is not a finite number")
    return values


def summary_table(data: Any, *, control: str | None = None) -> SummaryTable:
    """Validate summary statistics (a pandas DataFrame, a pyarrow Table or a dict of columns).

    >>> t = summary_table({"metric": ["m", "m"], "variant": ["a", "b"], "n": [10, 12],
    ...                    "sum": [3, 6], "kind": ["proportion", "proportion"]})
    >>> t.control, t.n_cells, t.sums.sum_squares.tolist()
    ('a', 1, [3.0, 6.0])
    >>> summary_table({"metric": ["m"], "variant": ["a"], "n": [-1], "sum": [0], "sum_squares": [0]})
    Traceback (most recent call last):
    ...
    aftersales.core.errors.ValidationError: row 1 (metric 'm', variant 'a'): n must be a non-negative integer
    """
    frame = data.to_pandas() if hasattr(data, "to_pandas") and not isinstance(data, pd.DataFrame) else data
    frame = pd.DataFrame(frame).reset_index(drop=True)
    missing = [c for c in ("metric", "variant", "n", "sum") if c not in frame.columns]
    if missing:
        raise ValidationError(f"summary statistics lack required column(s): {', '.join(missing)}")
    if frame.empty:
        raise ValidationError("summary statistics have no rows")
    slices = tuple(c for c in frame.columns if c not in _RESERVED)
    for c in ("metric", "variant"):
        _fail(frame, frame[c].isna().to_numpy(), slices, c, "is missing")
        frame[c] = frame[c].astype(str)
    for c in slices:
        frame[c] = frame[c].astype("string").fillna("")
    kind_raw = frame["kind"] if "kind" in frame.columns else pd.Series(["mean"] * len(frame))
    kind_names = kind_raw.fillna("mean").astype(str).str.strip().str.lower()
    _fail(frame, ~kind_names.isin(list(KIND_CODES)).to_numpy(), slices, "kind", "must be mean, proportion or ratio")
    kind = kind_names.map(KIND_CODES).to_numpy(dtype=np.int64)
    is_prop, is_ratio = kind == KIND_CODES["proportion"], kind == KIND_CODES["ratio"]

    col = {c: _numeric(frame, c, slices) if c in frame.columns else np.full(len(frame), np.nan) for c in STAT_COLUMNS}
    n, s = col["n"], col["sum"]
    _fail(frame, ~np.isfinite(n) | (n < 0) | (n != np.round(n)), slices, "n", "must be a non-negative integer")
    _fail(frame, n < 2, slices, "n", "is below 2: the variance is undefined")
    _fail(frame, ~np.isfinite(s), slices, "sum", "is missing")
    _fail(frame, is_prop & ((s < 0) | (s > n)), slices, "sum", "of a proportion metric must lie between 0 and n")
    col["sum_squares"] = np.where(is_prop & ~np.isfinite(col["sum_squares"]), s, col["sum_squares"])
    ss = col["sum_squares"]
    _fail(frame, ~np.isfinite(ss), slices, "sum_squares", "is missing")
    _fail(frame, ss < s * s / n - _TOL * np.abs(ss), slices, "sum_squares", "is below sum²/n: the variance is negative")
    for c in _DEN:
        _fail(frame, is_ratio & ~np.isfinite(col[c]), slices, c, "is required for a ratio metric")
    ds, dss = col["denominator_sum"], col["denominator_sum_squares"]
    _fail(frame, is_ratio & (ds == 0), slices, "denominator_sum", "is zero: the ratio is undefined")
    _fail(frame, is_ratio & (dss < ds * ds / n - _TOL * np.abs(dss)), slices, "denominator_sum_squares",
          "is below denominator_sum²/n: the variance is negative")  # fmt: skip
    pre_given = np.column_stack([np.isfinite(col[c]) for c in _PRE])
    _fail(frame, pre_given.any(axis=1) & ~pre_given.all(axis=1), slices, "pre_sum",
          "needs pre_sum, pre_sum_squares and cross_sum together")  # fmt: skip
    ps, pss = col["pre_sum"], col["pre_sum_squares"]
    _fail(frame, ~is_ratio & (pss < ps * ps / n - _TOL * np.abs(pss)), slices, "pre_sum_squares",
          "is below pre_sum²/n: the variance is negative")  # fmt: skip

    weight = _numeric(frame, "weight", slices) if "weight" in frame.columns else np.ones(len(frame))
    weight = np.where(np.isfinite(weight), weight, 1.0)
    _fail(frame, weight <= 0, slices, "weight", "must be positive")

    keys = ["metric", *slices]
    dup = frame.duplicated([*keys, "variant"], keep="first").to_numpy()
    _fail(frame, dup, slices, "variant", "appears twice for the same metric and slice")
    cell = frame.groupby(keys, sort=False, dropna=False).ngroup().to_numpy()
    control = str(frame["variant"].iloc[0]) if control is None else str(control)
    per_cell = np.bincount(cell)
    first_of_cell = np.unique(cell, return_index=True)[1]
    lonely = np.zeros(len(frame), dtype=bool)
    lonely[first_of_cell[per_cell < 2]] = True
    _fail(frame, lonely, slices, "variant", "is the only variant of its metric and slice: need at least two")
    has_control = np.zeros(per_cell.size, dtype=bool)
    has_control[cell[frame["variant"].to_numpy() == control]] = True
    no_control = np.zeros(len(frame), dtype=bool)
    no_control[first_of_cell[~has_control]] = True
    _fail(frame, no_control, slices, "variant", f"belongs to a metric and slice without the control {control!r}")
    # Kind and covariate use must be the same across the variants of one cell.
    for name, values in (("kind", kind.astype(float)), ("pre_sum", pre_given[:, 0].astype(float))):
        lo = np.full(per_cell.size, np.inf)
        hi = np.full(per_cell.size, -np.inf)
        np.minimum.at(lo, cell, values)
        np.maximum.at(hi, cell, values)
        _fail(frame, (lo != hi)[cell], slices, name, "differs between the variants of one metric and slice")

    frame = frame.assign(kind=kind_names.to_numpy(), weight=weight, **{c: col[c] for c in STAT_COLUMNS})
    sums = Sums(
        kind=kind,
        n=n,
        sum=s,
        sum_squares=ss,
        pre_sum=np.where(is_ratio, np.nan, ps),
        pre_sum_squares=np.where(is_ratio, np.nan, pss),
        cross_sum=np.where(is_ratio, np.nan, col["cross_sum"]),
        den_sum=ds,
        den_sum_squares=dss,
        den_cross_sum=col["denominator_cross_sum"],
    )
    return SummaryTable(frame=frame, slice_columns=slices, control=control, cell=cell, sums=sums)
