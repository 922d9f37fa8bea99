"""The DuckDB compiler overrides give exactly what Ibis's stock DuckDB compiler gives, and are in use."""

from __future__ import annotations

from datetime import UTC, datetime

import ibis
import pyarrow as pa
import pytest

from aftersales.adapters.engines import fast_duckdb, open_dataframes
from aftersales.core.contract import arrow_schema
from aftersales.core.metrics.periods import local_day_number

START, END = datetime(2023, 1, 1, tzinfo=UTC), datetime(2025, 1, 1, tzinfo=UTC)

ROWS = pa.table(
    {
        "g": ["a", "a", "a", "b", "b", "c", "d", "d", "d", "d"],
        "ts": pa.array(
            [
                datetime(2024, 3, 30, 23, 0, 0, 1, tzinfo=UTC),  # Oslo: 31 March 00:00:00.000001 (CET)
                datetime(2024, 3, 31, 0, 59, 59, 999999, tzinfo=UTC),  # just before the DST jump
                datetime(2024, 3, 31, 22, 0, tzinfo=UTC),  # Oslo: 1 April 00:00 (CEST)
                datetime(2024, 10, 26, 21, 59, 59, tzinfo=UTC),  # Oslo: 26 Oct 23:59:59 (CEST)
                datetime(2024, 10, 27, 23, 0, tzinfo=UTC),  # Oslo: 28 Oct 00:00 (CET)
                datetime(1970, 1, 1, 0, 0, 0, 500000, tzinfo=UTC),
                # DuckDB's ICU EPOCH(timestamptz) is an ulp off the stock value on these
                datetime(2014, 4, 27, 19, 13, 56, 676785, tzinfo=UTC),
                datetime(2010, 8, 14, 3, 52, 54, 35421, tzinfo=UTC),
                datetime(1987, 6, 2, 3, 52, 40, 520863, tzinfo=UTC),
                datetime(1930, 11, 18, 0, 28, 29, 876543, tzinfo=UTC),
            ],
            pa.timestamp("us", "UTC"),
        ),
        "v": pa.array([None, 2.0, 3.0, 4.0, None, 6.0, 7.0, 8.0, 9.0, 10.0], pa.float64()),
        "k": pa.array([3, 1, 2, None, 5, 1, 4, 3, 2, 1], pa.int64()),
    }
)


def _both(build):
    out = []
    for con in (ibis.duckdb.connect(), fast_duckdb.connect()):
        con.con.register("rows", ROWS)
        out.append(sorted(con.to_pyarrow(build(con.table("rows"))).to_pylist(), key=str))
    return out


@pytest.mark.parametrize("tz", ["UTC", "Europe/Oslo", "America/New_York", "Asia/Kolkata"])
def test_epoch_seconds_and_local_days_match_the_stock_compiler(tz):
    stock, fast = _both(
        lambda t: t.select(t.g, s=t.ts.epoch_seconds().cast("float64"), d=local_day_number(t.ts, tz, START, END))
    )
    assert fast == stock


def test_local_days_hand_computed_in_oslo():
    [_, fast] = _both(lambda t: t.select(t.g, t.ts, d=local_day_number(t.ts, "Europe/Oslo", START, END)))
    days = [r["d"] for r in sorted(fast, key=lambda r: r["ts"]) if r["g"] != "d"]
    d = lambda y, m, dd: (datetime(y, m, dd) - datetime(1970, 1, 1)).days  # noqa: E731
    assert days == [0, d(2024, 3, 31), d(2024, 3, 31), d(2024, 4, 1), d(2024, 10, 26), d(2024, 10, 28)]


def test_argmin_argmax_match_the_stock_compiler_nulls_and_filters_included():
    stock, fast = _both(
        lambda t: t.group_by("g").aggregate(
            lo=t.v.argmin(t.k), hi=t.v.argmax(t.k), lo_f=t.v.argmin(t.k, where=t.k > 1), n=t.count()
        )
    )
    assert fast == stock
    by_group = {r["g"]: r for r in fast}
    assert by_group["a"]["lo"] == 2.0 and by_group["a"]["hi"] is None  # NULL arg of the max key is kept
    assert by_group["b"]["lo"] is None and by_group["b"]["hi"] is None  # the NULL key is ignored


def test_sources_on_duckdb_compile_with_the_overrides():
    order = {"order_id": "o1", "customer_id": "c1", "status": "delivered", "ordered_at": START, "revenue": 1.0}
    with open_dataframes({"orders": pa.Table.from_pylist([order], schema=arrow_schema("orders"))}) as s:
        o = s.table("orders")
        expr = o.group_by("customer_id").aggregate(x=o.revenue.argmin(o.ordered_at.epoch_seconds()))
        sql = str(s.backend.compile(expr))
    assert "ARG_MIN_NULL" in sql.upper() and "FIRST(" not in sql.upper()
    assert "AS TIMESTAMP)" not in sql.upper()
