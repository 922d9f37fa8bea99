"""Event ingestion: a batch of touchpoint events, each written once.

The client event id is the key of the ``events`` table: a batch is written in one statement that
skips ids already stored (``ON CONFLICT DO NOTHING``), so a retried batch, or an event that appears
twice, is written once, also when two retries run at the same time. Duplicates inside one batch are
dropped before the write (first wins).

Rows are tuples in :data:`EVENT_COLUMNS` order: building them is the hot loop of ``POST /v1/events``,
so it touches each event once and builds no per-event dicts. Properties are stored as canonical JSON
text (keys sorted, no spaces, UTF-8), so equal properties give equal text.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

import msgspec

from aftersales.core.contract import MAX_YEAR, MIN_YEAR, YEARS_MESSAGE, contract_utc
from aftersales.core.errors import FieldError, ValidationError
from aftersales.services.ports import EVENT_COLUMNS, EventRow, UnitOfWorkFactory

__all__ = ["EVENT_COLUMNS", "MAX_BATCH", "EventLike", "IngestResult", "ingest_events", "prepare_events"]

MAX_BATCH = 1_000
_encode = msgspec.json.Encoder(order="sorted").encode


class EventLike(Protocol):
    """An event as decoded by an entry point (attributes, not keys: no dict per event)."""

    event_id: str
    customer_id: str | None
    anonymous_id: str | None
    name: str
    occurred_at: datetime
    properties: dict[str, Any] | None


@dataclass(frozen=True)
class IngestResult:
    received: int
    inserted: int

    @property
    def duplicates(self) -> int:
        """Events not written because their id was already stored (or repeated in the batch)."""
        return self.received - self.inserted


def prepare_events(events: Sequence[EventLike]) -> list[EventRow]:
    """Store rows for ``events``: first occurrence of each event id kept, properties as canonical
    JSON, time stamps as given (zone-aware, in the years 1900-2199 once in UTC; the store keeps them in
    UTC). Every invalid event is reported (all or nothing).

    >>> from datetime import timedelta, timezone
    >>> from types import SimpleNamespace as E
    >>> t = datetime(2024, 3, 1, 10, tzinfo=timezone(timedelta(hours=1)))
    >>> rows = prepare_events([E(event_id="e1", customer_id="c1", anonymous_id=None, name="x", occurred_at=t,
    ...                         properties={"b": 1, "a": "é"}),
    ...                        E(event_id="e1", customer_id="c2", anonymous_id=None, name="y", occurred_at=t,
    ...                         properties=None)])
    >>> [(r[0], r[1], r[4].isoformat(), r[5]) for r in rows]
    [('e1', 'c1', '2024-03-01T10:00:00+01:00', '{"a":"é","b":1}')]
    >>> prepare_events([E(event_id="e2", customer_id=None, anonymous_id=None, name="x", occurred_at=t,
    ...                   properties=None)])
    Traceback (most recent call last):
    aftersales.core.errors.ValidationError: 1 of 1 events are invalid; nothing was written
    """
    if len(events) > MAX_BATCH:
        raise ValidationError(f"a batch holds at most {MAX_BATCH} events, got {len(events)}")
    errors: list[FieldError] = []
    rows: list[EventRow] = []
    seen: set[str] = set()
    for i, e in enumerate(events):
        if not e.customer_id and not e.anonymous_id:
            errors.append(FieldError(("events", i), "an event needs a customer_id or an anonymous_id"))
            continue
        when = e.occurred_at
        if when.tzinfo is None or when.utcoffset() is None:
            errors.append(FieldError(("events", i, "occurred_at"), "time stamp has no time zone"))
            continue
        if not MIN_YEAR < when.year < MAX_YEAR and not _in_years(when):  # inner years stay inside in any zone
            errors.append(FieldError(("events", i, "occurred_at"), YEARS_MESSAGE))
            continue
        if e.event_id in seen:
            continue
        seen.add(e.event_id)
        props = None if e.properties is None else _encode(e.properties).decode()
        rows.append((e.event_id, e.customer_id, e.anonymous_id, e.name, when, props))
    if errors:
        raise ValidationError(f"{len(errors)} of {len(events)} events are invalid; nothing was written", errors)
    return rows


def _in_years(when: datetime) -> bool:
    try:
        contract_utc(when)
    except ValueError:
        return False
    return True


def ingest_events(uow: UnitOfWorkFactory, events: Sequence[EventLike]) -> IngestResult:
    """Write a batch of events (all or nothing); events whose id is already stored are skipped."""
    rows = prepare_events(events)
    if not rows:
        return IngestResult(len(events), 0)
    with uow() as u:
        inserted = u.events.insert_new(rows)
    return IngestResult(len(events), inserted)
