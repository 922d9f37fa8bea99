"""Event ingestion: a batch of touchpoint events, each written once.

The client event id is the key of the ``events`` table: a batch is inserted in one statement that
skips ids already stored (``ON CONFLICT DO NOTHING``), so a retried batch, or an event that appears
twice, is written once. Duplicates inside one batch are dropped before the insert (first wins).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from aftersales.core.errors import FieldError, ValidationError
from aftersales.services.ports import UnitOfWorkFactory

__all__ = ["MAX_BATCH", "IngestResult", "ingest_events", "prepare_events"]

MAX_BATCH = 1_000


@dataclass(frozen=True)
class IngestResult:
    received: int
    inserted: int

    @property
    def duplicates(self) -> int:
        """Events not written because their id was already stored (or repeated in the batch)."""
        return self.received - self.inserted


def prepare_events(events: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Store rows for ``events``, first occurrence of each event id kept; checks identity and zones.

    >>> from datetime import UTC, datetime
    >>> t = datetime(2024, 3, 1, 9, tzinfo=UTC)
    >>> rows = prepare_events([{"event_id": "e1", "customer_id": "c1", "name": "x", "occurred_at": t,
    ...                         "properties": {"b": 1}},
    ...                        {"event_id": "e1", "customer_id": "c2", "name": "y", "occurred_at": t}])
    >>> [(r["event_id"], r["customer_id"], r["properties"]) for r in rows]
    [('e1', 'c1', '{"b":1}')]
    """
    if len(events) > MAX_BATCH:
        raise ValidationError(f"a batch holds at most {MAX_BATCH} events, got {len(events)}")
    errors: list[FieldError] = []
    rows: dict[str, dict[str, Any]] = {}
    for i, e in enumerate(events):
        if not e.get("customer_id") and not e.get("anonymous_id"):
            errors.append(FieldError(("events", i), "an event needs a customer_id or an anonymous_id"))
            continue
        when: datetime = e["occurred_at"]
        if when.tzinfo is None or when.utcoffset() is None:
            errors.append(FieldError(("events", i, "occurred_at"), "time stamp has no time zone"))
            continue
        props = e.get("properties")
        rows.setdefault(
            e["event_id"],
            {
                "event_id": e["event_id"],
                "customer_id": e.get("customer_id"),
                "anonymous_id": e.get("anonymous_id"),
                "name": e["name"],
                "occurred_at": when,
                "properties": None if props is None else json.dumps(props, separators=(",", ":"), sort_keys=True),
            },
        )
    if errors:
        raise ValidationError(f"{len(errors)} of {len(events)} events are invalid; nothing was written", errors)
    return list(rows.values())


def ingest_events(uow: UnitOfWorkFactory, events: Sequence[Mapping[str, Any]]) -> IngestResult:
    """Write a batch of events (all or nothing); events whose id is already stored are skipped."""
    rows = prepare_events(events)
    if not rows:
        return IngestResult(len(events), 0)
    with uow() as u:
        inserted = u.events.insert_new(rows)
    return IngestResult(len(events), inserted)
