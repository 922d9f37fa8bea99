"""Customers' own time zones and locales, and DST-correct wall-clock arithmetic in them.

Every time-of-day rule of the act plane (quiet hours, "send at 09:00", "weekdays 08:00-20:00") is
read on the customer's wall clock, not in UTC; this module is where the wall clock is computed. It
is pure: instants come in as arguments (zone-aware), nothing reads the clock.

Names and values:

- a **zone** is an IANA name (``Europe/Berlin``). :func:`parse_timezone` checks one against the
  time zone database and returns its canonical spelling (``europe/berlin`` -> ``Europe/Berlin``);
  the host-dependent links ``localtime`` and ``posixrules`` are refused.
- a **locale** is a BCP 47 / POSIX-style identifier: a language, optionally a script, a territory
  and a variant (``en``, ``en_US``, ``de-CH``, ``zh-Hant-TW``). :func:`parse_locale` normalises
  ``-`` to ``_`` and the case (``EN-us`` -> ``en_US``), drops a POSIX encoding or modifier
  (``de_DE.UTF-8`` -> ``de_DE``), and checks that the language, script and territory are ones CLDR
  (Babel's data) knows: the same data that will format the customer's dates and numbers.
- **days of the week** are numbered as :meth:`datetime.date.weekday` does: 0 = Monday ... 6 = Sunday.
  ``None`` means every day.

Wall-clock rules at daylight-saving changes (each local day has exactly one instant per wall time):

- a wall time that does not exist that day (the hour skipped in spring, e.g. 02:30 on
  2026-03-08 in New York) means the first instant after the gap: 03:00 local, the moment of the
  change;
- a wall time that occurs twice (the hour repeated in autumn, e.g. 01:30 on 2026-11-01 in New
  York) means its first occurrence (01:30 EDT, 05:30 UTC); the repeat is not a second chance.

>>> from datetime import UTC, datetime, time
>>> ny = customer_zone("America/New_York", default="UTC")
>>> next_local_time(datetime(2026, 3, 8, 5, 0, tzinfo=UTC), ny, time(2, 30)).isoformat()
'2026-03-08T07:00:00+00:00'
>>> within_local_window(datetime(2026, 7, 1, 2, 0, tzinfo=UTC), ny, time(21, 0), time(8, 0))
True
>>> customer_locale("de-ch", default="en"), customer_locale("klingon", default="en")
('de_CH', 'en')
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

__all__ = [
    "customer_locale",
    "customer_zone",
    "local_datetime",
    "next_local_time",
    "next_window_start",
    "parse_locale",
    "parse_timezone",
    "parse_wall_time",
    "within_local_window",
]

_HOST_LINKS = frozenset({"localtime", "posixrules"})  # what these name depends on the machine
_LOCALE_HINT = "use a language code such as en, en_US or de-CH"


@lru_cache(maxsize=1)
def _zone_names() -> dict[str, str]:
    """Canonical zone names by their lower-case spelling (reading the database once costs ~30 ms)."""
    return {name.lower(): name for name in available_timezones() if name not in _HOST_LINKS}


@lru_cache(maxsize=4096)
def parse_timezone(name: str) -> str:
    """The canonical IANA name of zone ``name``; :class:`ValueError` naming it when it is unknown.

    >>> parse_timezone(" europe/berlin "), parse_timezone("UTC")
    ('Europe/Berlin', 'UTC')
    >>> parse_timezone("Mars/Olympus_Mons")
    Traceback (most recent call last):
    ValueError: unknown time zone 'Mars/Olympus_Mons' (use an IANA name such as Europe/Berlin)
    """
    text = name.strip()
    known = _zone_names().get(text.lower())
    if known is not None:
        return known
    if text and text not in _HOST_LINKS and "\x00" not in text:
        try:  # a zone the database holds but does not list (available_timezones may omit some)
            ZoneInfo(text)
        except (ZoneInfoNotFoundError, ValueError, OSError):
            pass
        else:
            return text
    raise ValueError(f"unknown time zone {name[:60]!r} (use an IANA name such as Europe/Berlin)")


@lru_cache(maxsize=1)
def _cldr() -> tuple[frozenset[str], frozenset[str]]:
    """The territory and script codes CLDR knows (``ZZ``, "unknown region", excluded)."""
    from babel import Locale  # Babel's data loads on first use: the contract imports this module

    english = Locale("en")
    return frozenset(english.territories) - {"ZZ"}, frozenset(english.scripts) - {"Zzzz"}


@lru_cache(maxsize=4096)
def parse_locale(text: str) -> str:
    """``text`` as a normalised locale identifier; :class:`ValueError` saying what is wrong otherwise.

    >>> parse_locale("en"), parse_locale("EN-us"), parse_locale("de-CH"), parse_locale("zh-Hant-TW")
    ('en', 'en_US', 'de_CH', 'zh_Hant_TW')
    >>> parse_locale("de_DE.UTF-8"), parse_locale("es-419")
    ('de_DE', 'es_419')
    >>> parse_locale("en-XQ")
    Traceback (most recent call last):
    ValueError: unknown territory 'XQ' in locale 'en-XQ' (use a language code such as en, en_US or de-CH)
    """
    from babel import localedata
    from babel.core import get_locale_identifier
    from babel.core import parse_locale as babel_parse_locale

    shown = repr(text[:60])
    try:
        parts = babel_parse_locale(text.strip().replace("-", "_"))
    except ValueError:
        raise ValueError(f"not a locale: {shown} ({_LOCALE_HINT})") from None
    language, territory, script, variant = parts[:4]  # a fifth part, a POSIX @modifier, is dropped
    if not localedata.exists(language):
        raise ValueError(f"unknown language {language!r} in locale {shown} ({_LOCALE_HINT})")
    territories, scripts = _cldr()
    if territory is not None and territory not in territories:
        raise ValueError(f"unknown territory {territory!r} in locale {shown} ({_LOCALE_HINT})")
    if script is not None and script not in scripts:
        raise ValueError(f"unknown script {script!r} in locale {shown} ({_LOCALE_HINT})")
    return get_locale_identifier((language, territory, script, variant))


def customer_zone(timezone: str | None, default: str) -> ZoneInfo:
    """The customer's zone: ``timezone`` when it is a known zone, else ``default`` (which must be one).

    >>> customer_zone(None, "Europe/Oslo").key, customer_zone("Nowhere/Else", "UTC").key
    ('Europe/Oslo', 'UTC')
    """
    if timezone is not None:
        try:
            return ZoneInfo(parse_timezone(timezone))
        except (ValueError, ZoneInfoNotFoundError):
            pass
    return ZoneInfo(parse_timezone(default))


def customer_locale(locale: str | None, default: str) -> str:
    """The customer's locale, normalised: ``locale`` when valid, else ``default`` (which must be valid)."""
    if locale is not None:
        try:
            return parse_locale(locale)
        except ValueError:
            pass
    return parse_locale(default)


def parse_wall_time(text: str) -> time:
    """A wall-clock time written ``HH:MM`` (24-hour clock).

    >>> parse_wall_time("21:00"), parse_wall_time("7:30")
    (datetime.time(21, 0), datetime.time(7, 30))
    """
    hours, sep, minutes = text.strip().partition(":")
    if sep and hours.isdigit() and minutes.isdigit() and len(minutes) == 2 and len(hours) <= 2:
        h, m = int(hours), int(minutes)
        if h < 24 and m < 60:
            return time(h, m)
    raise ValueError(f"not a wall-clock time: {text[:20]!r} (use HH:MM, e.g. 08:00 or 21:30)")


def _aware(utc: datetime) -> datetime:
    if utc.tzinfo is None or utc.utcoffset() is None:
        raise ValueError("an instant must carry a time zone (a naive datetime is ambiguous)")
    return utc


def _days(days: frozenset[int] | None) -> frozenset[int] | None:
    if days is not None and (not days or not days <= frozenset(range(7))):
        raise ValueError("days of the week must be a non-empty set of 0 (Monday) ... 6 (Sunday)")
    return days


def local_datetime(utc: datetime, zone: ZoneInfo) -> datetime:
    """The instant ``utc`` (any zone-aware datetime) on ``zone``'s wall clock.

    >>> berlin = ZoneInfo("Europe/Berlin")
    >>> local_datetime(datetime(2026, 10, 25, 0, 30, tzinfo=UTC), berlin).isoformat()
    '2026-10-25T02:30:00+02:00'
    """
    return _aware(utc).astimezone(zone)


def _gap_end(before: datetime, after: datetime, zone: ZoneInfo) -> datetime:
    """The instant (UTC, whole seconds) at which ``zone``'s offset changes, between two UTC instants
    on either side of the change: a binary search over seconds (a gap is at most a day long)."""
    new_offset = after.astimezone(zone).utcoffset()
    lo, hi = int(before.timestamp()), int(after.timestamp())  # offset(lo) is the old one, offset(hi) the new
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if datetime.fromtimestamp(mid, UTC).astimezone(zone).utcoffset() == new_offset:
            hi = mid
        else:
            lo = mid
    return datetime.fromtimestamp(hi, UTC)


def _instant(day: date, at: time, zone: ZoneInfo) -> datetime:
    """The one instant (UTC) of local day ``day`` when the wall clock reads ``at`` (rules above)."""
    wall = datetime.combine(day, at.replace(tzinfo=None, fold=0))
    first = wall.replace(tzinfo=zone)  # fold=0: the earlier offset, so the first of a repeated time
    utc = first.astimezone(UTC)
    if utc.astimezone(zone).replace(tzinfo=None) == wall:
        return utc
    # Skipped: fold=0 read the wall time with the offset before the change (an instant after the
    # gap), fold=1 with the offset after it (an instant before the gap); the change lies between.
    early = wall.replace(tzinfo=zone, fold=1).astimezone(UTC)
    return _gap_end(min(early, utc), max(early, utc), zone)


def next_local_time(
    after_utc: datetime, zone: ZoneInfo, at: time, days_of_week: frozenset[int] | None = None
) -> datetime:
    """The first instant ``>= after_utc`` (in UTC) at which ``zone``'s wall clock reads ``at`` on an
    allowed day of the week, with the daylight-saving rules of the module docstring.

    >>> berlin = ZoneInfo("Europe/Berlin")
    >>> next_local_time(datetime(2026, 3, 27, 12, 0, tzinfo=UTC), berlin, time(9, 0), frozenset({0})).isoformat()
    '2026-03-30T07:00:00+00:00'
    """
    _aware(after_utc)
    allowed = _days(days_of_week)
    start = after_utc.astimezone(zone).date()
    # A day's instant is later than every instant of the day before (wall days never overlap), so
    # the first allowed day after today whose instant passes is at most a week away.
    for offset in range(8):
        day = start + timedelta(days=offset)
        if allowed is not None and day.weekday() not in allowed:
            continue
        candidate = _instant(day, at, zone)
        if candidate >= after_utc:
            return candidate
    raise AssertionError("unreachable: an allowed day recurs within a week")  # pragma: no cover


def _window(start: time, end: time) -> tuple[time, time]:
    start, end = start.replace(tzinfo=None, fold=0), end.replace(tzinfo=None, fold=0)
    if start == end:
        raise ValueError(f"a window from {start:%H:%M} to {end:%H:%M} is empty: start and end must differ")
    return start, end


def within_local_window(
    utc: datetime, zone: ZoneInfo, start: time, end: time, days_of_week: frozenset[int] | None = None
) -> bool:
    """Whether ``zone``'s wall clock at ``utc`` lies in ``[start, end)``.

    A window with ``end < start`` crosses midnight (``21:00``-``08:00``: from 21:00 to 08:00 the next
    morning). With ``days_of_week``, the window must *open* on an allowed day: a Friday-only
    21:00-08:00 window still holds at 03:00 on Saturday.

    >>> ny = ZoneInfo("America/New_York")
    >>> fri_night = frozenset({4})
    >>> sat_3am = datetime(2026, 7, 4, 7, 0, tzinfo=UTC)  # 03:00 EDT on Saturday 4 July
    >>> within_local_window(sat_3am, ny, time(21, 0), time(8, 0), fri_night)
    True
    >>> within_local_window(sat_3am, ny, time(21, 0), time(8, 0), frozenset({5}))
    False
    """
    start, end = _window(start, end)
    allowed = _days(days_of_week)
    local = local_datetime(utc, zone)
    wall = local.time().replace(tzinfo=None, fold=0)
    opened = local.date()
    if start < end:
        inside = start <= wall < end
    else:
        inside = wall >= start or wall < end
        if wall < end:  # the small hours belong to the window that opened the evening before
            opened -= timedelta(days=1)
    return inside and (allowed is None or opened.weekday() in allowed)


def next_window_start(
    utc: datetime, zone: ZoneInfo, start: time, end: time, days_of_week: frozenset[int] | None = None
) -> datetime:
    """The first instant ``>= utc`` (in UTC) at which the window of :func:`within_local_window` is
    open: ``utc`` itself when it is open now, else the next opening on an allowed day.

    A window that never opens on a given day (it lies wholly in a spring-forward gap) is skipped.
    Quiet hours are the complement: the next send time after ``21:00``-``08:00`` quiet hours is
    ``next_window_start(t, zone, time(8), time(21))``.

    >>> ny = ZoneInfo("America/New_York")
    >>> next_window_start(datetime(2026, 3, 8, 3, 0, tzinfo=UTC), ny, time(8, 0), time(21, 0)).isoformat()
    '2026-03-08T12:00:00+00:00'
    """
    _window(start, end)
    _days(days_of_week)
    cursor = _aware(utc).astimezone(UTC)
    if within_local_window(cursor, zone, start, end, days_of_week):
        return cursor
    for _ in range(16):  # an opening whose window is empty that day is rare; a week has 7 openings
        opening = next_local_time(cursor, zone, start, days_of_week)
        if within_local_window(opening, zone, start, end, days_of_week):
            return opening
        cursor = opening + timedelta(microseconds=1)
    raise ValueError(f"the window {start:%H:%M}-{end:%H:%M} never opens in {zone.key}")
