"""The CDNOW transaction logs (Fader & Hardie's CDNOW data set), as orders.

Two layouts, whitespace-separated, one purchase per line:

- master file ``CDNOW_master.txt``: ``customer_id date number_of_cds dollar_value`` (a header line);
- sample file ``CDNOW_sample.txt``: ``master_id sample_id date number_of_cds dollar_value`` (no header;
  the customer is the master id, which matches the master file).

Mapping: ``customer_id`` as written (e.g. ``00001``); ``ordered_at`` = the date at midnight in the
reporting time zone; ``revenue`` = dollar_value; ``status`` = delivered; ``order_id`` =
``cdnow-<customer>-<YYYYMMDD>-<n>`` where n numbers a customer's purchases on one day in file order,
so the ids are the same on every import. The number of CDs is not part of the order contract and is
dropped. Customers are created as needed (the file is their only source).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pandas as pd

from aftersales.core import contract
from aftersales.core.errors import UnusableInputError
from aftersales.services.importing import SourceBatch

__all__ = ["batches"]

MASTER = ["customer_id", "date", "number_of_cds", "dollar_value"]
SAMPLE = ["customer_id", "sample_id", "date", "number_of_cds", "dollar_value"]


def _layout(path: Path) -> tuple[list[str], bool]:
    if not path.exists():
        raise UnusableInputError(f"{path}: no such file")
    with path.open(encoding="utf-8") as f:
        first = next((line for line in f if line.strip()), "")
    parts = first.split()
    if not parts:
        raise UnusableInputError(f"{path}: empty file")
    if parts[0].lower() == "customer_id":
        return MASTER, True
    if len(parts) == 4:
        return MASTER, False
    if len(parts) == 5:
        return SAMPLE, False
    raise UnusableInputError(f"{path}: not a CDNOW log (expected 4 or 5 columns, line 1 has {len(parts)})")


def batches(table: contract.Table, path: Path, batch_size: int, zone: str) -> Iterator[SourceBatch]:
    if table.name != "orders":
        raise UnusableInputError(f"--format cdnow imports orders, not {table.name}")
    names, has_header = _layout(path)
    seen: dict[tuple[str, str], int] = {}
    reader = pd.read_csv(
        path, sep=r"\s+", header=None, names=names, dtype=str, skiprows=1 if has_header else 0, chunksize=batch_size
    )
    next_row = 1
    for raw in reader:
        raw.index = pd.RangeIndex(next_row, next_row + len(raw), name="row")
        next_row += len(raw)
        day = pd.to_datetime(raw["date"], format="%Y%m%d", errors="coerce")
        stamp = day.dt.tz_localize(zone, ambiguous="NaT", nonexistent="shift_forward").dt.tz_convert("UTC")
        seq = []
        for cust, d in zip(raw["customer_id"], raw["date"], strict=True):
            n = seen.get((cust, d), 0) + 1
            seen[(cust, d)] = n
            seq.append(n)
        frame = pd.DataFrame(
            {
                "order_id": "cdnow-"
                + raw["customer_id"]
                + "-"
                + raw["date"]
                + "-"
                + pd.Series(seq, index=raw.index).astype(str),
                "customer_id": raw["customer_id"],
                "ordered_at": stamp,
                "revenue": raw["dollar_value"],
                "status": "delivered",
            },
            index=raw.index,
        )
        bad = raw.index[day.isna()]
        rejects = {int(r): f"date: not a YYYYMMDD date: {raw.at[r, 'date']!r}" for r in bad}
        yield SourceBatch(raw=raw, tables={"orders": frame.drop(index=bad)}, rejects=rejects)
