"""The reject file: ``PATH.rejected.csv`` holds each bad row's row number, reason and original values."""

from __future__ import annotations

import csv
from pathlib import Path

import pandas as pd

__all__ = ["CsvRejectSink"]


class CsvRejectSink:
    """Writes rejected rows as CSV (``row``, ``reason``, then the file's own columns).

    A stale reject file from an earlier run is removed when the sink is created; the file is only
    written when a row is rejected.
    """

    def __init__(self, path: str | Path) -> None:
        self.path = str(path)
        self._columns: list[str] | None = None
        Path(self.path).unlink(missing_ok=True)

    def write(self, raw: pd.DataFrame, reasons: pd.Series) -> None:
        if reasons.empty:
            return
        new = self._columns is None
        if new:
            self._columns = [str(c) for c in raw.columns]
        with open(self.path, "a", newline="", encoding="utf-8") as f:
            w = csv.writer(f)
            if new:
                w.writerow(["row", "reason", *self._columns])
            for row, reason in reasons.items():
                values = raw.loc[row] if row in raw.index else pd.Series(dtype=object)
                w.writerow([row, reason, *("" if pd.isna(v) else v for v in (values.get(c) for c in self._columns))])
