"""RFM summary (lifetimes' convention) on hand-computed orders; the observation-end cut on the time stamp."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import ibis
import pyarrow as pa
import pytest

from aftersales.core.metrics.periods import local_day_end, local_day_number
from aftersales.core.metrics.rfm import rfm_summary

US = timedelta(microseconds=1)


def _day(d: date) -> int:
    return (d - date(1970, 1, 1)).days


def summary(tables, orders, **kw) -> dict[str, dict]:
    expr = rfm_summary(tables(orders=orders)["orders"], **kw)
    return {r.pop("customer_id"): r for r in expr.to_pyarrow().to_pylist()}


def test_docstring_example_single_buyer_and_excluded_orders(tables, utc, order):
    got = summary(
        tables,
        [
            order("1", "a", utc(2024, 1, 1, 9), 10.0),
            order("2", "a", utc(2024, 1, 4, 8), 20.0),
            order("3", "a", utc(2024, 1, 4, 20), 5.0),  # same day: one period worth 25
            order("4", "a", utc(2024, 1, 11), 40.0),
            order("5", "b", utc(2024, 1, 5), 99.0),
            order("6", "c", utc(2024, 1, 6), 50.0, status="cancelled"),
            order("7", "b", utc(2024, 1, 7), 70.0, returned_at=utc(2024, 1, 9)),
        ],
        observation_end=date(2024, 1, 13),
    )
    assert got == {
        "a": {"frequency": 2.0, "recency": 10.0, "T": 12.0, "monetary_value": 32.5},
        "b": {"frequency": 0.0, "recency": 0.0, "T": 8.0, "monetary_value": 0.0},
    }


def test_observation_end_day_is_included_to_the_microsecond_in_the_zone(tables, order):
    # Oslo's 31 March 2024 (the spring DST day) runs to 21:59:59.999999 UTC.
    end_of_day = datetime(2024, 3, 31, 22, tzinfo=UTC)
    rows = [
        order("1", "a", datetime(2024, 3, 1, 12, tzinfo=UTC), 10.0),
        order("2", "a", end_of_day - US, 30.0),
        order("3", "a", end_of_day, 1000.0),  # 1 April 00:00 in Oslo: after the observation end
        order("4", "b", end_of_day, 5.0),
    ]
    got = summary(tables, rows, observation_end=date(2024, 3, 31), tz="Europe/Oslo")
    assert got == {"a": {"frequency": 1.0, "recency": 30.0, "T": 30.0, "monetary_value": 30.0}}


def test_zone_whose_days_go_back_in_time_falls_back_to_the_day_filter(tables, order):
    # St. John's ended DST at 00:01 local on 7 November 2010, back to 23:01 on the 6th: 02:30-02:31 UTC
    # is already the 7th, 02:31-03:30 UTC the 6th again. No single instant ends the 6th.
    t = lambda h, m, d=7: datetime(2010, 11, d, h, m, tzinfo=UTC)  # noqa: E731
    rows = [
        order("1", "a", t(12, 0, d=1), 10.0),
        order("2", "a", t(2, 30) + timedelta(seconds=30), 1000.0),  # 7 Nov 00:00:30 NDT: after the end
        order("3", "a", t(2, 45), 20.0),  # 6 Nov 23:15 NST: inside
        order("4", "a", t(3, 30), 1000.0),  # 7 Nov 00:00 NST: after the end
    ]
    end = date(2010, 11, 6)
    assert local_day_end(_day(end), "America/St_Johns", t(0, 0, d=1), t(0, 0, d=9)) is None
    got = summary(tables, rows, observation_end=end, tz="America/St_Johns", data_start=date(2010, 10, 1))
    assert got == {"a": {"frequency": 1.0, "recency": 5.0, "T": 5.0, "monetary_value": 20.0}}


def test_weeks_run_monday_to_sunday_and_the_end_week_is_whole(tables, utc, order):
    rows = [
        order("1", "a", utc(2024, 1, 1), 10.0),  # Monday, week w
        order("2", "a", utc(2024, 1, 7, 23, 59), 5.0),  # Sunday, same week
        order("3", "a", utc(2024, 1, 8), 20.0),  # Monday, week w + 1
        order("4", "a", utc(2024, 1, 14, 23), 30.0),  # Sunday after the end date: still in the end week
        order("5", "a", utc(2024, 1, 15), 1000.0),  # next Monday: after the end week
    ]
    got = summary(tables, rows, observation_end=date(2024, 1, 10), time_unit="W")
    assert got == {"a": {"frequency": 1.0, "recency": 1.0, "T": 1.0, "monetary_value": 50.0}}


def test_calibration_and_holdout(tables, utc, order):
    rows = [
        order("1", "a", utc(2024, 1, 1), 10.0),
        order("2", "a", utc(2024, 1, 5), 20.0),
        order("3", "a", utc(2024, 1, 10, 23), 30.0),  # the calibration end day: calibration
        order("4", "a", utc(2024, 1, 12), 40.0),
        order("5", "a", utc(2024, 1, 12, 1), 2.0),
        order("6", "a", utc(2024, 1, 20), 50.0),
        order("7", "a", utc(2024, 1, 21), 1000.0),  # after the observation end
        order("8", "b", utc(2024, 1, 15), 10.0),  # first bought in the holdout: not in the summary
    ]
    got = summary(tables, rows, observation_end=date(2024, 1, 20), calibration_end=date(2024, 1, 10))
    assert got == {
        "a": {
            "frequency": 2.0,
            "recency": 9.0,
            "T": 9.0,
            "monetary_value": 25.0,
            "frequency_holdout": 2.0,
            "monetary_value_holdout": 46.0,
            "duration_holdout": 10.0,
        }
    }


ZONES = [
    ("UTC", date(2024, 6, 1)),
    ("Europe/Oslo", date(2024, 3, 30)),
    ("Europe/Oslo", date(2024, 3, 31)),
    ("Europe/Oslo", date(2024, 10, 27)),
    ("America/New_York", date(2024, 11, 2)),
    ("America/New_York", date(2024, 11, 3)),
    ("Asia/Kolkata", date(2024, 1, 1)),
    ("Australia/Lord_Howe", date(2024, 4, 6)),  # half-hour DST
    ("Asia/Beirut", date(2023, 10, 28)),  # back from 00:00 to 23:00: days stay monotonic
    ("America/St_Johns", date(2010, 11, 6)),  # back from 00:01 to 23:01: not monotonic
    ("America/St_Johns", date(2010, 11, 7)),
]


@pytest.mark.parametrize(("tz", "day"), ZONES)
def test_local_day_end_agrees_with_the_engines_local_days(tz, day):
    start = datetime.combine(day - timedelta(days=40), datetime.min.time(), tzinfo=UTC)
    stop = start + timedelta(days=80)
    end = local_day_end(_day(day), tz, start, stop)
    # every minute over three days around the day's end, plus a microsecond either side of the bound
    base = datetime.combine(day, datetime.min.time(), tzinfo=UTC) - timedelta(days=1)
    stamps = [base + timedelta(minutes=m) for m in range(3 * 24 * 60)]
    if end is not None:
        stamps += [end - US, end, end + US]
    con = ibis.duckdb.connect()
    con.con.register("t", pa.table({"ts": pa.array(stamps, pa.timestamp("us", "UTC"))}))
    t = con.table("t")
    rows = t.select(t.ts, d=local_day_number(t.ts, tz, start, stop)).to_pyarrow().to_pylist()
    inside = sorted((r["ts"], r["d"] <= _day(day)) for r in rows)
    if end is None:  # some later stamp is inside again after an earlier one was out
        first_out = next(i for i, (_, ok) in enumerate(inside) if not ok)
        assert any(ok for _, ok in inside[first_out:])
    else:
        assert all(ok == (ts < end) for ts, ok in inside)
