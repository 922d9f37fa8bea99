"""From a file to contract batches: picks the reader by format and maps file columns to the contract.

Formats: ``csv``, ``parquet``, ``jsonl`` (guessed from the extension: .csv, .parquet/.pq,
.jsonl/.ndjson/.json) and the source-specific ``cdnow`` and ``shopify`` (see their modules).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from pathlib import Path

from aftersales.adapters.sources import cdnow, shopify
from aftersales.adapters.sources.files import header, read_csv, read_jsonl, read_parquet
from aftersales.core import contract
from aftersales.core.errors import MissingColumnError, UnknownFormatError, UnusableInputError
from aftersales.services.importing import SourceBatch

__all__ = ["FORMATS", "OpenedSource", "guess_format", "open_source_file"]

FORMATS = ("csv", "parquet", "jsonl", "cdnow", "shopify")
_EXT = {".csv": "csv", ".parquet": "parquet", ".pq": "parquet", ".jsonl": "jsonl", ".ndjson": "jsonl", ".json": "jsonl"}
_READERS = {"csv": read_csv, "parquet": read_parquet, "jsonl": read_jsonl}


def guess_format(path: Path, fmt: str | None) -> str:
    if fmt:
        fmt = fmt.lower()
        if fmt not in FORMATS:
            raise UnknownFormatError(f"unknown format {fmt!r}; use one of: {', '.join(FORMATS)}")
        return fmt
    guessed = _EXT.get(path.suffix.lower())
    if guessed is None:
        raise UnknownFormatError(
            f"{path}: cannot tell the format from the extension {path.suffix or '(none)'!r}; "
            f"pass --format ({', '.join(FORMATS)})"
        )
    return guessed


class OpenedSource:
    """A checked source: the header has been read and every required column is present."""

    def __init__(self, batches: Iterator[SourceBatch], ignored: tuple[str, ...]) -> None:
        self.batches = batches
        self.ignored_columns = ignored


def _parse_mapping(mapping: Mapping[str, str], table: contract.Table) -> dict[str, str]:
    for file_col, contract_col in mapping.items():
        if contract_col not in table.column_names:
            raise UnusableInputError(
                f"--map {file_col}={contract_col}: table {table.name!r} has no column {contract_col!r}"
            )
    return dict(mapping)


def open_source_file(
    table: str,
    path: str | Path,
    *,
    fmt: str | None = None,
    mapping: Mapping[str, str] | None = None,
    batch_size: int = 5000,
    reporting_timezone: str = "UTC",
) -> OpenedSource:
    """Open ``path`` for import into ``table``; raises before anything is written when it is unusable."""
    path = Path(path)
    t = contract.get_table(table)
    fmt = guess_format(path, fmt)
    if fmt == "cdnow":
        return OpenedSource(cdnow.batches(t, path, batch_size, reporting_timezone), ())
    if fmt == "shopify":
        return OpenedSource(shopify.batches(t, path, batch_size), ())
    rename = _parse_mapping(mapping or {}, t)
    names = header(path, fmt)
    missing_map = sorted(set(rename) - set(names))
    if missing_map:
        raise MissingColumnError(f"{path}: --map names column(s) not in the file: {', '.join(missing_map)}")
    mapped = [rename.get(n, n) for n in names]
    absent = [c for c in t.required_columns if c not in mapped and contract.get_table(table).column(c).default is None]
    if absent:
        raise MissingColumnError(
            f"{path}: required column(s) absent: {', '.join(absent)} (table {table}; "
            f"file has: {', '.join(names)}; use --map FILE_COLUMN=CONTRACT_COLUMN to rename)"
        )
    ignored = tuple(n for n, m in zip(names, mapped, strict=True) if m not in t.column_names)

    def gen() -> Iterator[SourceBatch]:
        for raw, rejects in _READERS[fmt](path, batch_size):
            frame = raw.rename(columns=rename)
            frame = frame[[c for c in frame.columns if c in t.column_names]]
            yield SourceBatch(raw=raw, tables={table: frame}, rejects=rejects)

    return OpenedSource(gen(), ignored)
