"""The default period is the latest one holding data, "to date" when not over (issue 11), on a tiny
hand-computed store whose orders all fall in one month; the scorecard prefers the latest complete
period when an earlier one holds data; time comes in as ``today``."""

from __future__ import annotations

from datetime import date

import ibis
import pytest

from aftersales.adapters.engines import open_dataframes
from aftersales.core.errors import ValidationError
from aftersales.core.metrics import revenue
from aftersales.core.metrics.base import segmented
from aftersales.core.metrics.periods import PERIOD_KINDS, PeriodKind, calendar_periods, latest_periods, period_status
from aftersales.core.metrics.registry import get_metric
from aftersales.services.analytical.metrics import compute, scorecard

ORDERS = [  # all in March 2026; "today" is the 15th
    ("o1", "c1", "2026-03-02T10:00:00Z", 10.0),
    ("o2", "c1", "2026-03-10T10:00:00Z", 30.0),
    ("o3", "c2", "2026-03-05T10:00:00Z", 20.0),
]


@pytest.fixture
def march(tables, utc):  # type: ignore[no-untyped-def]
    import pandas as pd

    frame = pd.DataFrame(
        {
            "order_id": [o[0] for o in ORDERS],
            "customer_id": [o[1] for o in ORDERS],
            "ordered_at": pd.to_datetime([o[2] for o in ORDERS], utc=True).astype("datetime64[us, UTC]"),
            "revenue": [o[3] for o in ORDERS],
        }
    )
    with open_dataframes({"orders": frame}) as src:
        yield src


def test_the_scorecard_shows_the_current_month_to_date(march) -> None:
    res = scorecard(march, today=date(2026, 3, 15))
    [aov] = [r for r in res.records if r["metric"] == "average_order_value"]
    # 10 + 30 + 20 = 60 over 3 orders; the previous default (February, the last complete month) was empty.
    assert (aov["period"], aov["value"], aov["orders"], aov["complete"]) == (date(2026, 3, 1), 20.0, 3, False)
    [freq] = [r for r in res.records if r["metric"] == "purchase_frequency"]
    assert (freq["value"], freq["customers"]) == (1.5, 2)  # 3 orders / 2 customers
    [repeat] = [r for r in res.records if r["metric"] == "repeat_purchase_ratio"]
    assert repeat["value"] == 50.0  # c1 ordered twice, c2 once
    assert [p.label for p in res.periods] == ["2026-03-01 to date (through 2026-03-15)"]
    assert res.caption == "month 2026-03-01 to date (through 2026-03-15)"
    assert all(r["complete"] is False for r in res.records)


def test_with_an_earlier_month_the_scorecard_shows_the_latest_complete_one(tables, utc) -> None:  # type: ignore[no-untyped-def]
    """A few days of April must not stand beside whole months: March is shown, and the note says why."""
    import pandas as pd

    rows = [*ORDERS, ("o4", "c2", "2026-04-01T09:00:00Z", 80.0)]  # today is 2 April
    frame = pd.DataFrame(
        {
            "order_id": [o[0] for o in rows],
            "customer_id": [o[1] for o in rows],
            "ordered_at": pd.to_datetime([o[2] for o in rows], utc=True).astype("datetime64[us, UTC]"),
            "revenue": [o[3] for o in rows],
        }
    )
    with open_dataframes({"orders": frame}) as src:
        res = scorecard(src, today=date(2026, 4, 2))
        series = compute(src, ["average_order_value"], today=date(2026, 4, 2), span=2)
    [aov] = [r for r in res.records if r["metric"] == "average_order_value"]
    assert (aov["period"], aov["value"], aov["orders"], aov["complete"]) == (date(2026, 3, 1), 20.0, 3, True)
    assert res.note == "the latest complete month; the current one, from 2026-04-01, is not over"
    assert res.caption == f"month 2026-03-01 to 2026-03-31 ({res.note})"
    # a series still ends with the current month, to date: 80 over 1 order
    assert [(r["period"], r["value"], r["complete"]) for r in series.records] == [
        (date(2026, 3, 1), 20.0, True),
        (date(2026, 4, 1), 80.0, False),
    ]


def test_once_the_month_is_over_it_is_complete(march) -> None:
    res = scorecard(march, today=date(2026, 4, 2))
    assert [(p.start, p.end, p.complete) for p in res.periods] == [(date(2026, 3, 1), date(2026, 4, 1), True)]
    assert res.caption == "month 2026-03-01 to 2026-03-31"
    assert all(r["complete"] for r in res.records if r["metric"] != "historical_clv")


def test_a_series_ends_with_the_period_to_date(march) -> None:
    res = compute(march, ["average_order_value"], period="week", span=3, today=date(2026, 3, 11))
    # Weeks start on Monday: 23 Feb, 2 Mar, 9 Mar (to date: through Wednesday the 11th).
    got = [(r["period"], r["orders"], r["complete"]) for r in res.records]
    assert got == [(date(2026, 2, 23), 0, True), (date(2026, 3, 2), 2, True), (date(2026, 3, 9), 1, False)]
    assert res.periods[-1].label == "2026-03-09 to date (through 2026-03-11)"


def test_without_today_the_data_is_current_through_its_last_day(march) -> None:
    res = scorecard(march)
    assert [p.label for p in res.periods] == ["2026-03-01 to date (through 2026-03-11)"]


def test_latest_periods_cut_at_today() -> None:
    p = latest_periods("quarter", date(2026, 2, 1), date(2026, 3, 15), span=2)
    assert [str(d) for d in p.labels] == ["2025-10-01", "2026-01-01"]
    assert p.end.date() == date(2026, 3, 16)
    assert [s.complete for s in period_status(p, date(2026, 3, 15))] == [True, False]


def test_period_kinds_are_defined_once() -> None:
    from typing import get_args

    from aftersales.entrypoints.cli.metrics import Period

    assert PERIOD_KINDS == get_args(PeriodKind) == tuple(p.value for p in Period)


@pytest.mark.parametrize(
    ("call", "loc"),
    [
        (lambda: get_metric("nope"), ("name",)),
        (lambda: calendar_periods("day", date(2000, 1, 1), date(2024, 1, 1)), ("period",)),
        (lambda: calendar_periods("month", date(2024, 3, 1), date(2024, 1, 1)), ("from",)),
        (lambda: latest_periods("fortnight", date(2024, 3, 1), date(2024, 3, 2)), ("period",)),
    ],
)
def test_errors_carry_a_neutral_field_location(call, loc) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ValidationError) as info:
        call()
    assert [e.loc for e in info.value.errors] == [loc]
    assert "--" not in str(info.value) and all("--" not in e.message for e in info.value.errors)


def test_an_unknown_segment_column_is_located_at_by(tables, order, utc) -> None:  # type: ignore[no-untyped-def]
    t = tables(orders=[order("o1", "c1", utc(2024, 1, 2))])
    with pytest.raises(ValidationError) as info:
        segmented(t["orders"], None, "nope")
    assert [e.loc for e in info.value.errors] == [("by",)]


def test_a_source_without_orders_asks_for_the_end_date(tables) -> None:  # type: ignore[no-untyped-def]
    import pandas as pd

    responses = pd.DataFrame({"response_id": ["r1"], "kind": ["nps"], "score": [9]})
    with open_dataframes({"survey_responses": responses}) as src, pytest.raises(ValidationError) as info:
        compute(src, ["nps"])
    assert [e.loc for e in info.value.errors] == [("to",)]
    assert "--to" not in str(info.value)


def test_no_null_safe_join_without_a_segment(tables, order, utc) -> None:  # type: ignore[no-untyped-def]
    """IS NOT DISTINCT FROM defeats PostgreSQL's hash joins (issue 11): only a breakdown needs it."""
    t = tables(orders=[order("o1", "c1", utc(2024, 1, 2), channel="web")])
    p = calendar_periods("month", date(2024, 1, 1), date(2024, 3, 1))
    plain = ibis.to_sql(revenue.period_activity(t["orders"], p), dialect="postgres")
    by = ibis.to_sql(revenue.period_activity(t["orders"], p, by="channel"), dialect="postgres")
    assert "IS NOT DISTINCT FROM" not in plain.upper()
    assert "IS NOT DISTINCT FROM" in by.upper()
