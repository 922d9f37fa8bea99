"""Pure rules of the profile: the RFM cell map, scores from exact ranks (engine vs the Python
definition), the minimum history for the predictive columns, the expected next order, service days."""

from __future__ import annotations

from datetime import date

import ibis
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from aftersales.core.profiles.aftercare import next_service_day
from aftersales.core.profiles.predictive import (
    MIN_REPEAT_CUSTOMERS,
    MIN_SPAN_DAYS,
    expected_next_order_on,
    history_note,
    next_order_in_days,
)
from aftersales.core.profiles.rfm import RFM_CELLS, rfm_segment, rfm_segment_expr, score_expr, scores_of
from aftersales.core.segments.fields import RFM_SEGMENTS


def test_every_cell_is_named_once_with_a_catalogue_name() -> None:
    assert sorted(RFM_CELLS) == [(r, f) for r in range(1, 6) for f in range(1, 6)]
    assert set(RFM_CELLS.values()) == set(RFM_SEGMENTS)
    # the corners of the grid
    assert [rfm_segment(5, 5), rfm_segment(5, 1), rfm_segment(1, 5), rfm_segment(1, 1)] == [
        "champions",
        "new",
        "cannot_lose",
        "lost",
    ]


def test_the_cell_map_in_the_engine_equals_the_python_map() -> None:
    cells = list(RFM_CELLS)
    t = ibis.memtable({"r": [r for r, _ in cells] + [None], "f": [f for _, f in cells] + [3]})
    got = ibis.duckdb.connect().to_pyarrow(t.select(s=rfm_segment_expr(t.r, t.f))).column("s").to_pylist()
    assert got == [RFM_CELLS[c] for c in cells] + [None]


def test_ties_share_a_score_and_skip_the_next() -> None:
    # 60% one-order customers: all score 1, and two orders starts at 4 (below = 6 of 10)
    assert scores_of([1] * 6 + [2, 2, 3, 5]) == [1] * 6 + [4, 4, 5, 5]
    assert scores_of([0, 10, 10, 172], better="lower") == [4, 2, 2, 1]  # below = 3, 1, 1, 0 of 4


@settings(max_examples=40, deadline=None)
@given(st.lists(st.integers(0, 30), min_size=1, max_size=60), st.sampled_from(["higher", "lower"]))
def test_engine_scores_equal_the_definition(values: list[int], better: str) -> None:
    t = ibis.memtable(pa.table({"i": list(range(len(values))), "v": pa.array(values, pa.int64())}))
    expr = t.select("i", s=score_expr(t.v, better=better)).order_by("i")  # type: ignore[arg-type]
    got = ibis.duckdb.connect().to_pyarrow(expr).column("s").to_pylist()
    assert got == scores_of(values, better=better)  # type: ignore[arg-type]
    assert min(got) == 1 and max(got) <= 5


def test_the_minimum_history() -> None:
    enough = dict(customers=1000, repeat_customers=MIN_REPEAT_CUSTOMERS, span_days=MIN_SPAN_DAYS)
    assert history_note(**enough) is None
    few = history_note(**{**enough, "repeat_customers": MIN_REPEAT_CUSTOMERS - 1})
    assert few is not None and "100 customers who bought on two different days (this store has 99)" in few
    short = history_note(**{**enough, "span_days": MIN_SPAN_DAYS - 1})
    assert short == "predictive columns need at least 180 days of order history (this store has 179 days)"
    none = history_note(customers=0, repeat_customers=0, span_days=None)
    assert none is not None and "(this store has 0)" in none and "(this store has no orders)" in none


@pytest.mark.parametrize(
    ("predicted", "days"), [(365.0, 1), (1.0, 365), (0.5, 730), (1 / 3, 1095), (0.33, None), (0.0, None)]
)
def test_expected_next_order(predicted: float, days: int | None) -> None:
    assert next_order_in_days(predicted) == days
    t = ibis.memtable({"p": [predicted]})
    [got] = ibis.duckdb.connect().to_pyarrow(t.select(d=expected_next_order_on(t.p, date(2024, 1, 1)))).column("d")
    want = None if days is None else date.fromordinal(date(2024, 1, 1).toordinal() + days)
    assert got.as_py() == want


def test_service_days_roll_past_now() -> None:
    day = 86400.0
    assert next_service_day(registered=0.0, interval_days=30, now=10 * day) == 30
    assert next_service_day(registered=0.0, interval_days=30, now=30 * day) == 60  # due exactly now: the next
    assert next_service_day(registered=0.5 * day, interval_days=1, now=3 * day) == 3  # 3.5 days: day 3


def test_equal_revenues_tie_whatever_order_the_engine_adds_in() -> None:
    # 0.1 + 0.2 is 0.30000000000000004 in float64: a float sum would rank A above B and split their tie
    from datetime import UTC, datetime

    from aftersales.core.contract import arrow_schema
    from aftersales.core.profiles.orders import order_summary

    at = datetime(2024, 1, 1, tzinfo=UTC)
    rows = [("o1", "A", 0.1), ("o2", "A", 0.2), ("o3", "B", 0.3), ("o4", "C", 0.05)]
    orders = pa.Table.from_pylist(
        [dict(order_id=o, customer_id=c, ordered_at=at, revenue=r, status="paid") for o, c, r in rows],
        schema=arrow_schema("orders"),
    )
    s = order_summary(ibis.memtable(orders), datetime(2024, 2, 1, tzinfo=UTC))
    got = ibis.duckdb.connect().to_pyarrow(s.select("customer_id", "revenue", m=score_expr(s.revenue)))
    by = {r["customer_id"]: r for r in got.to_pylist()}
    assert by["A"]["revenue"] == by["B"]["revenue"] == 0.3 and by["A"]["m"] == by["B"]["m"] == 2
