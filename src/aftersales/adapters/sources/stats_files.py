"""Read experiment inputs from files: summary statistics (pandas) or per-customer outcomes (Ibis/DuckDB)."""

from __future__ import annotations

from pathlib import Path

import ibis
import ibis.expr.types as ir
import pandas as pd

from aftersales.core.errors import UnknownFormatError, UnusableInputError

__all__ = ["read_outcomes", "read_stats"]

_FORMATS = {".csv": "csv", ".parquet": "parquet", ".pq": "parquet"}


def _format(path: str | Path) -> tuple[Path, str]:
    p = Path(path).expanduser()
    if not p.is_file():
        raise UnusableInputError(f"{p}: no such file")
    fmt = _FORMATS.get(p.suffix.lower())
    if fmt is None:
        raise UnknownFormatError(f"{p}: unknown format {p.suffix!r}; use .csv or .parquet")
    return p, fmt


def read_stats(path: str | Path) -> pd.DataFrame:
    """A summary-statistics file as a DataFrame, rows in file order (the first variant is the control)."""
    p, fmt = _format(path)
    try:
        if fmt == "csv":
            return pd.read_csv(p, dtype={"metric": "string", "variant": "string"}, keep_default_na=True)
        return pd.read_parquet(p)
    except (ValueError, OSError, pd.errors.ParserError) as exc:
        raise UnusableInputError(f"{p}: cannot be read: {exc}") from exc


def read_outcomes(path: str | Path) -> ir.Table:
    """A per-customer outcomes file as an Ibis table on an in-process DuckDB connection."""
    p, fmt = _format(path)
    con = ibis.duckdb.connect()
    try:
        return con.read_csv(p) if fmt == "csv" else con.read_parquet(p)
    except Exception as exc:
        raise UnusableInputError(f"{p}: cannot be read: {exc}") from exc
