"""Properties of the wall-clock helpers over zones with unusual changes (30-minute DST, changes at
midnight, negative DST), checked with hypothesis."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from aftersales.core.localtime import local_datetime, next_local_time, next_window_start, within_local_window

ZONES = [
    ZoneInfo(name)
    for name in (
        "America/New_York",
        "Europe/Berlin",
        "Australia/Lord_Howe",  # DST of 30 minutes
        "America/Santiago",  # changes at midnight: 00:00 may not exist
        "Europe/Dublin",  # "negative" DST in the zone database
        "America/St_Johns",  # UTC-03:30
        "Asia/Kathmandu",  # UTC+05:45, no DST
        "Africa/Casablanca",  # DST suspended during Ramadan
        "UTC",
    )
]

instants = st.datetimes(min_value=datetime(2024, 1, 1), max_value=datetime(2028, 12, 31), timezones=st.just(UTC))
wall_times = st.builds(time, st.integers(0, 23), st.sampled_from([0, 1, 15, 30, 45, 59]))
day_sets = st.none() | st.frozensets(st.integers(0, 6), min_size=1)


def _is_change(instant: datetime, zone: ZoneInfo) -> bool:
    """Whether ``zone``'s offset changes exactly at ``instant``."""
    return local_datetime(instant - timedelta(seconds=1), zone).utcoffset() != local_datetime(instant, zone).utcoffset()


@settings(max_examples=400, deadline=None)
@given(after=instants, zone=st.sampled_from(ZONES), at=wall_times, days=day_sets)
def test_next_local_time_is_at_or_after_and_on_the_wall_time(after, zone, at, days) -> None:
    got = next_local_time(after, zone, at, days)
    assert got >= after
    assert got - after <= timedelta(days=8)
    local = local_datetime(got, zone)
    if local.time().replace(tzinfo=None) != at:
        # only when ``at`` was skipped that day: ``got`` is the change itself, just after the gap
        assert _is_change(got, zone)
        assert (
            local.time().replace(tzinfo=None) > at
            or local.date() > local_datetime(got - timedelta(seconds=1), zone).date()
        )
    else:
        assert local.fold == 0  # a repeated wall time: its first occurrence
    opened = local.date() if local.time().replace(tzinfo=None) >= at else local.date() - timedelta(days=1)
    assert days is None or opened.weekday() in days


@settings(max_examples=300, deadline=None)
@given(after=instants, zone=st.sampled_from(ZONES), at=wall_times, days=day_sets, share=st.floats(0, 1))
def test_next_local_time_is_the_first_such_instant(after, zone, at, days, share) -> None:
    """Every instant between ``after`` and the answer leads to the same answer (none was skipped),
    and the answer is a fixed point."""
    got = next_local_time(after, zone, at, days)
    assert next_local_time(got, zone, at, days) == got
    between = after + (got - after) * share
    assert next_local_time(between, zone, at, days) == got


@settings(max_examples=300, deadline=None)
@given(
    now=instants,
    zone=st.sampled_from(ZONES),
    start=wall_times,
    end=wall_times,
    days=day_sets,
)
def test_next_window_start_is_open_and_now_when_open(now, zone, start, end, days) -> None:
    if start == end:
        return
    got = next_window_start(now, zone, start, end, days)
    assert got >= now
    assert within_local_window(got, zone, start, end, days)
    if within_local_window(now, zone, start, end, days):
        assert got == now
    else:
        assert got - now <= timedelta(days=8)
        assert not within_local_window(got - timedelta(microseconds=1), zone, start, end, days)


def _changes() -> list[tuple[ZoneInfo, datetime, timedelta]]:
    """(zone, instant, offset after - offset before) of every offset change in 2024-2028, found by a
    daily scan and a bisection over seconds (written here independently of the module)."""
    found = []
    start = datetime(2024, 1, 1, 12, tzinfo=UTC)
    for zone in ZONES:
        for d in range(5 * 366):
            lo, hi = start + timedelta(days=d), start + timedelta(days=d + 1)
            before, after = lo.astimezone(zone).utcoffset(), hi.astimezone(zone).utcoffset()
            if before == after:
                continue
            a, b = int(lo.timestamp()), int(hi.timestamp())
            while b - a > 1:
                mid = (a + b) // 2
                if datetime.fromtimestamp(mid, UTC).astimezone(zone).utcoffset() == after:
                    b = mid
                else:
                    a = mid
            assert before is not None and after is not None
            found.append((zone, datetime.fromtimestamp(b, UTC), after - before))
    return found


CHANGES = _changes()
SPRING = [c for c in CHANGES if c[2] > timedelta(0)]
AUTUMN = [c for c in CHANGES if c[2] < timedelta(0)]


@settings(max_examples=300, deadline=None)
@given(change=st.sampled_from(SPRING), early=st.integers(0, 3600), into=st.floats(0, 1, exclude_max=True))
def test_a_skipped_wall_time_means_the_end_of_the_gap(change, early, into) -> None:
    zone, instant, jump = change
    gap_start = (instant - timedelta(seconds=1)).astimezone(zone).replace(tzinfo=None) + timedelta(seconds=1)
    skipped = gap_start + timedelta(seconds=int(jump.total_seconds() * into))  # inside the gap that day
    at = time(skipped.hour, skipped.minute)
    if datetime.combine(skipped.date(), at) < gap_start:
        return  # truncating to the minute left the gap
    after = instant - timedelta(seconds=early)
    assert next_local_time(after, zone, at) == instant


@settings(max_examples=300, deadline=None)
@given(change=st.sampled_from(AUTUMN), early=st.integers(0, 3600), into=st.floats(0, 1, exclude_max=True))
def test_a_repeated_wall_time_means_its_first_occurrence(change, early, into) -> None:
    zone, instant, back = change
    repeated_from = instant.astimezone(zone).replace(tzinfo=None)  # the repeat starts here
    wall = repeated_from + timedelta(seconds=int(-back.total_seconds() * into))
    at = time(wall.hour, wall.minute)
    after = instant - (-back) - timedelta(seconds=early)  # before the first pass of the repeated hour
    got = next_local_time(after, zone, at)
    local = local_datetime(got, zone)
    assert local.time().replace(tzinfo=None) == at
    assert got < instant or datetime.combine(local.date(), at) < repeated_from  # the first pass
