"""Plain, exact reads of store tables into Arrow, in the contract's analytical schema.

Used by the analytical plane: DESIGN.md recommends never computing metrics inside SQLite, but
scanning its tables into DuckDB through Arrow (plain reads are exact). Values are read raw through
the driver (no ORM objects) and converted column-wise.
"""

from __future__ import annotations

from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from sqlalchemy import Engine, inspect, text

from aftersales.adapters.sql.engine import make_engine
from aftersales.core import contract
from aftersales.core.errors import MissingTableError

__all__ = ["read_table", "table_exists"]


def table_exists(url_or_engine: str | Engine, table: str) -> bool:
    engine = make_engine(url_or_engine) if isinstance(url_or_engine, str) else url_or_engine
    return inspect(engine).has_table(table)


def _column(values: pd.Series, logical: str, field: pa.Field) -> pa.Array:
    if logical == "timestamp":
        ts = pd.to_datetime(values, utc=True, format="ISO8601")
        return pa.array(ts, type=field.type, from_pandas=True)
    if logical == "date":
        return pa.array(pd.to_datetime(values).dt.date, type=field.type, from_pandas=True)
    if logical == "money":
        return pa.array(pd.to_numeric(values, errors="raise").astype("float64"), type=field.type, from_pandas=True)
    if logical == "int":
        return pa.array(values.astype("Int64"), type=field.type)
    if logical == "bool":
        # pandas holds a NULL among 0/1 integers as NaN, and bool(NaN) is True: a NULL consent must stay NULL
        return pa.array(values.map(lambda v: None if v is None or v != v else bool(v)).astype("boolean"))
    return pa.array(values.astype(object).where(values.notna(), None), type=field.type)


def _sqlite_column(values: list[Any], logical: str, field: pa.Field) -> pa.Array:
    """One column of raw SQLite values (time stamps are the store's UTC text, booleans 0/1), converted
    by Arrow's vectorised casts: no per-value Python beyond building the list."""
    if logical == "timestamp":  # "YYYY-MM-DD HH:MM:SS.ffffff" in UTC (adapters/sql/types.py)
        naive = pc.cast(pa.array(values, pa.string()), pa.timestamp("us"))
        return pc.cast(naive, field.type)  # a naive -> UTC cast keeps the wall time: it is UTC already
    if logical == "date":
        return pc.cast(pa.array(values, pa.string()), field.type)
    if logical == "money":
        return pa.array(values, pa.float64())
    if logical == "int":
        return pa.array(values, pa.int64())
    if logical == "bool":
        return pc.cast(pa.array(values, pa.int64()), pa.bool_())  # NULL stays NULL
    return pa.array(values, field.type)


SQLITE_BATCH = 250_000  # rows converted at a time: bounds the driver's Python tuples held at once


def _read_sqlite(engine: Engine, table: str, names: list[str], schema: pa.Schema) -> pa.Table:
    """The rows in batches of :data:`SQLITE_BATCH`, each turned into Arrow columns before the next is
    fetched: the Python objects of one batch are alive at a time, not those of the whole table (10M
    orders as tuples took several GB)."""
    t = contract.get_table(table)
    kinds = [t.column(n).type for n in names]
    quoted = ", ".join(f'"{n}"' for n in names)
    batches = []
    with engine.connect() as conn:
        cursor = conn.connection.driver_connection.execute(f'SELECT {quoted} FROM "{table}"')  # type: ignore[union-attr]  # sqlite3 driver connection
        while rows := cursor.fetchmany(SQLITE_BATCH):
            columns = list(zip(*rows, strict=True))
            del rows
            arrays = [
                _sqlite_column(list(col), kind, schema.field(i))
                for i, (col, kind) in enumerate(zip(columns, kinds, strict=True))
            ]
            batches.append(pa.RecordBatch.from_arrays(arrays, schema=schema))
    if not batches:
        return schema.empty_table()
    return pa.Table.from_batches(batches, schema=schema)


def read_table(url: str | Engine, table: str, columns: list[str] | None = None) -> pa.Table:
    """Read contract table ``table`` from the store at ``url`` as Arrow (money float64, time stamps UTC).

    Raises :class:`MissingTableError` when the store has no such table (not initialised).
    """
    t = contract.get_table(table)
    names = list(columns) if columns else list(t.column_names)
    for n in names:
        t.column(n)  # raises ContractError for an unknown column
    engine = make_engine(url) if isinstance(url, str) else url
    if not inspect(engine).has_table(table):
        raise MissingTableError(f"the store has no table {table!r}; run `aftersales init` and import it first")
    schema = pa.schema([contract.arrow_schema(t).field(n) for n in names])
    if engine.dialect.name == "sqlite":
        return _read_sqlite(engine, table, names, schema)
    quoted = ", ".join(f'"{n}"' for n in names)
    with engine.connect() as conn:
        rows = conn.execute(text(f'SELECT {quoted} FROM "{table}"')).fetchall()
    frame = pd.DataFrame.from_records(rows, columns=names)
    arrays = [_column(frame[n], t.column(n).type, schema.field(n)) for n in names]
    return pa.Table.from_arrays(arrays, schema=schema)
