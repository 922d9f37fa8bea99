"""A store as a folder of files: ``DIR/<table>.parquet`` (or ``.csv``) per contract table,
``DIR/truth.json`` and ``DIR/truth_customers.<ext>`` (the generator's per-customer latents).

Parquet files are written in row groups of ``ROW_GROUP`` rows, so readers can stream them batch by
batch; CSV files hold ISO 8601 time stamps in UTC with a ``Z`` suffix. Each file is written under a
temporary name and renamed when complete, so a folder never holds a half-written table.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Literal

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from aftersales.core.contract import TABLES, arrow_schema
from aftersales.core.errors import MissingTableError, UnusableInputError

__all__ = [
    "ROW_GROUP",
    "TRUTH_CUSTOMERS",
    "FileFormat",
    "iter_table_batches",
    "read_table",
    "read_truth",
    "table_path",
    "write_store_files",
]

FileFormat = Literal["parquet", "csv"]
_FORMATS: dict[str, FileFormat] = {"parquet": "parquet", "csv": "csv"}
ROW_GROUP = 1_000_000
TRUTH_CUSTOMERS = "truth_customers"


def table_path(directory: Path, name: str) -> Path | None:
    """The file holding table ``name`` in ``directory`` (Parquet preferred), or None."""
    for ext in ("parquet", "csv"):
        p = directory / f"{name}.{ext}"
        if p.is_file():
            return p
    return None


def _write_one(table: pa.Table, path: Path, fmt: FileFormat) -> None:
    tmp = path.with_name(path.name + ".partial")
    if fmt == "parquet":
        pq.write_table(table, tmp, row_group_size=ROW_GROUP, compression="snappy")
    else:
        pacsv.write_csv(table, tmp, pacsv.WriteOptions(batch_size=64 * 1024))
    os.replace(tmp, path)


def write_store_files(
    tables: Mapping[str, pa.Table],
    truth: Mapping[str, object],
    customer_truth: pa.Table | None,
    directory: Path,
    *,
    fmt: str = "parquet",
    on_table: Callable[[str], None] | None = None,
) -> dict[str, Path]:
    """Write every table (and the truth) into ``directory``; returns ``{table: path}``. ``fmt`` is the
    user's word (``StoreFileWriter`` takes any text): anything but parquet or csv is refused."""
    file_format = _FORMATS.get(fmt)
    if file_format is None:
        raise UnusableInputError(f"unknown store file format {fmt!r} (use parquet or csv)")
    directory.mkdir(parents=True, exist_ok=True)
    written: dict[str, Path] = {}
    items = dict(tables)
    if customer_truth is not None:
        items[TRUTH_CUSTOMERS] = customer_truth
    for name, table in items.items():
        path = directory / f"{name}.{fmt}"
        _write_one(table, path, file_format)
        stale = directory / f"{name}.{'csv' if fmt == 'parquet' else 'parquet'}"
        stale.unlink(missing_ok=True)  # a re-run in the other format must not leave two versions
        written[name] = path
        if on_table:
            on_table(name)
    truth_path = directory / "truth.json"
    tmp = truth_path.with_name("truth.json.partial")
    tmp.write_text(json.dumps(truth, indent=2, sort_keys=False) + "\n", encoding="utf-8")
    os.replace(tmp, truth_path)
    written["truth"] = truth_path
    return written


def _csv_options(name: str) -> pacsv.ConvertOptions:
    schema = arrow_schema(name)
    return pacsv.ConvertOptions(
        column_types={f.name: f.type for f in schema},
        strings_can_be_null=True,
        quoted_strings_can_be_null=False,
    )


def read_table(directory: Path, name: str) -> pa.Table:
    """Table ``name`` from ``directory`` in the contract's Arrow schema."""
    return pa.Table.from_batches(list(iter_table_batches(directory, name)), schema=arrow_schema(name))


def iter_table_batches(directory: Path, name: str, batch_size: int = 65_536) -> Iterator[pa.RecordBatch]:
    """Stream table ``name`` from ``directory`` in batches with the contract's Arrow schema."""
    if name not in TABLES:
        raise UnusableInputError(f"{name!r} is not a contract table")
    path = table_path(directory, name)
    if path is None:
        raise MissingTableError(f"{directory} has no {name}.parquet or {name}.csv")
    schema = arrow_schema(name)
    if path.suffix == ".parquet":
        for batch in pq.ParquetFile(path).iter_batches(batch_size=batch_size, columns=schema.names):
            yield pa.RecordBatch.from_arrays([batch.column(f.name).cast(f.type) for f in schema], schema=schema)
        return
    reader = pacsv.open_csv(
        path, read_options=pacsv.ReadOptions(block_size=16 << 20), convert_options=_csv_options(name)
    )
    for batch in reader:
        yield pa.RecordBatch.from_arrays([batch.column(f.name).cast(f.type) for f in schema], schema=schema)


def read_truth(directory: Path) -> dict[str, object]:
    """The generator's ``truth.json`` in ``directory``."""
    path = directory / "truth.json"
    if not path.is_file():
        raise UnusableInputError(f"{directory} has no truth.json")
    truth: dict[str, object] = json.loads(path.read_text(encoding="utf-8"))
    return truth
