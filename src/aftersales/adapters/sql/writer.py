"""Bulk upserts of validated batches into the store (the import use case's port, on SQLAlchemy).

One batch is one transaction. Rows are compared with what the store holds under the same natural
key, so the result says how many were inserted, updated or left unchanged, and a re-import writes
nothing. Inserts use one multi-row statement; updates use ``INSERT .. ON CONFLICT DO UPDATE``
(both SQLite and PostgreSQL speak it).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from sqlalchemy import Connection, Engine, select
from sqlalchemy.dialects import postgresql, sqlite

from aftersales.adapters.sql.tables import TABLES
from aftersales.core import contract
from aftersales.services.importing import TableCounts

__all__ = ["SqlImportStore", "SqlImportTransaction"]

_CHUNK = 500  # keys per IN (...) lookup: well under SQLite's variable limit


def _canon(value: Any, logical: str) -> Any:
    """Comparable form of a value as written or as read back."""
    if value is None or (isinstance(value, float) and value != value) or value is pd.NaT:
        return None
    if logical == "money":
        return Decimal(str(value)).quantize(Decimal("0.01"))
    if logical == "timestamp":
        return pd.Timestamp(value).tz_convert("UTC") if pd.Timestamp(value).tzinfo else pd.Timestamp(value, tz="UTC")
    if logical == "int":
        return int(value)
    if logical == "bool":
        return bool(value)
    if logical == "date":
        return value if isinstance(value, date) and not isinstance(value, datetime) else pd.Timestamp(value).date()
    return value


def _driver_columns(frame: pd.DataFrame, t: contract.Table, dialect: str) -> list[list[Any]]:
    """Column-wise conversion to what the DB driver takes (bypassing per-value ORM type processing).

    SQLite gets time stamps as UTC text ``YYYY-MM-DD HH:MM:SS.ffffff`` (the ``UTCDateTime`` storage
    form) and money as a number rounded to cents; PostgreSQL gets datetimes and Decimals.
    """
    cols: list[list[Any]] = []
    for c in t.columns:
        s = frame[c.name]
        missing = s.isna().to_numpy()
        if c.type == "timestamp":
            if dialect == "sqlite":
                # "%S" of a microsecond time stamp includes the fraction: 2024-01-01 10:00:00.500000
                utc = pa.array(s.astype("datetime64[us, UTC]"))
                vals = pc.strftime(utc, format="%Y-%m-%d %H:%M:%S").to_pylist()
            else:
                vals = list(s.dt.tz_convert("UTC").dt.to_pydatetime())
        elif c.type == "money":
            if dialect == "sqlite":
                vals = s.astype("float64").round(2).tolist()
            else:
                vals = [Decimal(f"{v:.2f}") if v == v else None for v in s.astype("float64").tolist()]
        elif c.type == "int":
            vals = s.astype("Int64").astype(object).tolist()
        elif c.type == "bool":
            vals = s.astype("boolean").astype(object).tolist()
        else:
            vals = s.astype(object).tolist()
        cols.append([None if m else v for v, m in zip(vals, missing, strict=True)])
    return cols


def _records(frame: pd.DataFrame, t: contract.Table) -> list[dict[str, Any]]:
    cols = _driver_columns(frame, t, "postgresql")
    names = list(t.column_names)
    return [dict(zip(names, row, strict=True)) for row in zip(*cols, strict=True)]


class SqlImportTransaction:
    """One batch's transaction on ``conn``."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self._insert = postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert

    def existing_keys(self, table: str, column: str, values: list[str]) -> set[str]:
        col = TABLES[table].c[column]
        found: set[str] = set()
        for i in range(0, len(values), _CHUNK):
            found.update(self.conn.execute(select(col).where(col.in_(values[i : i + _CHUNK]))).scalars())
        return found

    def _existing_rows(self, t: contract.Table, keys: list[tuple[Any, ...]]) -> dict[tuple[Any, ...], tuple[Any, ...]]:
        """Stored rows (canonical values) under ``keys``. Looks up by the key's first column, which
        leads the primary-key index on every database (a row-value ``IN`` is not indexed on SQLite)."""
        table = TABLES[t.name]
        lead = table.c[t.key[0]]
        wanted = set(keys)
        firsts = sorted({k[0] for k in keys})
        out: dict[tuple[Any, ...], tuple[Any, ...]] = {}
        for i in range(0, len(firsts), _CHUNK):
            for row in self.conn.execute(select(table).where(lead.in_(firsts[i : i + _CHUNK]))):
                key = tuple(_canon(row._mapping[k], t.column(k).type) for k in t.key)
                if key in wanted:
                    out[key] = tuple(_canon(v, c.type) for v, c in zip(row, t.columns, strict=True))
        return out

    def upsert(self, table: str, frame: pd.DataFrame) -> TableCounts:
        t = contract.get_table(table)
        if frame.empty:
            return TableCounts()
        key_types = [t.column(k).type for k in t.key]
        key_values = [
            tuple(_canon(v, kt) for kt, v in zip(key_types, row, strict=True))
            for row in zip(*(frame[k].tolist() for k in t.key), strict=True)
        ]
        existing = self._existing_rows(t, key_values)
        if not existing:  # the common case: all new, one fast executemany
            self._insert_raw(t, frame)
            return TableCounts(inserted=len(frame))
        is_new = [k not in existing for k in key_values]
        self._insert_raw(t, frame[is_new])
        changed, same = [], 0
        old_rows = frame[[not n for n in is_new]]
        for r, key in zip(
            _records(old_rows, t), (k for k, n in zip(key_values, is_new, strict=True) if not n), strict=True
        ):
            if existing[key] == tuple(_canon(r[c.name], c.type) for c in t.columns):
                same += 1
            else:
                changed.append(r)
        if changed:
            stmt = self._insert(TABLES[table])
            updates = {c.name: stmt.excluded[c.name] for c in t.columns if c.name not in t.key}
            self.conn.execute(stmt.on_conflict_do_update(index_elements=list(t.key), set_=updates), changed)
        return TableCounts(inserted=sum(is_new), updated=len(changed), unchanged=same)

    def _insert_raw(self, t: contract.Table, frame: pd.DataFrame) -> None:
        if frame.empty:
            return
        dialect = self.conn.dialect.name
        mark = "?" if self.conn.dialect.paramstyle == "qmark" else "%s"
        names = ", ".join(f'"{n}"' for n in t.column_names)
        sql = f'INSERT INTO "{t.name}" ({names}) VALUES ({", ".join([mark] * len(t.columns))})'
        rows = list(zip(*_driver_columns(frame, t, dialect), strict=True))
        self.conn.exec_driver_sql(sql, rows)


class SqlImportStore:
    """The import port on a SQLAlchemy engine: one transaction per batch."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    @contextmanager
    def transaction(self) -> Iterator[SqlImportTransaction]:
        with self.engine.begin() as conn:
            yield SqlImportTransaction(conn)
