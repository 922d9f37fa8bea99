"""Audience files written batch by batch with Arrow: CSV (UTF-8, a header row, empty cells for
missing values, quotes only where a value needs them) or Parquet (every column a string).

The file is written under a temporary name beside the target and renamed when the writer's block
ends without an error; on an error the partial file is removed, so a failed export leaves nothing.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

__all__ = ["open_audience_writer"]


@contextmanager
def open_audience_writer(
    path: Path, kind: str, columns: Sequence[str]
) -> Iterator[Callable[[Mapping[str, Sequence[str | None]]], None]]:
    """A ``write(batch)`` for a file of ``kind`` (csv or parquet) with ``columns``, in that order."""
    if kind not in ("csv", "parquet"):
        raise ValueError(f"unknown audience file kind {kind!r}")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.partial")
    schema = pa.schema([(name, pa.string()) for name in columns])
    writer: pacsv.CSVWriter | pq.ParquetWriter
    if kind == "csv":
        writer = pacsv.CSVWriter(partial, schema, write_options=pacsv.WriteOptions(quoting_style="needed"))
    else:
        writer = pq.ParquetWriter(partial, schema)

    def write(batch: Mapping[str, Sequence[str | None]]) -> None:
        table = pa.table({name: pa.array(batch[name], pa.string()) for name in columns}, schema=schema)
        if table.num_rows:
            writer.write_table(table)

    try:
        yield write
        writer.close()
        os.replace(partial, path)
    finally:
        writer.close()
        partial.unlink(missing_ok=True)
