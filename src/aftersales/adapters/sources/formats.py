"""From a file to contract batches: picks the reader by format and maps file columns to the contract.

Formats: ``csv``, ``parquet``, ``jsonl`` (guessed from the extension: .csv, .parquet/.pq,
.jsonl/.ndjson/.json) and the source-specific ``cdnow`` and ``shopify`` (see their modules).

``--map FILE_COLUMN=CONTRACT_COLUMN`` renames; one file column may feed several contract columns
(``Customer Email=customer_id,email``, or the same file column in two ``--map``), while two file
columns feeding one contract column is refused: which one would win is a guess.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from aftersales.adapters.sources import cdnow, shopify
from aftersales.adapters.sources.files import header, nested_columns, read_csv, read_jsonl, read_parquet
from aftersales.core import contract
from aftersales.core.errors import MissingColumnError, UnknownFormatError, UnusableInputError
from aftersales.core.validation import TimeRules
from aftersales.services.importing import SourceBatch

__all__ = ["FORMATS", "OpenedSource", "check_zone", "guess_format", "open_source_file"]

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
    """A checked source: the header has been read and every required column is present.

    ``times``: how the import reads time stamps without a zone and date-only values.
    """

    def __init__(self, batches: Iterator[SourceBatch], ignored: tuple[str, ...], times: TimeRules) -> None:
        self.batches = batches
        self.ignored_columns = ignored
        self.times = times


def check_zone(zone: str, option: str = "--assume-timezone") -> str:
    """``zone`` if it is an IANA time zone name (``Europe/Oslo``, ``UTC``); unusable input otherwise."""
    try:
        ZoneInfo(zone)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        msg = f"{option} {zone!r}: not a time zone name (use an IANA name: Europe/Oslo, UTC)"
        raise UnusableInputError(msg) from None
    return zone


def _parse_mapping(mapping: Mapping[str, str], table: contract.Table) -> list[tuple[str, str]]:
    """``(file column, contract column)`` pairs; a value may list several contract columns."""
    pairs: list[tuple[str, str]] = []
    for file_col, targets in mapping.items():
        for contract_col in (t.strip() for t in targets.split(",")):
            if contract_col not in table.column_names:
                raise UnusableInputError(
                    f"--map {file_col}={contract_col}: table {table.name!r} has no column {contract_col!r}"
                )
            pairs.append((file_col, contract_col))
    return pairs


def _sources(path: Path, names: list[str], pairs: list[tuple[str, str]], t: contract.Table) -> dict[str, str]:
    """``{contract column: file column}`` after ``--map`` (file columns not renamed keep their name);
    refuses a contract column fed by two file columns."""
    missing = sorted({f for f, _ in pairs} - set(names))
    if missing:
        raise MissingColumnError(f"{path}: --map names column(s) not in the file: {', '.join(missing)}")
    renamed = {f for f, _ in pairs}
    sources: dict[str, list[str]] = {}
    for n in names:
        if n not in renamed and n in t.column_names:
            sources.setdefault(n, []).append(n)
    for f, c in pairs:
        sources.setdefault(c, []).append(f)
    twice = {c: fs for c, fs in sources.items() if len(fs) > 1}
    if twice:
        c, fs = next(iter(twice.items()))
        raise UnusableInputError(
            f"{path}: contract column {c!r} would come from several file columns ({', '.join(fs)}); "
            "map only one of them to it"
        )
    return {c: fs[0] for c, fs in sources.items()}


def open_source_file(
    table: str,
    path: str | Path,
    *,
    fmt: str | None = None,
    mapping: Mapping[str, str] | None = None,
    batch_size: int = 5000,
    reporting_timezone: str = "UTC",
    assume_timezone: str | None = None,
) -> OpenedSource:
    """Open ``path`` for import into ``table``; raises before anything is written when it is unusable.

    ``assume_timezone``: the zone of time stamps written without one (else they are rejected); a
    date-only value is midnight in that zone, or in ``reporting_timezone`` when none is assumed.
    """
    path = Path(path)
    t = contract.get_table(table)
    fmt = guess_format(path, fmt)
    times = TimeRules(
        naive_zone=check_zone(assume_timezone) if assume_timezone else None,
        date_zone=assume_timezone or check_zone(reporting_timezone, "AFTERSALES_REPORTING_TIMEZONE"),
    )
    if fmt == "cdnow":
        return OpenedSource(cdnow.batches(t, path, batch_size, times.date_zone), (), times)
    if fmt == "shopify":
        return OpenedSource(shopify.batches(t, path, batch_size), (), times)
    pairs = _parse_mapping(mapping or {}, t)
    names = header(path, fmt)
    sources = _sources(path, names, pairs, t)
    absent = [c for c in t.required_columns if c not in sources and t.column(c).default is None]
    if absent:
        raise MissingColumnError(
            f"{path}: required column(s) absent: {', '.join(absent)} (table {table}; "
            f"file has: {', '.join(names)[:300]}; use --map FILE_COLUMN=CONTRACT_COLUMN to rename)"
        )
    ignored = tuple(n for n in names if n not in set(sources.values()))
    if fmt == "parquet":
        _refuse_nested(path, t, sources)

    renamed = {f for f, _ in pairs}

    def gen() -> Iterator[SourceBatch]:
        for raw, rejects in _READERS[fmt](path, batch_size):
            # JSON Lines records may name columns the first one lacked: take them as they come
            found = sources | {
                c: c for c in raw.columns if c in t.column_names and c not in sources and c not in renamed
            }
            frame = raw.reindex(columns=list(found.values())).set_axis(list(found), axis=1)
            yield SourceBatch(raw=raw, tables={table: frame}, rejects=rejects)

    return OpenedSource(gen(), ignored, times)


def _refuse_nested(path: Path, t: contract.Table, sources: dict[str, str]) -> None:
    """A Parquet list / struct / map column can only feed a JSON column (as JSON text)."""
    nested = nested_columns(path)
    for contract_col, file_col in sources.items():
        if file_col in nested and t.column(contract_col).type != "json":
            raise UnusableInputError(
                f"{path}: column {file_col!r} holds {nested[file_col]} values; "
                f"{t.name}.{contract_col} is {t.column(contract_col).type}, not a list or a record"
            )
