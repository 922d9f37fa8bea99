"""The send policy: quiet hours on the customer's wall clock across the 2026 DST changes in New York
and Berlin (expected UTC instants computed by hand), frequency caps at their rolling-window
boundaries, consent, suppression, and the transactional exemption."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from aftersales.core.errors import ValidationError
from aftersales.core.journeys import SendDecision, SendPolicy, decide_send, parse_frequency_cap, parse_quiet_hours

NY, BERLIN, UTC_ZONE = ZoneInfo("America/New_York"), ZoneInfo("Europe/Berlin"), ZoneInfo("UTC")
QUIET = SendPolicy(parse_quiet_hours("21:00-08:00"), 0, timedelta(0))


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def decide(
    policy: SendPolicy,
    now: datetime,
    zone: ZoneInfo = UTC_ZONE,
    sends: tuple[datetime, ...] = (),
    *,
    category: str = "marketing",
    consent: bool = True,
    suppressed: bool = False,
    queued_at: datetime | None = None,
) -> SendDecision:
    return decide_send(
        policy,
        category=category,
        now=now,
        zone=zone,
        recent_marketing_sends=list(sends),
        consent=consent,
        suppressed=suppressed,
        queued_at=queued_at or now,
    )


@pytest.mark.parametrize(
    ("zone", "now", "expected"),
    [
        # New York, spring forward on Sunday 2026-03-08 (02:00 EST -> 03:00 EDT, 07:00 UTC)
        (NY, utc(2026, 3, 7, 3, 0), utc(2026, 3, 7, 13, 0)),  # Fri 22:00 EST -> Sat 08:00 EST
        (NY, utc(2026, 3, 8, 3, 0), utc(2026, 3, 8, 12, 0)),  # Sat 22:00 EST -> Sun 08:00 EDT
        (NY, utc(2026, 3, 8, 12, 30), None),  # Sun 08:30 EDT: open (07:30 on a UTC-5 clock)
        (NY, utc(2026, 3, 7, 12, 30), utc(2026, 3, 7, 13, 0)),  # Sat 07:30 EST: still quiet
        # New York, fall back on Sunday 2026-11-01 (02:00 EDT -> 01:00 EST, 06:00 UTC)
        (NY, utc(2026, 11, 1, 4, 0), utc(2026, 11, 1, 13, 0)),  # Sun 00:00 EDT -> 08:00 EST
        (NY, utc(2026, 11, 1, 12, 30), utc(2026, 11, 1, 13, 0)),  # 07:30 EST (08:30 on a UTC-4 clock)
        (NY, utc(2026, 11, 2, 1, 59), None),  # Sun 20:59 EST
        (NY, utc(2026, 11, 2, 2, 0), utc(2026, 11, 2, 13, 0)),  # Sun 21:00 EST -> Mon 08:00 EST
        # Berlin, spring forward on Sunday 2026-03-29 (02:00 CET -> 03:00 CEST, 01:00 UTC)
        (BERLIN, utc(2026, 3, 28, 21, 0), utc(2026, 3, 29, 6, 0)),  # Sat 22:00 CET -> Sun 08:00 CEST
        (BERLIN, utc(2026, 3, 29, 6, 30), None),  # Sun 08:30 CEST
        (BERLIN, utc(2026, 3, 29, 19, 30), utc(2026, 3, 30, 6, 0)),  # Sun 21:30 CEST -> Mon 08:00 CEST
        # Berlin, fall back on Sunday 2026-10-25 (03:00 CEST -> 02:00 CET, 01:00 UTC)
        (BERLIN, utc(2026, 10, 24, 20, 0), utc(2026, 10, 25, 7, 0)),  # Sat 22:00 CEST -> Sun 08:00 CET
        (BERLIN, utc(2026, 10, 25, 6, 30), utc(2026, 10, 25, 7, 0)),  # Sun 07:30 CET
        (BERLIN, utc(2026, 10, 25, 19, 59), None),  # Sun 20:59 CET
        (BERLIN, utc(2026, 10, 25, 20, 0), utc(2026, 10, 26, 7, 0)),  # Sun 21:00 CET -> Mon 08:00 CET
    ],
)
def test_quiet_hours_across_daylight_saving_changes(zone: ZoneInfo, now: datetime, expected: datetime | None) -> None:
    decision = decide(QUIET, now, zone)
    if expected is None:
        assert decision == SendDecision("send", now, None)
    else:
        assert decision == SendDecision("defer", expected, "quiet hours")
        assert decide(QUIET, expected, zone).action == "send"  # deferred, then sent: never dropped


def test_quiet_hours_ending_inside_the_skipped_hour_end_at_the_change() -> None:
    policy = SendPolicy(parse_quiet_hours("22:00-02:30"), 0, timedelta(0))
    # 02:30 does not exist in New York on 2026-03-08: the quiet hours end at 03:00 EDT, 07:00 UTC.
    assert decide(policy, utc(2026, 3, 8, 5, 0), NY) == SendDecision("defer", utc(2026, 3, 8, 7, 0), "quiet hours")


def test_quiet_hours_within_one_day() -> None:
    policy = SendPolicy((time(12), time(14)), 0, timedelta(0))
    assert decide(policy, utc(2026, 7, 1, 13, 0)) == SendDecision("defer", utc(2026, 7, 1, 14, 0), "quiet hours")
    assert decide(policy, utc(2026, 7, 1, 14, 0)).action == "send"
    assert decide(policy, utc(2026, 7, 1, 11, 59)).action == "send"


T = utc(2026, 7, 1, 16, 0)
CAP = SendPolicy(None, *parse_frequency_cap("3/7d"))
DAY = timedelta(days=1)


def test_frequency_cap_defers_until_the_oldest_send_leaves_the_window() -> None:
    assert decide(CAP, T, sends=(T - 6 * DAY, T - 3 * DAY, T - DAY)) == SendDecision("defer", T + DAY, "frequency cap")
    assert decide(CAP, T, sends=(T - 3 * DAY, T - DAY)).action == "send"


def test_the_rolling_window_boundary() -> None:
    # a send exactly cap_window ago has left the window; one a second later has not
    assert decide(CAP, T, sends=(T - 7 * DAY, T - 3 * DAY, T - DAY)).action == "send"
    second = timedelta(seconds=1)
    assert decide(CAP, T, sends=(T - 7 * DAY + second, T - 3 * DAY, T - DAY)) == SendDecision(
        "defer", T + second, "frequency cap"
    )
    assert decide(CAP, T + second, sends=(T - 7 * DAY + second, T - 3 * DAY, T - DAY)).action == "send"


def test_more_sends_than_the_cap_wait_for_enough_of_them_to_leave() -> None:
    sends = (T - 6 * DAY, T - 5 * DAY, T - 4 * DAY, T - 2 * DAY, T - DAY)  # 5 counted, cap 3: 3 must leave
    assert decide(CAP, T, sends=sends) == SendDecision("defer", T + 3 * DAY, "frequency cap")
    assert decide(CAP, T, sends=(T + DAY,)).action == "send"  # sends after now do not count yet


def test_a_cap_that_frees_up_too_late_skips() -> None:
    policy = SendPolicy(None, *parse_frequency_cap("1/30d"))
    assert decide(policy, T, sends=(T - DAY,)) == SendDecision("skip", None, "frequency cap")
    assert decide(policy, T, sends=(T - 24 * DAY,)) == SendDecision("defer", T + 6 * DAY, "frequency cap")
    assert decide(policy, T, sends=(T - 24 * DAY,), queued_at=T - 2 * DAY).action == "skip"  # queued long ago


def test_cap_and_quiet_hours_together() -> None:
    policy = SendPolicy(parse_quiet_hours("21:00-08:00"), *parse_frequency_cap("1/7d"))
    # the cap frees up at 02:00 EDT on 2 July: deferred on to 08:00 EDT (12:00 UTC)
    sent = utc(2026, 6, 25, 6, 0)
    assert decide(policy, T, NY, (sent,)) == SendDecision("defer", utc(2026, 7, 2, 12, 0), "frequency cap")
    # quiet at 23:00 EDT; at 08:00 the cap is still full until 10:00 EDT (14:00 UTC)
    night = utc(2026, 7, 2, 3, 0)
    assert decide(policy, night, NY, (utc(2026, 6, 25, 14, 0),)) == SendDecision(
        "defer", utc(2026, 7, 2, 14, 0), "frequency cap"
    )


def test_consent_suppression_and_transactional_mail() -> None:
    full = (T - DAY, T - 2 * DAY, T - 3 * DAY)
    policy = SendPolicy(parse_quiet_hours("21:00-08:00"), *parse_frequency_cap("3/7d"))
    night = utc(2026, 7, 2, 3, 0)  # 23:00 in New York
    assert decide(policy, night, NY, full, category="transactional", consent=False) == SendDecision("send", night, None)
    assert decide(policy, T, NY, consent=False) == SendDecision("skip", None, "no consent")
    for category in ("marketing", "transactional"):
        assert decide(policy, T, NY, category=category, suppressed=True) == SendDecision("suppress", None, "suppressed")


def test_parsing_settings() -> None:
    assert parse_quiet_hours("21:00-08:00") == (time(21), time(8))
    assert parse_quiet_hours(" OFF ") is None and parse_quiet_hours("") is None
    assert parse_frequency_cap("3/7d") == (3, timedelta(days=7))
    assert parse_frequency_cap("none") == (0, timedelta(0))
    for bad in ("21:00", "21:00-25:00", "9-5", "08:00-08:00"):
        with pytest.raises(ValidationError) as caught:
            parse_quiet_hours(bad)
        assert caught.value.errors[0].loc == ("quiet_hours",)
    for bad in ("3", "0/7d", "x/7d", "3/7 days", "3/0d", "-1/7d"):
        with pytest.raises(ValidationError) as caught:
            parse_frequency_cap(bad)
        assert caught.value.errors[0].loc == ("frequency_cap",)
    with pytest.raises(ValidationError):
        SendPolicy(None, 2, timedelta(0))
    with pytest.raises(ValidationError):
        decide(QUIET, datetime(2026, 7, 1, 12, 0))
