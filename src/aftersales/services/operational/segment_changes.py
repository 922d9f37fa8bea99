"""Membership changes of one segment at one refresh, as Arrow set operations, and the events they make.

A refresh knows the ids the segment holds now (``members``, from the engine) and the ids it held
(``current``: the open membership rows). With ``M`` the members and ``C`` the current ones:

* entered = ``M \\ C`` (members now, not before), exited = ``C \\ M``;

each a hash-set membership test (``pyarrow.compute.is_in``) over whole columns, linear in
``|M| + |C|``, with no Python loop per customer. Both come back sorted, so the events and webhooks of
a refresh have one order whatever the engine returned.

Each change is one ``events`` row whose id is a function of what it records,
``seg:<segment_id>:<customer_id>:<entered|exited>:<refresh time, ISO 8601 UTC>``, so the store's
``insert_new`` keeps a retried refresh from writing an event twice.

>>> import pyarrow as pa
>>> entered, exited = membership_changes(pa.array(["c3", "c1", "c2"]), pa.array(["c2", "c4"]))
>>> entered.to_pylist(), exited.to_pylist()
(['c1', 'c3'], ['c4'])
>>> from datetime import datetime, UTC
>>> event_id("seg_1", "c1", "entered", datetime(2024, 6, 30, 12, tzinfo=UTC))
'seg:seg_1:c1:entered:2024-06-30T12:00:00+00:00'
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any, Literal

import pyarrow as pa
import pyarrow.compute as pc

from aftersales.core.events import SEGMENT_ENTERED, SEGMENT_EXITED
from aftersales.services.ports import EventRow, SegmentRecord

__all__ = ["Change", "event_id", "event_rows", "membership_changes", "webhook_payloads"]

Change = Literal["entered", "exited"]
EVENT_NAMES: dict[Change, str] = {"entered": SEGMENT_ENTERED, "exited": SEGMENT_EXITED}


def _strings(ids: pa.Array | pa.ChunkedArray) -> pa.Array:
    if isinstance(ids, pa.ChunkedArray):
        ids = ids.combine_chunks() if ids.num_chunks else pa.array([], type=pa.string())
    return ids.cast(pa.string())


def _sorted(ids: pa.Array) -> pa.Array:
    return ids.take(pc.array_sort_indices(ids))


def membership_changes(members: pa.Array | pa.ChunkedArray, current: pa.Array) -> tuple[pa.Array, pa.Array]:
    """``(entered, exited)``: the ids in ``members`` and not in ``current``, and the other way round,
    each sorted; duplicates and nulls in ``members`` are dropped."""
    now = pc.unique(pc.drop_null(_strings(members)))
    before = _strings(current)
    entered = pc.filter(now, pc.invert(pc.is_in(now, value_set=before)))
    exited = pc.filter(before, pc.invert(pc.is_in(before, value_set=now)))
    return _sorted(entered), _sorted(exited)


def event_id(segment_id: str, customer_id: str, change: Change, at: datetime) -> str:
    """The deterministic id of one membership change (see the module's docstring)."""
    return f"seg:{segment_id}:{customer_id}:{change}:{at.astimezone(UTC).isoformat()}"


def event_rows(segment: SegmentRecord, ids: pa.Array, change: Change, at: datetime) -> list[EventRow]:
    """The ``events`` rows of ``ids`` entering or exiting ``segment`` at ``at`` (occurred_at = ``at``)."""
    at = at.astimezone(UTC)
    properties = json.dumps(
        {"segment_id": segment.segment_id, "segment_name": segment.name, "refreshed_at": at.isoformat()},
        separators=(",", ":"),
        sort_keys=True,
    )
    name = EVENT_NAMES[change]
    return [(event_id(segment.segment_id, c, change, at), c, None, name, at, properties) for c in ids.to_pylist()]


def webhook_payloads(segment: SegmentRecord, ids: pa.Array, change: Change, at: datetime) -> Iterator[dict[str, Any]]:
    """The ``data`` of each webhook (lazily: ``publish_many`` reads it only when someone subscribed)."""
    at = at.astimezone(UTC)
    for c in ids.to_pylist():
        yield {
            "event_id": event_id(segment.segment_id, c, change, at),
            "customer_id": c,
            "segment_id": segment.segment_id,
            "segment_name": segment.name,
            "refreshed_at": at,
        }
