"""Where the sending stands, per journey or overall, and the message list of the API and CLI.

:func:`delivery_progress` counts the outbox by status in one grouped query:

* ``total``: every message queued so far; ``started``: those attempted at least once;
* ``sent``, ``failed``, ``unknown`` (attempted, outcome unknown: reported, never resent),
  ``suppressed``, ``skipped`` (no consent, frequency cap, no address), ``cancelled``;
* ``sending``: attempts in flight now; ``deferred``: queued but not due yet (quiet hours, the send
  rate, a retry's back-off); ``remaining`` = queued + sending;
* ``rate_per_s``: the measured rate: messages sent in the last minute divided by the time since the
  first of them (at least one second), so a send that started 10 s ago is not averaged over 60;
  None when none was sent in the last minute;
* ``estimated_finish``: ``now + (remaining / rate)``, where the rate is the measured one, else the
  configured send rate, but never before the last deferred message comes due; None when nothing
  remains or no rate is known.

>>> from datetime import UTC
>>> eta(datetime(2026, 1, 1, tzinfo=UTC), remaining=120, rate=2.0, latest_due=None).isoformat()
'2026-01-01T00:01:00+00:00'
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from typing import Any

from aftersales.core.errors import NotFoundError, ValidationError
from aftersales.services.operational.cursors import decode_cursor, encode_cursor
from aftersales.services.ports import UnitOfWork, UnitOfWorkFactory
from aftersales.services.ports_messages import MESSAGE_STATUSES, MessageFilter, MessageRecord

__all__ = ["RATE_WINDOW", "Progress", "delivery_progress", "eta", "journey_ref", "message_view", "messages_page"]

RATE_WINDOW = timedelta(seconds=60)


@dataclass(frozen=True)
class Progress:
    """The module's counts for ``journey_id`` (None: every journey) as of ``as_of``."""

    journey_id: str | None
    as_of: datetime
    total: int
    started: int
    sent: int
    deferred: int
    failed: int
    unknown: int
    suppressed: int
    skipped: int
    cancelled: int
    sending: int
    remaining: int
    rate_per_s: float | None
    estimated_finish: datetime | None


def eta(now: datetime, *, remaining: int, rate: float | None, latest_due: datetime | None) -> datetime | None:
    """When ``remaining`` messages are through at ``rate`` per second, not before ``latest_due``."""
    if remaining <= 0 or not rate:
        return None
    finish = now + timedelta(seconds=remaining / rate)
    return max(finish, latest_due) if latest_due is not None else finish


def delivery_progress(
    u: UnitOfWork, journey_id: str | None = None, *, now: datetime, send_rate_per_s: float | None = None
) -> Progress:
    """The progress of one journey's messages, or of all (see the module), inside ``u``."""
    by: dict[str, int] = dict.fromkeys(MESSAGE_STATUSES, 0)
    started = deferred = 0
    for c in u.messages.status_counts(journey_id, now):
        by[c.status] = by.get(c.status, 0) + c.count
        started += c.started
        if c.status == "queued" and c.due is False:
            deferred += c.count
    end = now + timedelta(microseconds=1)
    sent_lately, first = u.messages.finished_between(journey_id, "sent", now - RATE_WINDOW, end)
    measured = None
    if sent_lately and first is not None:
        measured = sent_lately / max(1.0, (now - first).total_seconds())
    remaining = by["queued"] + by["sending"]
    latest = u.messages.latest_not_before(journey_id) if deferred else None
    return Progress(
        journey_id,
        now,
        total=sum(by.values()),
        started=started,
        sent=by["sent"],
        deferred=deferred,
        failed=by["failed"],
        unknown=by["unknown"],
        suppressed=by["suppressed"],
        skipped=by["skipped"],
        cancelled=by["cancelled"],
        sending=by["sending"],
        remaining=remaining,
        rate_per_s=measured,
        estimated_finish=eta(now, remaining=remaining, rate=measured or send_rate_per_s, latest_due=latest),
    )


def message_view(m: MessageRecord) -> dict[str, Any]:
    """A message as the API and CLI show it (ids, step, status, times; never an address)."""
    out = asdict(m)
    out["params"] = dict(m.params)
    return out


def messages_page(
    uow: UnitOfWorkFactory,
    *,
    journey_id: str | None = None,
    customer_id: str | None = None,
    status: str | None = None,
    limit: int = 100,
    cursor: str | None = None,
) -> dict[str, Any]:
    """Messages in id order, filtered (``journey_id``: a journey's id or name), one page at a time
    (``next_cursor`` continues)."""
    if status is not None and status not in MESSAGE_STATUSES:
        raise ValidationError(f"unknown message status {status!r}; one of {', '.join(MESSAGE_STATUSES)}")
    after = str(decode_cursor(cursor, (str,))[0]) if cursor else None
    with uow() as u:
        where = MessageFilter(journey_ref(u, journey_id), customer_id, status)
        rows = u.messages.page(where, after=after, limit=limit + 1)
    more = len(rows) > limit
    rows = rows[:limit]
    return {
        "items": [message_view(m) for m in rows],
        "next_cursor": encode_cursor([rows[-1].message_id]) if more else None,
    }


def journey_ref(u: UnitOfWork, ref: str | None) -> str | None:
    """The id of the journey ``ref`` names (its id or its name); ``NotFoundError`` when none does."""
    if ref is None:
        return None
    found = u.journeys.get(ref) or u.journeys.by_name(ref)
    if found is None:
        raise NotFoundError(f"no journey {ref!r}")
    return found.journey_id
