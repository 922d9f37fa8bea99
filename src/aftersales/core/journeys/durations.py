"""Durations in journey documents: a whole number and one unit, ``<int>(m|h|d|w)``.

``m`` is minutes, ``h`` hours, ``d`` days of 24 hours, ``w`` weeks of 7 days (a duration is
elapsed time, not calendar time: ``1d`` across a daylight-saving change is 24 hours, not "the same
wall time tomorrow"; use a ``wait_until`` step for wall times). A leading ``-`` is allowed only where
a document says so (date-rule offsets). Durations are at most 100 years (:data:`MAX_DURATION`), so
that adding one to any instant of the data contract's years stays inside ``datetime``'s range.

Written back, a duration takes the largest unit that divides it exactly (``14d`` -> ``2w``).

>>> parse_duration("2d"), parse_duration("-14d", signed=True), parse_duration("90m")
(datetime.timedelta(days=2), datetime.timedelta(days=-14), datetime.timedelta(seconds=5400))
>>> format_duration(parse_duration("14d")), format_duration(-parse_duration("36h"))
('2w', '-36h')
"""

from __future__ import annotations

import re
from datetime import timedelta

__all__ = ["DURATION_HINT", "MAX_DURATION", "UNITS", "format_duration", "parse_duration"]

UNITS: dict[str, timedelta] = {
    "w": timedelta(weeks=1),
    "d": timedelta(days=1),
    "h": timedelta(hours=1),
    "m": timedelta(minutes=1),
}
MAX_DURATION = timedelta(days=36500)
DURATION_HINT = "a whole number and a unit m, h, d or w, e.g. 30m, 12h, 2d, 3w"
_PATTERN = re.compile(r"^(-?)([0-9]{1,9})([mhdw])$")


def parse_duration(text: str, *, signed: bool = False) -> timedelta:
    """The duration ``text`` means; :class:`ValueError` saying why when it is not one.

    ``signed`` admits a leading ``-`` (offsets before a date). Whitespace around the text is ignored.

    >>> parse_duration("3w")
    datetime.timedelta(days=21)
    >>> parse_duration("2 days")
    Traceback (most recent call last):
    ValueError: '2 days' is not a duration (a whole number and a unit m, h, d or w, e.g. 30m, 12h, 2d, 3w)
    >>> parse_duration("-1d")
    Traceback (most recent call last):
    ValueError: '-1d' is not a duration here: it must not be negative
    """
    if not isinstance(text, str):
        raise ValueError(f"{text!r} is not a duration ({DURATION_HINT})")
    match = _PATTERN.match(text.strip())
    if match is None:
        raise ValueError(f"{text[:30]!r} is not a duration ({DURATION_HINT})")
    sign, amount, unit = match.groups()
    if sign and not signed:
        raise ValueError(f"{text!r} is not a duration here: it must not be negative")
    value = int(amount) * UNITS[unit]  # at most 10**9 weeks: inside timedelta's range
    if value > MAX_DURATION:
        raise ValueError(f"{text!r} is too long: durations are at most 100 years ({MAX_DURATION.days}d)")
    return -value if sign else value


def format_duration(value: timedelta) -> str:
    """``value`` written with the largest unit that divides it (a whole number of minutes is required).

    >>> format_duration(timedelta(hours=48)), format_duration(timedelta(0))
    ('2d', '0d')
    """
    magnitude = abs(value)
    if magnitude % UNITS["m"]:
        raise ValueError(f"{value} is not a whole number of minutes")
    sign = "-" if value < timedelta(0) else ""
    for unit, size in UNITS.items():
        if magnitude % size == timedelta(0) and magnitude >= size:
            return f"{sign}{magnitude // size}{unit}"
    return "0d"
