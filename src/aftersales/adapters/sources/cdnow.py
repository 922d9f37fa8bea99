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

A line that is not text, or has the wrong number of fields, is rejected with its line's reason; a
file whose first line is neither layout is unusable (nothing is written).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path

import pandas as pd

from aftersales.core import contract
from aftersales.core.errors import UnusableInputError
from aftersales.services.importing import SourceBatch

__all__ = ["batches"]

MASTER = ["customer_id", "date", "number_of_cds", "dollar_value"]
SAMPLE = ["customer_id", "sample_id", "date", "number_of_cds", "dollar_value"]


def _fields(line: bytes) -> list[str] | None:
    try:
        return line.decode("ascii").split()
    except UnicodeDecodeError:
        return None


def _layout(path: Path) -> tuple[list[str], bool]:
    if not path.exists():
        raise UnusableInputError(f"{path}: no such file")
    if path.is_dir():
        raise UnusableInputError(f"{path}: is a folder, not a file")
    with path.open("rb") as f:
        first = next((line for line in f if line.strip()), b"")
    parts = _fields(first)
    if parts is None:
        raise UnusableInputError(f"{path}: not a CDNOW log (line 1 is not plain text)")
    if not parts:
        raise UnusableInputError(f"{path}: empty file")
    if parts[0].lower() == "customer_id":
        return MASTER, True
    if len(parts) == 4:
        return MASTER, False
    if len(parts) == 5:
        return SAMPLE, False
    raise UnusableInputError(f"{path}: not a CDNOW log (expected 4 or 5 columns, line 1 has {len(parts)})")


def _read(
    path: Path, names: list[str], has_header: bool, batch_size: int
) -> Iterator[tuple[pd.DataFrame, dict[int, str]]]:
    """Raw rows (text) numbered from 1 after the header, with the rows that could not be split."""
    rows: list[Sequence[str | None]] = []
    index: list[int] = []
    rejects: dict[int, str] = {}
    number = 0
    with path.open("rb") as f:
        lines = (line for line in f if line.strip())
        if has_header:
            next(lines, None)
        for line in lines:
            number += 1
            parts = _fields(line)
            if parts is None:
                rejects[number] = "not plain text: " + repr(line.strip()[:60])[2:-1]
            elif len(parts) != len(names):
                rejects[number] = f"expected {len(names)} fields, got {len(parts)}"
            rows.append(parts if parts is not None and len(parts) == len(names) else [None] * len(names))
            index.append(number)
            if len(rows) >= batch_size:
                yield pd.DataFrame(rows, columns=names, index=pd.Index(index, name="row"), dtype=object), rejects
                rows, index, rejects = [], [], {}
    if rows:
        yield pd.DataFrame(rows, columns=names, index=pd.Index(index, name="row"), dtype=object), rejects


def batches(table: contract.Table, path: Path, batch_size: int, zone: str) -> Iterator[SourceBatch]:
    if table.name != "orders":
        raise UnusableInputError(f"--format cdnow imports orders, not {table.name}")
    names, has_header = _layout(path)
    return _batches(path, names, has_header, batch_size, zone)


def _batches(path: Path, names: list[str], has_header: bool, batch_size: int, zone: str) -> Iterator[SourceBatch]:
    seen: dict[tuple[str, str], int] = {}
    for raw, rejects in _read(path, names, has_header, batch_size):
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
        for r in raw.index[day.isna()]:
            rejects.setdefault(int(r), f"date: not a YYYYMMDD date: {raw.at[r, 'date']!r}")
        yield SourceBatch(raw=raw, tables={"orders": frame.drop(index=list(rejects))}, rejects=rejects)
