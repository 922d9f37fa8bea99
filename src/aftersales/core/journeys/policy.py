"""The send policy: whether a queued message goes now, later, or not at all (pure; checked at send time).

Rules, in this order (:func:`decide_send`):

1. **suppressed** -> ``suppress``. The caller resolves ``suppressed`` for the message's category
   (an unsubscribe from the topic suppresses marketing; a hard bounce or complaint suppresses
   transactional mail too), so the rule holds for both categories.
2. **transactional** -> ``send`` now: quiet hours and frequency caps do not apply.
3. **marketing without consent** -> ``skip`` ("no consent").
4. **marketing in quiet hours** (the customer's wall clock in ``zone`` lies in ``[start, end)``,
   a window with ``end < start`` crossing midnight; DST-correct, see
   :mod:`aftersales.core.localtime`) -> ``defer`` to the end of the quiet hours: the first instant
   the sending window ``[end, start)`` is open. Deferred, never dropped.
5. **marketing over the frequency cap**: at most ``cap`` marketing sends per rolling
   ``cap_window``; a send at ``s`` counts at time ``t`` when ``t - cap_window < s <= t``. With
   ``k >= cap`` sends counting at ``t``, the next send may go when the ``(k - cap + 1)``-th oldest
   of them leaves the window (at its time + ``cap_window``) -> ``defer`` to then, or ``skip``
   ("frequency cap") when that is later than ``queued_at + max_defer``.

Rules 4 and 5 are applied together: the earliest instant outside quiet hours at which the cap
allows a send (a cap that frees up in the night is deferred on to the morning). ``cap == 0``
means no cap.

>>> from datetime import UTC, datetime
>>> from zoneinfo import ZoneInfo
>>> policy = SendPolicy(parse_quiet_hours("21:00-08:00"), *parse_frequency_cap("3/7d"))
>>> late = datetime(2026, 7, 1, 3, 0, tzinfo=UTC)  # 23:00 in New York
>>> decide_send(policy, category="marketing", now=late, zone=ZoneInfo("America/New_York"),
...             recent_marketing_sends=[], consent=True, suppressed=False, queued_at=late)
SendDecision(action='defer', not_before=datetime.datetime(2026, 7, 1, 12, 0, tzinfo=datetime.timezone.utc), \
reason='quiet hours')
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

from aftersales.core.errors import FieldError, ValidationError
from aftersales.core.journeys.durations import parse_duration
from aftersales.core.localtime import next_window_start, parse_wall_time, within_local_window

__all__ = ["SendDecision", "SendPolicy", "decide_send", "parse_frequency_cap", "parse_quiet_hours"]

Action = Literal["send", "defer", "skip", "suppress"]
_OFF = frozenset({"", "off", "none"})


@dataclass(frozen=True)
class SendPolicy:
    """Quiet hours (wall-clock ``(start, end)`` or ``None``), the marketing frequency cap
    (``cap`` sends per ``cap_window``; 0: none) and the longest a capped message may wait."""

    quiet: tuple[time, time] | None
    cap: int
    cap_window: timedelta
    max_defer: timedelta = timedelta(days=7)

    def __post_init__(self) -> None:
        if self.cap < 0 or (self.cap > 0 and self.cap_window <= timedelta(0)):
            raise ValidationError("a frequency cap needs a count >= 1 and a positive window (or 0 for none)")
        if self.quiet is not None and self.quiet[0] == self.quiet[1]:
            raise ValidationError("quiet hours need different start and end times")


@dataclass(frozen=True)
class SendDecision:
    """``send`` (now), ``defer`` (until ``not_before``), ``skip`` or ``suppress``, with the reason."""

    action: Action
    not_before: datetime | None
    reason: str | None


def parse_quiet_hours(text: str) -> tuple[time, time] | None:
    """``"21:00-08:00"`` -> ``(time(21), time(8))``; ``"off"``, ``"none"`` or ``""`` -> ``None``.

    >>> parse_quiet_hours("22:30-7:00"), parse_quiet_hours("off")
    ((datetime.time(22, 30), datetime.time(7, 0)), None)
    """
    if text.strip().lower() in _OFF:
        return None
    start, sep, end = text.partition("-")
    try:
        if not sep:
            raise ValueError("no '-' between start and end")
        window = parse_wall_time(start), parse_wall_time(end)
    except ValueError as exc:
        message = f"quiet hours are written HH:MM-HH:MM, e.g. 21:00-08:00, or off ({exc})"
        raise ValidationError(message, [FieldError(("quiet_hours",), message)]) from None
    if window[0] == window[1]:
        message = "quiet hours need different start and end times (write off for none)"
        raise ValidationError(message, [FieldError(("quiet_hours",), message)])
    return window


def parse_frequency_cap(text: str) -> tuple[int, timedelta]:
    """``"3/7d"`` -> ``(3, timedelta(days=7))``: at most 3 marketing sends per rolling 7 days;
    ``"off"`` -> ``(0, timedelta(0))`` (no cap).

    >>> parse_frequency_cap("3/7d"), parse_frequency_cap("1/12h"), parse_frequency_cap("off")
    ((3, datetime.timedelta(days=7)), (1, datetime.timedelta(seconds=43200)), (0, datetime.timedelta(0)))
    """
    if text.strip().lower() in _OFF:
        return 0, timedelta(0)
    count, sep, window = text.strip().partition("/")
    try:
        if not (sep and count.strip().isdigit() and int(count) >= 1):
            raise ValueError("the count must be a whole number of at least 1")
        span = parse_duration(window.strip())
        if span <= timedelta(0):
            raise ValueError("the window must be positive")
    except ValueError as exc:
        message = f"a frequency cap is written <count>/<duration>, e.g. 3/7d, or off ({exc})"
        raise ValidationError(message, [FieldError(("frequency_cap",), message)]) from None
    return int(count), span


def _quiet_end(policy: SendPolicy, at: datetime, zone: ZoneInfo) -> datetime:
    """``at`` when it is outside quiet hours, else the first instant after them."""
    if policy.quiet is None:
        return at
    start, end = policy.quiet
    if not within_local_window(at, zone, start, end):
        return at
    return next_window_start(at, zone, end, start)


def _cap_release(policy: SendPolicy, at: datetime, sends: Sequence[datetime]) -> datetime:
    """``at`` when the cap allows a send then, else when enough counted sends have left the window."""
    if policy.cap == 0:
        return at
    counted = sorted(s for s in sends if at - policy.cap_window < s <= at)
    if len(counted) < policy.cap:
        return at
    return counted[len(counted) - policy.cap] + policy.cap_window


def decide_send(
    policy: SendPolicy,
    *,
    category: str,
    now: datetime,
    zone: ZoneInfo,
    recent_marketing_sends: Sequence[datetime],
    consent: bool,
    suppressed: bool,
    queued_at: datetime,
) -> SendDecision:
    """What to do with one queued message at ``now`` (module docstring).

    ``recent_marketing_sends`` are the customer's marketing sends on this channel (at least those
    within ``cap_window`` before ``now``); ``queued_at`` is when the message was first queued.
    """
    if now.tzinfo is None or queued_at.tzinfo is None:
        raise ValidationError("send times must be timezone-aware (UTC)")
    if suppressed:
        return SendDecision("suppress", None, "suppressed")
    if category == "transactional":
        return SendDecision("send", now, None)
    if not consent:
        return SendDecision("skip", None, "no consent")
    # Each round either stops or moves ``at`` strictly later, to the end of a night or to a counted
    # send's time + cap_window (finitely many): the loop ends.
    at, capped = now, False
    while True:
        after_quiet = _quiet_end(policy, at, zone)
        after_cap = _cap_release(policy, after_quiet, recent_marketing_sends)
        capped = capped or after_cap != after_quiet
        if after_cap == at:
            break
        at = after_cap
    if at == now:
        return SendDecision("send", now, None)
    if capped and at > queued_at + policy.max_defer:
        return SendDecision("skip", None, "frequency cap")
    return SendDecision("defer", at, "frequency cap" if capped else "quiet hours")
