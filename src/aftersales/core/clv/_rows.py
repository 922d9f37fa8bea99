"""Customer rows in, distinct rows with counts out: the input side of every CLV fit."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

from aftersales.core.errors import ValidationError

__all__ = ["as_columns", "factorize", "group_rows"]


def as_columns(data: Any, columns: tuple[str, ...]) -> dict[str, np.ndarray]:
    """Pull ``columns`` out of a DataFrame, Arrow table or mapping as float64 arrays."""
    out: dict[str, np.ndarray] = {}
    for name in columns:
        try:
            if isinstance(data, pa.Table):
                values = data.column(name).to_numpy()
            elif isinstance(data, (pd.DataFrame, Mapping)):
                values = data[name]
            else:
                raise TypeError(f"unsupported data type {type(data).__name__}")
        except (KeyError, IndexError) as exc:
            raise ValidationError(f"data lacks the column {name!r} (needs {', '.join(columns)})") from exc
        out[name] = np.asarray(values, dtype=float).reshape(-1)
    return out


def factorize(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Integer codes and the values they stand for. Columns of small whole numbers (frequencies) are
    their own codes (no hashing); anything else, NaN included, is hashed by ``pandas.factorize``.

    >>> [c.tolist() for c in factorize(np.array([2.0, 0.0, 2.0]))]
    [[2, 0, 2], [0.0, 1.0, 2.0]]
    """
    if values.size:
        lo, hi = values.min(), values.max()
        if lo >= 0 and hi < 4096 and np.array_equal(values, np.floor(values)):
            return values.astype(np.int64), np.arange(int(hi) + 1, dtype=float)
    return pd.factorize(values, use_na_sentinel=False)


def group_rows(cols: dict[str, np.ndarray]) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """Group identical rows: the distinct rows and how many customers each stands for.

    Each column is hashed to integer codes, the codes are packed into one int64 key and the keys are
    hashed again (linear time, no sort).

    >>> d, w = group_rows({"x": np.array([1.0, 1.0, 2.0]), "T": np.array([5.0, 5.0, 5.0])})
    >>> d["x"].tolist(), w.tolist()
    ([1.0, 2.0], [2.0, 1.0])
    """
    names = list(cols)
    factorized = [factorize(cols[k]) for k in names]
    sizes = [max(len(u), 1) for _, u in factorized]
    if float(np.prod(np.array(sizes, dtype=float))) >= 2.0**62:
        raise ValidationError("too many distinct values to group")  # not reachable for RFM data
    key = np.zeros(cols[names[0]].size, dtype=np.int64)
    for (codes, _), size in zip(factorized, sizes, strict=True):
        key = key * size + codes
    group, keys = pd.factorize(key)
    counts = np.bincount(group, minlength=len(keys)).astype(float)
    out: dict[str, np.ndarray] = {}
    for name, (_, uniques), size in reversed(list(zip(names, factorized, sizes, strict=True))):
        out[name] = np.asarray(uniques, dtype=float)[keys % size]
        keys = keys // size
    return {k: out[k] for k in names}, counts
