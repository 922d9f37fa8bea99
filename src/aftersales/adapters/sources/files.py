"""Streaming readers for CSV, Parquet and JSON Lines files, batch by batch (memory flat in file size).

Every reader yields ``(raw, parse_rejects)``: a DataFrame of the file's own columns whose index is
the 1-based row number (header excluded), and rows it could not read at all with the reason.
CSV values are read as text; Parquet values keep their types; JSON Lines values keep JSON's types.

No file makes a reader fail halfway: what cannot be used at all is found before the first batch
(:class:`UnusableInputError`: no header, a UTF-16 or binary file, a header that is not UTF-8), and
what is wrong with one row becomes that row's reason:

- a CSV row with the wrong number of fields, or a field over ``csv.field_size_limit()`` characters
  (131,072 by default), or a line over ``MAX_LINE_BYTES`` bytes;
- a CSV row or JSON line that is not UTF-8 text (e.g. a Latin-1 ``ü`` in a UTF-8 file); its values
  are kept in the reject file with the undecodable bytes written as ``\\xfc``;
- a JSON line that is not a JSON object.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import IO, Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from aftersales.core.errors import UnusableInputError

__all__ = ["MAX_LINE_BYTES", "RawBatch", "header", "nested_columns", "read_csv", "read_jsonl", "read_parquet"]

RawBatch = tuple[pd.DataFrame, dict[int, str]]
MAX_LINE_BYTES = 16 << 20  # a longer line is skipped unread (its row is rejected), so memory stays bounded
_BOMS = {b"\xff\xfe": "UTF-16", b"\xfe\xff": "UTF-16", b"\x00\x00\xfe\xff": "UTF-32"}


def _check_file(path: Path) -> None:
    if not path.exists():
        raise UnusableInputError(f"{path}: no such file")
    if path.is_dir():
        raise UnusableInputError(f"{path}: is a folder, not a file")


def _check_encoding(path: Path, f: IO[bytes]) -> None:
    """Refuse a UTF-16/32 file by its byte-order mark; skip a UTF-8 one."""
    start = f.read(4)
    for bom, name in _BOMS.items():
        if start.startswith(bom):
            raise UnusableInputError(f"{path}: the file is {name} text; save it as UTF-8")
    f.seek(3 if start.startswith(b"\xef\xbb\xbf") else 0)


class _Lines:
    """The file's lines as text (UTF-8; undecodable bytes kept as surrogates, see :func:`_clean`).

    A line over ``MAX_LINE_BYTES`` is skipped unread and replaced by an empty line; its number is
    remembered in ``too_long`` so the row that held it can be rejected.
    """

    def __init__(self, f: IO[bytes]) -> None:
        self.f = f
        self.number = 0
        self.too_long: set[int] = set()
        self._pending: list[bytes] = []

    def __iter__(self) -> Iterator[str]:
        return self

    def __next__(self) -> str:
        line = self._pending.pop() if self._pending else self.f.readline(MAX_LINE_BYTES)
        if not line:
            raise StopIteration
        self.number += 1
        if len(line) == MAX_LINE_BYTES and not line.endswith(b"\n"):
            while (more := self.f.readline(MAX_LINE_BYTES)) and not more.endswith(b"\n"):
                pass
            self.too_long.add(self.number)
            return "\n"
        if b"\r" in line:  # lines may also end in a bare CR (as with open(newline=""))
            parts = line.splitlines(keepends=True)
            line = parts[0]
            self._pending.extend(reversed(parts[1:]))
        return line.decode("utf-8", "surrogateescape")


def _is_utf8(values: list[str]) -> bool:
    joined = "".join(values)
    if joined.isascii():
        return True
    try:
        joined.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _clean(value: str) -> str:
    """Undecodable bytes shown as ``\\xfc`` (the reject file stays UTF-8, the bytes stay visible)."""
    return value.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")


def _csv_header(path: Path, f: IO[bytes], lines: _Lines) -> list[str]:
    _check_encoding(path, f)
    try:
        first = next(csv.reader(lines), None)
    except csv.Error as exc:
        raise UnusableInputError(f"{path}: the header row cannot be read as CSV ({exc})") from None
    if first and (not _is_utf8(first) or any("\x00" in c for c in first)):
        raise UnusableInputError(f"{path}: the header is not UTF-8 text (a binary file, or another encoding?)")
    if not first or not any(c.strip() for c in first):
        raise UnusableInputError(f"{path}: no header row (the first line must name the columns)")
    return [c.strip() for c in first]


def header(path: Path, fmt: str) -> list[str]:
    """The column names of a file (first line for CSV, schema for Parquet, first record for JSON Lines)."""
    _check_file(path)
    if fmt == "csv":
        with path.open("rb") as f:
            return _csv_header(path, f, _Lines(f))
    if fmt == "parquet":
        try:
            return list(pq.ParquetFile(path).schema_arrow.names)
        except (pa.ArrowException, OSError) as exc:
            raise UnusableInputError(f"{path}: not a readable Parquet file ({exc})") from None
    with path.open("rb") as f:
        _check_encoding(path, f)
        for line in _Lines(f):
            if line.strip():
                if not _is_utf8([line]):
                    raise UnusableInputError(f"{path}: the first line is not UTF-8 text (a binary file?)")
                try:
                    rec = json.loads(line)
                except (ValueError, RecursionError):
                    rec = None
                if not isinstance(rec, dict):
                    raise UnusableInputError(f"{path}: line 1 is not a JSON object")
                return list(rec)
    raise UnusableInputError(f"{path}: empty file")


def read_csv(path: Path, batch_size: int) -> Iterator[RawBatch]:
    """CSV rows as text, ``batch_size`` at a time. Quoted values may hold commas and newlines; blank
    lines are skipped; row numbers count the rows after the header."""
    _check_file(path)
    with path.open("rb") as f:
        lines = _Lines(f)
        names = _csv_header(path, f, lines)
        if len(set(names)) != len(names):
            dup = sorted({n for n in names if names.count(n) > 1})
            raise UnusableInputError(f"{path}: the header names a column twice: {', '.join(dup)}")
        reader = csv.reader(lines)
        records: list[Sequence[str | None]] = []
        rows: list[int] = []
        rejects: dict[int, str] = {}
        row, end = 0, lines.number
        while True:
            try:
                rec = next(reader, None)
            except csv.Error as exc:  # e.g. a field over csv.field_size_limit(): this row is lost
                row, end = row + 1, lines.number
                rejects[row] = f"malformed CSV row: {exc}"
                records.append([None] * len(names))
                rows.append(row)
                continue
            if rec is None:
                break
            start, end = end + 1, lines.number
            too_long = any(n in lines.too_long for n in range(start, end + 1))
            if not rec and not too_long:  # a blank line
                continue
            row += 1
            values: Sequence[str | None] = rec
            if too_long:
                rejects[row] = f"a line longer than {MAX_LINE_BYTES:,} bytes (not read)"
                values = [None] * len(names)
            elif len(rec) != len(names):
                rejects[row] = f"malformed CSV row: expected {len(names)} fields, got {len(rec)}"
                values = [None] * len(names)
            elif not _is_utf8(rec):
                cleaned = [_clean(v) for v in rec]
                rejects[row] = "not UTF-8 text (save the file as UTF-8): " + ", ".join(
                    f"{n} '{v[:60]}'" for n, v in zip(names, cleaned, strict=True) if "\\x" in v
                )
                values = cleaned
            records.append(values)
            rows.append(row)
            if len(records) >= batch_size:
                yield _frame(records, names, rows), rejects
                records, rows, rejects = [], [], {}
        if records:
            yield _frame(records, names, rows), rejects


def _frame(records: list[Sequence[str | None]], names: list[str], rows: list[int]) -> pd.DataFrame:
    return pd.DataFrame(records, columns=names, index=pd.Index(rows, name="row"), dtype=object)


def nested_columns(path: Path) -> dict[str, str]:
    """Parquet columns whose values are lists, structs or maps: ``{name: arrow type}``."""
    schema = pq.ParquetFile(path).schema_arrow
    return {f.name: str(f.type) for f in schema if pa.types.is_nested(f.type)}


def _json_value(v: Any) -> Any:
    """An Arrow nested value (``to_pylist``) as JSON-ready Python."""
    if isinstance(v, dict):
        return {str(k): _json_value(x) for k, x in v.items()}
    if isinstance(v, list):
        if all(isinstance(x, tuple) and len(x) == 2 for x in v):  # a map column: [(key, value), ...]
            return {str(k): _json_value(x) for k, x in v}
        return [_json_value(x) for x in v]
    return v


def read_parquet(path: Path, batch_size: int) -> Iterator[RawBatch]:
    """Parquet rows with their types; binary columns are decoded as UTF-8 (a value that is not UTF-8
    rejects its row); list, struct and map values become JSON text."""
    header(path, "parquet")
    next_row = 1
    for rb in pq.ParquetFile(path).iter_batches(batch_size=batch_size):
        rejects: dict[int, str] = {}
        frame = rb.to_pandas()
        frame.index = pd.RangeIndex(next_row, next_row + len(frame), name="row")
        next_row += len(frame)
        for name, arr in zip(rb.schema.names, rb.columns, strict=True):
            if pa.types.is_binary(arr.type) or pa.types.is_large_binary(arr.type):
                text = [None if v is None else v.decode("utf-8", "surrogateescape") for v in arr.to_pylist()]
                for row, v in zip(frame.index, text, strict=True):
                    if v is not None and not _is_utf8([v]):
                        rejects.setdefault(row, f"{name}: not UTF-8 text: '{_clean(v)[:60]}'")
                frame[name] = [None if v is None else _clean(v) for v in text]
            elif pa.types.is_nested(arr.type):
                frame[name] = [None if v is None else json.dumps(_json_value(v), default=str) for v in arr.to_pylist()]
        yield frame, rejects


def read_jsonl(path: Path, batch_size: int) -> Iterator[RawBatch]:
    """One record per line, numbered by line; blank lines are skipped."""
    header(path, "jsonl")
    records: list[dict[str, Any]] = []
    rows: list[int] = []
    rejects: dict[int, str] = {}
    with path.open("rb") as f:
        _check_encoding(path, f)
        lines = _Lines(f)
        for line in lines:
            number = lines.number
            if not line.strip():
                if number in lines.too_long:
                    rejects[number] = f"a line longer than {MAX_LINE_BYTES:,} bytes (not read)"
                continue
            rec = None
            if not _is_utf8([line]):
                rejects[number] = f"not UTF-8 text (save the file as UTF-8): '{_clean(line.strip())[:60]}'"
            else:
                try:
                    rec = json.loads(line)
                except ValueError as exc:
                    rejects[number] = f"not valid JSON: {getattr(exc, 'msg', exc)}"
                except RecursionError:
                    rejects[number] = "not valid JSON: nested too deeply"
                if rec is not None and not isinstance(rec, dict):
                    rejects[number] = "not a JSON object"
                elif rec is not None:
                    records.append({k: (json.dumps(v) if isinstance(v, dict | list) else v) for k, v in rec.items()})
                    rows.append(number)
            if len(records) >= batch_size or len(rejects) >= batch_size:
                yield pd.DataFrame.from_records(records, index=pd.Index(rows, name="row")), rejects
                records, rows, rejects = [], [], {}
    if records or rejects:
        yield pd.DataFrame.from_records(records, index=pd.Index(rows, name="row")), rejects
