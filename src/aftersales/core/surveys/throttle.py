"""Who may be asked now: the throttle across surveys, and orders that must not be asked about.

A customer gets at most one survey in the **global** window (``throttle.global`` of the survey, else
the caller's default, 90 days) whatever the survey, and at most one send of the **same** survey in
its own window (``throttle.survey``, 90 days by default). A window of ``0d`` switches that rule off.
A survey about an order is not sent when the order was cancelled or returned, unless asked.

>>> from datetime import UTC, datetime, timedelta
>>> from aftersales.core.surveys.parse import parse_survey
>>> s = parse_survey({"name": "n", "kind": "nps", "question": {"en": "?"},
...                   "throttle": {"survey": "180d", "global": "30d"}})
>>> now = datetime(2026, 6, 1, tzinfo=UTC)
>>> throttle_refusal(s, "srv_a", [PastSend("srv_b", now - timedelta(days=40))], now) is None
True
>>> throttle_refusal(s, "srv_a", [PastSend("srv_a", now - timedelta(days=40))], now)
'this survey was sent 40 days ago (at most one per 180 days)'
>>> throttle_refusal(s, "srv_a", [PastSend("srv_b", now - timedelta(days=3))], now)
'another survey was sent 3 days ago (at most one survey per 30 days)'
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from aftersales.core.surveys.model import DEFAULT_THROTTLE, Survey

__all__ = ["EXCLUDED_ORDER_STATUSES", "PastSend", "order_refusal", "throttle_refusal", "throttle_windows"]

#: Orders in these states are not asked about unless the caller says so.
EXCLUDED_ORDER_STATUSES = frozenset({"cancelled", "returned"})


@dataclass(frozen=True)
class PastSend:
    """A survey sent to the customer before: which survey, when."""

    survey_id: str
    sent_at: datetime


def throttle_windows(survey: Survey, global_default: timedelta = DEFAULT_THROTTLE) -> tuple[timedelta, timedelta]:
    """(this survey's window, the global window) for ``survey``."""
    return survey.throttle.survey, survey.throttle.global_ if survey.throttle.global_ is not None else global_default


def _days(delta: timedelta) -> str:
    days = delta.days
    return "1 day" if days == 1 else f"{days} days"


def throttle_refusal(
    survey: Survey,
    survey_id: str,
    past: Sequence[PastSend],
    now: datetime,
    *,
    global_default: timedelta = DEFAULT_THROTTLE,
) -> str | None:
    """Why the customer must not be sent ``survey`` (id ``survey_id``) at ``now`` given their
    ``past`` sends, or ``None`` when they may be."""
    own, everywhere = throttle_windows(survey, global_default)
    for sent in sorted(past, key=lambda p: p.sent_at, reverse=True):
        ago = now - sent.sent_at
        if sent.survey_id == survey_id and ago < own:
            return f"this survey was sent {_days(ago)} ago (at most one per {_days(own)})"
        if ago < everywhere:
            which = "this survey" if sent.survey_id == survey_id else "another survey"
            return f"{which} was sent {_days(ago)} ago (at most one survey per {_days(everywhere)})"
    return None


def order_refusal(status: str | None, *, include_cancelled_or_returned: bool = False) -> str | None:
    """Why an order in ``status`` must not be asked about, or ``None``.

    >>> order_refusal("returned"), order_refusal("returned", include_cancelled_or_returned=True)
    ('the order was returned', None)
    """
    if status in EXCLUDED_ORDER_STATUSES and not include_cancelled_or_returned:
        return f"the order was {status}"
    return None
