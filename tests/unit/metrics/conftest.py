"""Fixtures for the metric unit tests: tiny hand-made contract tables on an in-memory DuckDB."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import ibis
import pyarrow as pa
import pytest

from aftersales.core.contract import arrow_schema


def _utc(y: int, m: int, d: int, h: int = 0, mi: int = 0) -> datetime:
    return datetime(y, m, d, h, mi, tzinfo=UTC)


@pytest.fixture
def utc() -> Callable[..., datetime]:
    """``utc(2024, 1, 31, 23, 59)``: an aware UTC datetime."""
    return _utc


@pytest.fixture
def tables() -> Callable[..., dict[str, ibis.Table]]:
    """``tables(orders=[{...}], ...)`` -> Ibis tables in the contract schema (missing columns are NULL)."""
    con = ibis.duckdb.connect()

    def make(**rows: list[dict]) -> dict[str, ibis.Table]:
        out = {}
        for name, records in rows.items():
            con.con.register(name, pa.Table.from_pylist(records, schema=arrow_schema(name)))
            out[name] = con.table(name)
        return out

    return make


@pytest.fixture
def run() -> Callable[[ibis.Table], list[dict]]:
    """Execute an expression and return its rows sorted by (period, segment)."""

    def execute(expr: ibis.Table) -> list[dict]:
        df = expr.to_pyarrow().to_pylist()
        return sorted(df, key=lambda r: (str(r.get("period")), str(r.get("segment"))))

    return execute


def _order(oid: str, customer: str, at: datetime, revenue: float = 10.0, status: str = "delivered", **kw) -> dict:
    return {"order_id": oid, "customer_id": customer, "ordered_at": at, "revenue": revenue, "status": status, **kw}


@pytest.fixture
def order() -> Callable[..., dict]:
    """``order(id, customer, at, revenue=10.0, status="delivered", **other_columns)``: one orders row."""
    return _order
