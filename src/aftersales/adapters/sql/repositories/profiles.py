"""Stored customer profiles (``customer_profiles``): the bulk writer, one customer's read, the analytical read.

:meth:`SqlProfileRepository.replace_all` replaces every row with one refresh's profiles inside the
unit of work's transaction, so readers see the previous refresh until it commits, and never a mix:

* **PostgreSQL**: ``DELETE`` the rows, then one ``COPY customer_profiles FROM STDIN (FORMAT csv)``
  fed with CSV that Arrow's C++ writer produces in bulk (lists as array literals built with Arrow
  compute), then ``ANALYZE`` so that segment queries plan from fresh statistics. COPY goes straight
  into the table: a staging table would add a second copy of every row and buy nothing, since the
  transaction already makes the swap atomic (a failed COPY rolls the DELETE back with it).
* **SQLite**: ``DELETE``, then one prepared ``INSERT`` run by ``executemany`` over batches of
  :data:`SQLITE_BATCH` rows, values converted column-wise with Arrow (time stamps as the UTC text
  ``UTCDateTime`` stores, dates as ISO text, lists as JSON text).

:func:`read_profiles` reads the table into Arrow in the analytical shape
(``core.segments.fields.profile_schema``: lists as ``list<string>``), for a SQLite store scanned into
DuckDB; PostgreSQL's ``TEXT[]`` is read in place by Ibis as ``array<string>``.
"""

from __future__ import annotations

import io
import json
import math
from datetime import datetime
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
from sqlalchemy import Connection, Engine, select, text

from aftersales.adapters.sql.profile_tables import PROFILE_COLUMNS, customer_profiles
from aftersales.adapters.sql.repositories.events import sqlite_utc_text
from aftersales.core.segments.fields import PROFILE_FIELDS, profile_schema

__all__ = ["SQLITE_BATCH", "SqlProfileRepository", "profile_arrow_schema", "read_profiles"]

SQLITE_BATCH = 50_000
_TABLE = customer_profiles.name
_COLS = ", ".join(PROFILE_COLUMNS)
_TYPES = {f.name: f.type for f in PROFILE_FIELDS}


def profile_arrow_schema() -> pa.Schema:
    """The Arrow schema of a profile table as the service builds it: the catalogue plus ``predictive_note``."""
    return profile_schema().to_pyarrow().append(pa.field("predictive_note", pa.string()))


def _pg_array_text(lists: pa.Array) -> pa.Array:
    """PostgreSQL array literals (``{"a","b \\"c\\""}``) of a list<string> array, NULL for NULL lists."""
    lists = pa.concat_arrays(lists.chunks) if isinstance(lists, pa.ChunkedArray) else lists
    flat = pc.list_flatten(lists)
    escaped = pc.replace_substring(pc.replace_substring(flat, "\\", "\\\\"), '"', '\\"')
    quoted = pc.binary_join_element_wise('"', escaped, '"', "")
    offsets = pc.subtract(lists.offsets, lists.offsets[0])
    rebuilt = pa.ListArray.from_arrays(offsets, quoted, mask=lists.is_null())
    joined = pc.binary_join(rebuilt, ",")
    return pc.binary_join_element_wise("{", joined, "}", "")


def _postgres_csv(table: pa.Table, refreshed_at: datetime) -> bytes:
    cols = []
    for name in PROFILE_COLUMNS:
        if name == "refreshed_at":
            cols.append(pa.array([refreshed_at] * table.num_rows, pa.timestamp("us", tz="UTC")))
        elif _TYPES.get(name) == "text_list":
            cols.append(_pg_array_text(table.column(name).combine_chunks()))
        else:
            cols.append(table.column(name))
    out = io.BytesIO()
    pacsv.write_csv(pa.table(cols, names=list(PROFILE_COLUMNS)), out, pacsv.WriteOptions(include_header=False))
    return out.getvalue()


def _sqlite_rows(table: pa.Table, refreshed_at: datetime) -> list[tuple[Any, ...]]:
    stamp = sqlite_utc_text(refreshed_at)
    cols: list[list[Any]] = []
    for name in PROFILE_COLUMNS:
        if name == "refreshed_at":
            cols.append([stamp] * table.num_rows)
            continue
        col = table.column(name)
        kind = _TYPES.get(name)
        if kind == "timestamp":
            # "%S" of a microsecond time stamp includes the fraction: 2024-01-01 10:00:00.500000
            cols.append(pc.strftime(col, format="%Y-%m-%d %H:%M:%S").to_pylist())
        elif kind == "date":
            cols.append(col.cast(pa.string()).to_pylist())
        elif kind == "text_list":
            cols.append(_json_lists(col))
        else:
            cols.append(col.to_pylist())
    return list(zip(*cols, strict=True))


def _json_lists(col: pa.ChunkedArray | pa.Array) -> list[str | None]:
    """Each list as JSON text (NULL stays NULL), each distinct list encoded once: customers share a few
    thousand category lists between a million profiles, and ``json.dumps`` costs more than a lookup."""
    seen: dict[tuple[str, ...], str] = {}
    out: list[str | None] = []
    for v in col.to_pylist():
        if v is None:
            out.append(None)
            continue
        key = tuple(v)
        text = seen.get(key)
        if text is None:
            text = seen[key] = json.dumps(v, ensure_ascii=False)
        out.append(text)
    return out


def _storable(table: pa.Table) -> pa.Table:
    """Floats a database takes: NaN/inf become NULL; subnormals (PostgreSQL's float8 refuses them as
    out of range) become 0."""
    for i, field in enumerate(table.schema):
        if pa.types.is_floating(field.type):
            col = table.column(i)
            finite = pc.is_finite(col)
            tiny = pc.less(pc.abs(col), 1e-300)
            fixed = pc.if_else(finite, pc.if_else(tiny, 0.0, col), None)
            table = table.set_column(i, field, fixed.cast(field.type))
    return table


class SqlProfileRepository:
    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    def replace_all(self, profiles: pa.Table, refreshed_at: datetime) -> int:
        """Replace every stored profile with ``profiles`` (schema :func:`profile_arrow_schema`, any
        column order), all stamped ``refreshed_at``; returns how many rows were written."""
        table = _storable(profiles.select(list(profile_arrow_schema().names)).cast(profile_arrow_schema()))
        self._conn.exec_driver_sql(f"DELETE FROM {_TABLE}")
        if table.num_rows == 0:
            return 0
        if self._conn.dialect.name == "postgresql":
            data = _postgres_csv(table, refreshed_at)
            raw: Any = self._conn.connection.dbapi_connection
            with raw.cursor() as cur:
                with cur.copy(f"COPY {_TABLE} ({_COLS}) FROM STDIN (FORMAT csv)") as copy:
                    step = 8 << 20
                    for i in range(0, len(data), step):
                        copy.write(data[i : i + step])
                cur.execute(f"ANALYZE {_TABLE}")
            return int(table.num_rows)
        marks = ", ".join("?" for _ in PROFILE_COLUMNS)
        insert = f"INSERT INTO {_TABLE} ({_COLS}) VALUES ({marks})"
        for start in range(0, table.num_rows, SQLITE_BATCH):
            rows = _sqlite_rows(table.slice(start, SQLITE_BATCH), refreshed_at)
            self._conn.exec_driver_sql(insert, rows)  # a list of tuples: executemany
        return int(table.num_rows)

    def get(self, customer_id: str) -> dict[str, Any] | None:
        """One customer's stored profile (every column, lists as lists), or None."""
        row = self._conn.execute(select(customer_profiles).where(customer_profiles.c.customer_id == customer_id))
        found = row.mappings().first()
        return None if found is None else {k: _plain(v) for k, v in found.items()}

    def count(self) -> int:
        return int(self._conn.execute(text(f"SELECT count(*) FROM {_TABLE}")).scalar_one())


def _plain(value: Any) -> Any:
    return None if isinstance(value, float) and math.isnan(value) else value


def read_profiles(engine: Engine) -> pa.Table:
    """Every stored profile in the analytical shape (:func:`profile_arrow_schema` + ``refreshed_at``),
    read through the driver and converted column-wise (lists parsed from JSON text on SQLite)."""
    schema = profile_arrow_schema().append(pa.field("refreshed_at", pa.timestamp("us", tz="UTC")))
    names = list(schema.names)
    with engine.connect() as conn:
        result = conn.exec_driver_sql(f"SELECT {', '.join(names)} FROM {_TABLE} ORDER BY customer_id")
        columns = list(zip(*result.fetchall(), strict=True)) or [() for _ in names]
    sqlite = engine.dialect.name == "sqlite"
    arrays = []
    for name, values in zip(names, columns, strict=True):
        field = schema.field(name)
        kind = _TYPES.get(name, "timestamp" if name == "refreshed_at" else "text")
        vals = list(values)
        if sqlite and kind == "text_list":
            vals = [None if v is None else json.loads(v) for v in vals]
        if sqlite and kind in ("timestamp", "date"):  # UTC text / ISO day text, parsed by Arrow's ISO-8601 cast
            parsed = pa.array(vals, pa.string())
            naive = parsed.cast(pa.timestamp("us")) if kind == "timestamp" else parsed.cast(pa.date32())
            arrays.append(naive.cast(field.type))
            continue
        if sqlite and kind == "bool":  # stored as 0/1
            vals = [None if v is None else bool(v) for v in vals]
        arrays.append(pa.array(vals, field.type))
    return pa.Table.from_arrays(arrays, schema=schema)
