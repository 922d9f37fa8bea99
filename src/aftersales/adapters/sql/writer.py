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
from sqlalchemy import Connection, Engine, select, tuple_
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


def _records(frame: pd.DataFrame, t: contract.Table) -> list[dict[str, Any]]:
    out: dict[str, list[Any]] = {}
    for c in t.columns:
        s = frame[c.name]
        if c.type == "timestamp":
            vals = [None if pd.isna(v) else v.to_pydatetime() for v in s]
        elif c.type == "money":
            vals = [None if pd.isna(v) else Decimal(str(v)).quantize(Decimal("0.01")) for v in s]
        elif c.type == "int":
            vals = [None if pd.isna(v) else int(v) for v in s]
        elif c.type == "bool":
            vals = [None if pd.isna(v) else bool(v) for v in s]
        else:
            vals = [None if v is None or (isinstance(v, float) and v != v) else v for v in s]
        out[c.name] = vals
    names = list(out)
    return [dict(zip(names, row, strict=True)) for row in zip(*out.values(), strict=True)]


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
        table = TABLES[t.name]
        key_cols = [table.c[k] for k in t.key]
        key_expr = key_cols[0] if len(key_cols) == 1 else tuple_(*key_cols)
        out: dict[tuple[Any, ...], tuple[Any, ...]] = {}
        for i in range(0, len(keys), _CHUNK):
            chunk = keys[i : i + _CHUNK]
            cond = key_expr.in_([k[0] for k in chunk] if len(key_cols) == 1 else chunk)
            for row in self.conn.execute(select(table).where(cond)):
                canon = tuple(_canon(v, c.type) for v, c in zip(row, t.columns, strict=True))
                out[tuple(_canon(row._mapping[k], t.column(k).type) for k in t.key)] = canon
        return out

    def upsert(self, table: str, frame: pd.DataFrame) -> TableCounts:
        t = contract.get_table(table)
        records = _records(frame, t)
        if not records:
            return TableCounts()

        def key_of(r: dict[str, Any]) -> tuple[Any, ...]:
            return tuple(_canon(r[k], t.column(k).type) for k in t.key)

        existing = self._existing_rows(t, [key_of(r) for r in records])
        new, changed, same = [], [], 0
        for r in records:
            old = existing.get(key_of(r))
            if old is None:
                new.append(r)
            elif old == tuple(_canon(r[c.name], c.type) for c in t.columns):
                same += 1
            else:
                changed.append(r)
        sql_table = TABLES[table]
        if new:
            self.conn.execute(sql_table.insert(), new)
        if changed:
            stmt = self._insert(sql_table)
            updates = {c.name: stmt.excluded[c.name] for c in t.columns if c.name not in t.key}
            self.conn.execute(stmt.on_conflict_do_update(index_elements=list(t.key), set_=updates), changed)
        return TableCounts(inserted=len(new), updated=len(changed), unchanged=same)


class SqlImportStore:
    """The import port on a SQLAlchemy engine: one transaction per batch."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    @contextmanager
    def transaction(self) -> Iterator[SqlImportTransaction]:
        with self.engine.begin() as conn:
            yield SqlImportTransaction(conn)
