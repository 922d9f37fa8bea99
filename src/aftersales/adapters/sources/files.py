"""Streaming readers for CSV, Parquet and JSON Lines files, batch by batch (memory flat in file size).

Every reader yields ``(raw, parse_rejects)``: a DataFrame of the file's own columns whose index is
the 1-based row number (header excluded), and rows it could not parse at all with the reason.
CSV values are read as text; Parquet values keep their types; JSON Lines values keep JSON's types.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from aftersales.core.errors import UnusableInputError

__all__ = ["RawBatch", "header", "read_csv", "read_jsonl", "read_parquet"]

RawBatch = tuple[pd.DataFrame, dict[int, str]]


def _check_file(path: Path) -> None:
    if not path.exists():
        raise UnusableInputError(f"{path}: no such file")
    if path.is_dir():
        raise UnusableInputError(f"{path}: is a folder, not a file")


def header(path: Path, fmt: str) -> list[str]:
    """The column names of a file (first line for CSV, schema for Parquet, first record for JSON Lines)."""
    _check_file(path)
    if fmt == "csv":
        with path.open(newline="", encoding="utf-8-sig") as f:
            first = next(csv.reader(f), None)
        if not first or not any(c.strip() for c in first):
            raise UnusableInputError(f"{path}: no header row (the first line must name the columns)")
        return [c.strip() for c in first]
    if fmt == "parquet":
        try:
            return list(pq.ParquetFile(path).schema_arrow.names)
        except (pa.ArrowInvalid, OSError) as exc:
            raise UnusableInputError(f"{path}: not a readable Parquet file ({exc})") from None
    with path.open(encoding="utf-8") as f:
        for line in f:
            if line.strip():
                try:
                    rec = json.loads(line)
                except ValueError:
                    raise UnusableInputError(f"{path}: line 1 is not a JSON object") from None
                if not isinstance(rec, dict):
                    raise UnusableInputError(f"{path}: line 1 is not a JSON object")
                return list(rec)
    raise UnusableInputError(f"{path}: empty file")


def read_csv(path: Path, batch_size: int) -> Iterator[RawBatch]:
    names = header(path, "csv")
    if len(set(names)) != len(names):
        dup = sorted({n for n in names if names.count(n) > 1})
        raise UnusableInputError(f"{path}: the header names a column twice: {', '.join(dup)}")
    malformed: list[tuple[int | None, str]] = []

    def on_invalid(row: pacsv.InvalidRow) -> str:
        malformed.append(
            (row.number, f"malformed CSV row: expected {row.expected_columns} fields, got {row.actual_columns}")
        )
        return "skip"

    reader = pacsv.open_csv(
        path,
        read_options=pacsv.ReadOptions(block_size=max(1 << 16, batch_size * 200), use_threads=False),
        parse_options=pacsv.ParseOptions(invalid_row_handler=on_invalid, newlines_in_values=True),
        convert_options=pacsv.ConvertOptions(
            column_types={n: pa.string() for n in names}, strings_can_be_null=False, quoted_strings_can_be_null=False
        ),
    )
    next_row = 1
    for rb in reader:
        frame = rb.to_pandas()
        frame.columns = names
        # pyarrow numbers rows by line (header = line 1); skipped rows leave gaps we fill from the log.
        rejects = {}
        for number, why in malformed:
            rejects[(number - 1) if number else next_row] = why
        malformed.clear()
        rows = [r for r in range(next_row, next_row + len(frame) + len(rejects)) if r not in rejects]
        frame.index = pd.Index(rows[: len(frame)], name="row")
        next_row += len(frame) + len(rejects)
        for start in range(0, max(len(frame), 1), batch_size):
            yield frame.iloc[start : start + batch_size], rejects if start == 0 else {}
    if malformed:
        yield pd.DataFrame(columns=names), {(n - 1) if n else next_row: w for n, w in malformed}


def read_parquet(path: Path, batch_size: int) -> Iterator[RawBatch]:
    header(path, "parquet")
    next_row = 1
    for rb in pq.ParquetFile(path).iter_batches(batch_size=batch_size):
        frame = rb.to_pandas(types_mapper=None)
        frame.index = pd.RangeIndex(next_row, next_row + len(frame), name="row")
        next_row += len(frame)
        yield frame, {}


def read_jsonl(path: Path, batch_size: int) -> Iterator[RawBatch]:
    header(path, "jsonl")
    records: list[dict] = []
    rows: list[int] = []
    rejects: dict[int, str] = {}
    with path.open(encoding="utf-8") as f:
        for number, line in enumerate(f, start=1):
            if not line.strip():
                continue
            try:
                rec = json.loads(line)
            except ValueError as exc:
                rejects[number] = f"not valid JSON: {exc.msg}"
                rec = None
            if rec is not None and not isinstance(rec, dict):
                rejects[number] = "not a JSON object"
            elif rec is not None:
                records.append({k: (json.dumps(v) if isinstance(v, dict | list) else v) for k, v in rec.items()})
                rows.append(number)
            if len(records) >= batch_size:
                yield pd.DataFrame.from_records(records, index=pd.Index(rows, name="row")), rejects
                records, rows, rejects = [], [], {}
    if records or rejects:
        yield pd.DataFrame.from_records(records, index=pd.Index(rows, name="row")), rejects
