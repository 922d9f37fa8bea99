"""Write a result table to one file: Parquet, CSV or JSON Lines, the format following the file's extension.

The rows are not brought into Python for Parquet and CSV: the engine writes them itself (DuckDB's
``COPY ... TO``; other engines stream Arrow batches to the file). JSON Lines streams Arrow batches,
one object per row (non-finite floats as ``null``, dates and time stamps in ISO 8601). The file is
written under a temporary name beside the target and renamed when complete, so a reader never sees
half a file.

>>> output_format(Path("scores.csv"), None), output_format(Path("scores"), "jsonl")
('csv', 'jsonl')
>>> output_format(Path("scores.csv"), "parquet")
Traceback (most recent call last):
aftersales.core.errors.UnusableInputError: output file scores.csv is named csv (.csv) but parquet was asked for
"""

from __future__ import annotations

import json
import math
import os
import shutil
from datetime import date, datetime
from pathlib import Path
from typing import Any

import ibis.expr.types as ir

from aftersales.core.errors import UnknownFormatError, UnusableInputError

__all__ = ["OUTPUT_FORMATS", "output_format", "write_table"]

OUTPUT_FORMATS = ("parquet", "csv", "jsonl")
_EXTENSIONS = {".parquet": "parquet", ".pq": "parquet", ".csv": "csv", ".jsonl": "jsonl", ".ndjson": "jsonl"}
_DEFAULT = "parquet"  # a name without an extension (the format written before formats were chosen)


def output_format(path: Path, fmt: str | None) -> str:
    """The format to write ``path`` in: ``fmt`` when given, else the one its extension names.

    An extension naming another format than ``fmt`` is refused (naming both); so is an unknown
    extension without ``fmt``. A name without an extension is Parquet unless ``fmt`` says otherwise.
    """
    if fmt is not None and fmt.lower() not in OUTPUT_FORMATS:
        raise UnknownFormatError(f"unknown output format {fmt!r}: use {', '.join(OUTPUT_FORMATS)}")
    wanted = fmt.lower() if fmt is not None else None
    suffix = Path(path).suffix.lower()
    implied = _EXTENSIONS.get(suffix)
    if implied is not None and wanted is not None and implied != wanted:
        raise UnusableInputError(
            f"output file {Path(path).name} is named {implied} ({suffix}) but {wanted} was asked for"
        )
    if wanted is not None:
        return wanted
    if implied is not None:
        return implied
    if suffix:
        raise UnknownFormatError(
            f"output file {Path(path).name}: cannot tell its format from the extension {suffix}; "
            f"name it .parquet, .csv or .jsonl, or give the format"
        )
    return _DEFAULT


def _plain(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


def _write_jsonl(table: ir.Table, path: Path) -> None:
    with path.open("w", encoding="utf-8") as f:
        for batch in table.to_pyarrow_batches():
            for row in batch.to_pylist():
                f.write(json.dumps({k: _plain(v) for k, v in row.items()}, separators=(",", ":")))
                f.write("\n")


def write_table(path: Path, table: ir.Table, fmt: str) -> None:
    """Write every row of ``table`` to ``path`` in ``fmt`` (``parquet``, ``csv`` or ``jsonl``)."""
    if fmt not in OUTPUT_FORMATS:
        raise UnknownFormatError(f"unknown output format {fmt!r}: use {', '.join(OUTPUT_FORMATS)}")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.partial")
    try:
        if fmt == "parquet":
            table.to_parquet(partial)
        elif fmt == "csv":
            table.to_csv(partial)
        else:
            _write_jsonl(table, partial)
        os.replace(partial, path)
    finally:
        if partial.is_dir():  # engines that write a folder of parts (Spark) and failed midway
            shutil.rmtree(partial, ignore_errors=True)
        else:
            partial.unlink(missing_ok=True)
