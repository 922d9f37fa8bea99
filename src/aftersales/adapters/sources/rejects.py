"""The reject file: ``PATH.rejected.csv`` holds each bad row's row number, reason and original values."""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

import pandas as pd

__all__ = ["CsvRejectSink"]


class CsvRejectSink:
    """Writes rejected rows as CSV (``row``, ``reason``, then the file's own columns), UTF-8.

    A stale reject file from an earlier run is removed when the sink is created; the file is only
    written when a row is rejected, each batch's rows in one write (rendered first), so a failure
    while rendering leaves no empty or half-written file. Text that UTF-8 cannot hold (a lone
    surrogate from a JSON ``\\ud800`` escape) is written as its ``\\u`` escape.
    """

    def __init__(self, path: str | Path) -> None:
        self.path = str(path)
        self._columns: list[str] | None = None
        Path(self.path).unlink(missing_ok=True)

    def write(self, raw: pd.DataFrame, reasons: pd.Series) -> None:
        if reasons.empty:
            return
        columns = self._columns if self._columns is not None else [str(c) for c in raw.columns]
        buf = io.StringIO()
        w = csv.writer(buf)
        if self._columns is None:
            w.writerow(["row", "reason", *columns])
        for row, reason in zip(reasons.index.astype("int64").tolist(), reasons.tolist(), strict=True):
            values = raw.loc[row] if row in raw.index else pd.Series(dtype=object)
            w.writerow([row, reason, *("" if _missing(v) else v for v in (values.get(c) for c in columns))])
        with open(self.path, "a", newline="", encoding="utf-8", errors="backslashreplace") as f:
            f.write(buf.getvalue())
        self._columns = columns


def _missing(v: Any) -> bool:  # a cell of any type
    try:
        return bool(pd.isna(v))
    except (TypeError, ValueError):  # a list or array value is not missing
        return False
