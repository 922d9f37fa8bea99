"""Wall-clock arithmetic around the 2026 daylight-saving changes in New York and Berlin.

New York: 2026-03-08 02:00 EST -> 03:00 EDT (07:00 UTC); 2026-11-01 02:00 EDT -> 01:00 EST (06:00 UTC).
Berlin: 2026-03-29 02:00 CET -> 03:00 CEST (01:00 UTC); 2026-10-25 03:00 CEST -> 02:00 CET (01:00 UTC).
Every expected instant below is written out by hand in UTC.
"""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from aftersales.core.localtime import (
    local_datetime,
    next_local_time,
    next_window_start,
    within_local_window,
)

NY = ZoneInfo("America/New_York")
BERLIN = ZoneInfo("Europe/Berlin")
MON, FRI, SAT, SUN = 0, 4, 5, 6


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


@pytest.mark.parametrize(
    ("after", "zone", "at", "days", "expected"),
    [
        # New York, spring forward on Sunday 2026-03-08
        (utc(2026, 3, 7, 12), NY, time(9), None, utc(2026, 3, 7, 14)),  # 09:00 EST
        (utc(2026, 3, 7, 15), NY, time(9), None, utc(2026, 3, 8, 13)),  # 09:00 EDT, 23 hours later
        (utc(2026, 3, 8, 5), NY, time(2, 30), None, utc(2026, 3, 8, 7)),  # skipped: 03:00 EDT
        (utc(2026, 3, 8, 5), NY, time(2, 0), None, utc(2026, 3, 8, 7)),  # 02:00 is the gap's first minute
        (utc(2026, 3, 8, 5), NY, time(3, 0), None, utc(2026, 3, 8, 7)),  # 03:00 EDT exists: the same instant
        (utc(2026, 3, 8, 5), NY, time(1, 59), None, utc(2026, 3, 8, 6, 59)),  # 01:59 EST
        (utc(2026, 3, 8, 7, 0, 1), NY, time(2, 30), None, utc(2026, 3, 9, 6, 30)),  # next day, 02:30 EDT
        # New York, fall back on Sunday 2026-11-01: 01:00-02:00 happens twice
        (utc(2026, 11, 1, 4), NY, time(1, 30), None, utc(2026, 11, 1, 5, 30)),  # first occurrence, EDT
        (utc(2026, 11, 1, 5, 45), NY, time(1, 30), None, utc(2026, 11, 2, 6, 30)),  # not again at 01:30 EST
        (utc(2026, 11, 1, 4), NY, time(2, 0), None, utc(2026, 11, 1, 7)),  # 02:00 EST, after the repeat
        (utc(2026, 10, 31, 14), NY, time(9), None, utc(2026, 11, 1, 14)),  # 09:00 EST, 25 hours later
        (utc(2026, 10, 30, 20), NY, time(9), frozenset({MON}), utc(2026, 11, 2, 14)),  # Fri -> Mon 09:00 EST
        # Berlin, spring forward on Sunday 2026-03-29
        (utc(2026, 3, 28, 23, 30), BERLIN, time(2, 15), None, utc(2026, 3, 29, 1)),  # skipped: 03:00 CEST
        (utc(2026, 3, 28, 23, 30), BERLIN, time(9), None, utc(2026, 3, 29, 7)),  # 09:00 CEST
        (utc(2026, 3, 27, 12), BERLIN, time(9), frozenset({MON}), utc(2026, 3, 30, 7)),
        (utc(2026, 3, 27, 12), BERLIN, time(2, 30), frozenset({SUN}), utc(2026, 3, 29, 1)),
        # Berlin, fall back on Sunday 2026-10-25: 02:00-03:00 happens twice
        (utc(2026, 10, 24, 22), BERLIN, time(2, 30), None, utc(2026, 10, 25, 0, 30)),  # first: CEST
        (utc(2026, 10, 25, 0, 45), BERLIN, time(2, 30), None, utc(2026, 10, 26, 1, 30)),  # next day CET
        (utc(2026, 10, 25, 1, 15), BERLIN, time(3, 0), None, utc(2026, 10, 25, 2)),  # 03:00 CET
        (utc(2026, 10, 24, 12), BERLIN, time(9), frozenset({SAT, SUN}), utc(2026, 10, 25, 8)),  # 09:00 CET
    ],
)
def test_next_local_time_around_2026_changes(after, zone, at, days, expected) -> None:
    got = next_local_time(after, zone, at, days)
    assert got == expected
    assert got.tzinfo is UTC


def test_an_instant_equal_to_the_wall_time_is_itself() -> None:
    assert next_local_time(utc(2026, 3, 8, 13), NY, time(9)) == utc(2026, 3, 8, 13)


def test_the_after_argument_may_be_in_any_zone() -> None:
    plus_one = timezone(timedelta(hours=1))
    assert next_local_time(datetime(2026, 3, 29, 0, 30, tzinfo=plus_one), BERLIN, time(2, 15)) == utc(2026, 3, 29, 1)


def test_local_datetime_shows_both_passes_of_a_repeated_hour() -> None:
    first, second = local_datetime(utc(2026, 10, 25, 0, 30), BERLIN), local_datetime(utc(2026, 10, 25, 1, 30), BERLIN)
    assert (first.hour, first.minute, first.utcoffset()) == (2, 30, timedelta(hours=2))
    assert (second.hour, second.minute, second.utcoffset()) == (2, 30, timedelta(hours=1))


@pytest.mark.parametrize(
    ("when", "zone", "inside"),
    [
        # quiet hours 21:00-08:00 across New York's spring-forward night
        (utc(2026, 3, 8, 1, 59), NY, False),  # 20:59 EST on the 7th
        (utc(2026, 3, 8, 2, 0), NY, True),  # 21:00 EST
        (utc(2026, 3, 8, 6, 59), NY, True),  # 01:59 EST
        (utc(2026, 3, 8, 7, 0), NY, True),  # 03:00 EDT
        (utc(2026, 3, 8, 11, 59), NY, True),  # 07:59 EDT
        (utc(2026, 3, 8, 12, 0), NY, False),  # 08:00 EDT (it would be 07:00 in EST)
        (utc(2026, 3, 7, 12, 59), NY, True),  # 07:59 EST the day before
        (utc(2026, 3, 7, 13, 0), NY, False),  # 08:00 EST
        # ... and across Berlin's fall-back night
        (utc(2026, 10, 24, 18, 59), BERLIN, False),  # 20:59 CEST
        (utc(2026, 10, 24, 19, 0), BERLIN, True),  # 21:00 CEST
        (utc(2026, 10, 25, 6, 59), BERLIN, True),  # 07:59 CET
        (utc(2026, 10, 25, 7, 0), BERLIN, False),  # 08:00 CET (09:00 in CEST)
    ],
)
def test_quiet_hours_cross_midnight_on_the_wall_clock(when, zone, inside) -> None:
    assert within_local_window(when, zone, time(21), time(8)) is inside


def test_a_daytime_window_is_half_open() -> None:
    assert within_local_window(utc(2026, 3, 30, 6), BERLIN, time(8), time(20))  # 08:00 CEST
    assert not within_local_window(utc(2026, 3, 30, 18), BERLIN, time(8), time(20))  # 20:00 CEST
    assert not within_local_window(utc(2026, 3, 30, 5, 59), BERLIN, time(8), time(20))


def test_a_window_crossing_midnight_belongs_to_the_day_it_opens() -> None:
    sat_0300_ny = utc(2026, 11, 7, 8)  # Saturday 03:00 EST
    assert within_local_window(sat_0300_ny, NY, time(21), time(8), frozenset({FRI}))
    assert not within_local_window(sat_0300_ny, NY, time(21), time(8), frozenset({SAT}))
    assert within_local_window(utc(2026, 11, 8, 2), NY, time(21), time(8), frozenset({SAT}))  # Sat 21:00


@pytest.mark.parametrize(
    ("when", "zone", "start", "end", "days", "expected"),
    [
        # the next send time after quiet hours 21:00-08:00 (the window 08:00-21:00)
        (utc(2026, 3, 8, 3), NY, time(8), time(21), None, utc(2026, 3, 8, 12)),  # 08:00 EDT
        (utc(2026, 3, 8, 14), NY, time(8), time(21), None, utc(2026, 3, 8, 14)),  # open now: now
        (utc(2026, 10, 24, 20), BERLIN, time(8), time(21), None, utc(2026, 10, 25, 7)),  # 08:00 CET
        (utc(2026, 10, 24, 20), BERLIN, time(8), time(21), frozenset({MON}), utc(2026, 10, 26, 7)),
        # a window lying wholly in the skipped hour never opens that day: the next day's
        (utc(2026, 3, 8, 5), NY, time(2), time(3), None, utc(2026, 3, 9, 6)),
        # a window that contains the gap opens at its end
        (utc(2026, 3, 8, 5), NY, time(2, 30), time(4), None, utc(2026, 3, 8, 7)),
        (utc(2026, 3, 28, 23, 30), BERLIN, time(2, 30), time(4), None, utc(2026, 3, 29, 1)),
        # a night window opening Fridays only, asked on Saturday morning after it closed
        (utc(2026, 11, 7, 14), NY, time(21), time(8), frozenset({FRI}), utc(2026, 11, 14, 2)),
    ],
)
def test_next_window_start(when, zone, start, end, days, expected) -> None:
    assert next_window_start(when, zone, start, end, days) == expected


def test_samoa_skipped_a_whole_day_in_2011() -> None:
    """Pacific/Apia went from 2011-12-29 24:00 (-10) to 2011-12-31 00:00 (+14): the 30th never was."""
    apia = ZoneInfo("Pacific/Apia")
    got = next_local_time(utc(2011, 12, 29, 20), apia, time(9))  # 10:00 local on the 29th
    assert got == utc(2011, 12, 30, 10)  # the end of the gap: 00:00 on the 31st
    assert local_datetime(got, apia).replace(tzinfo=None) == datetime(2011, 12, 31)


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: next_local_time(datetime(2026, 3, 8), NY, time(9)), "must carry a time zone"),
        (lambda: next_local_time(utc(2026, 3, 8), NY, time(9), frozenset()), "non-empty set"),
        (lambda: next_local_time(utc(2026, 3, 8), NY, time(9), frozenset({7})), "0 \\(Monday\\)"),
        (lambda: within_local_window(utc(2026, 3, 8), NY, time(9), time(9)), "is empty"),
        (lambda: next_window_start(utc(2026, 3, 8), NY, time(9), time(9)), "is empty"),
    ],
)
def test_refused_arguments(call, message) -> None:
    with pytest.raises(ValueError, match=message):
        call()
