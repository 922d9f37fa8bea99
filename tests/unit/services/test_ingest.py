"""Event ingestion on the in-memory unit of work: each event id written once, all or nothing."""

from __future__ import annotations

from datetime import UTC, datetime
from types import SimpleNamespace

import pytest

from aftersales.core.errors import ValidationError
from aftersales.services.operational.ingest import IngestResult, ingest_events

AT = datetime(2024, 3, 1, 10, tzinfo=UTC)


def event(event_id: str, customer_id: str | None = "c1", **kw: object) -> SimpleNamespace:
    values = {"anonymous_id": None, "name": "order_delivered", "occurred_at": AT, "properties": None, **kw}
    return SimpleNamespace(event_id=event_id, customer_id=customer_id, **values)


def test_a_retried_batch_is_written_once(uow):
    batch = [event("e1"), event("e2", properties={"b": 1, "a": 2})]
    assert ingest_events(uow, batch) == IngestResult(2, 2)
    again = ingest_events(uow, [*batch, event("e3")])
    assert (again.inserted, again.duplicates) == (1, 2)
    stored = uow.store.state.events
    assert sorted(stored) == ["e1", "e2", "e3"] and stored["e2"][5] == '{"a":2,"b":1}'


def test_a_repeated_id_in_one_batch_keeps_the_first(uow):
    result = ingest_events(uow, [event("e1", name="first"), event("e1", name="second")])
    assert (result.received, result.inserted, result.duplicates) == (2, 1, 1)
    assert uow.store.state.events["e1"][3] == "first"


def test_one_invalid_event_writes_nothing_and_is_located(uow):
    batch = [event("e1"), event("e2", customer_id=None), event("e3", occurred_at=datetime(2024, 3, 1))]
    with pytest.raises(ValidationError) as info:
        ingest_events(uow, batch)
    assert [e.loc for e in info.value.errors] == [("events", 1), ("events", 2, "occurred_at")]
    assert uow.store.state.events == {} and uow.store.commits == 0


def test_an_empty_batch_opens_no_transaction(uow):
    assert ingest_events(uow, []) == IngestResult(0, 0)
    assert uow.store.commits == 0
