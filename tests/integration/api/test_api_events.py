"""POST /v1/events: batches, once-only event ids, zones required, batch size limit."""

from __future__ import annotations

import json
import uuid

from sqlalchemy import text


def _events(n: int, prefix: str) -> list[dict]:
    return [
        {
            "event_id": f"{prefix}-{i}",
            "customer_id": f"c{i % 3}",
            "name": "checkout_completed",
            "occurred_at": "2024-03-01T10:00:00+01:00",
            "properties": {"value": i, "ok": True},
        }
        for i in range(n)
    ]


def test_a_batch_is_stored_once_and_retries_count_as_duplicates(api) -> None:
    prefix = uuid.uuid4().hex
    batch = _events(250, prefix)
    with api.client("ingest") as c:
        first = c.post("/v1/events", json={"events": batch})
        assert first.status_code == 202 and first.json() == {"received": 250, "inserted": 250, "duplicates": 0}
        again = c.post("/v1/events", json={"events": batch[:100] + _events(260, prefix)[250:]})
        assert again.json() == {"received": 110, "inserted": 10, "duplicates": 100}
    with api.plane.engine.connect() as conn:
        rows = conn.execute(
            text("SELECT event_id, occurred_at, properties FROM events WHERE event_id LIKE :p"), {"p": f"{prefix}-%"}
        ).fetchall()
    assert len(rows) == 260
    one = {r[0]: r for r in rows}[f"{prefix}-7"]
    assert json.loads(one[2]) == {"value": 7, "ok": True}
    assert "09:00:00" in str(one[1])  # stored in UTC


def test_repeated_ids_within_a_batch_are_written_once(api) -> None:
    prefix = uuid.uuid4().hex
    batch = _events(3, prefix) + _events(3, prefix)
    with api.client("ingest") as c:
        assert c.post("/v1/events", json={"events": batch}).json() == {"received": 6, "inserted": 3, "duplicates": 3}


def test_naive_time_stamps_missing_identity_and_oversized_batches_are_rejected(api) -> None:
    with api.client("ingest") as c:
        naive = _events(2, uuid.uuid4().hex)
        naive[1]["occurred_at"] = "2024-03-01T10:00:00"
        r = c.post("/v1/events", json={"events": naive})
        assert r.status_code == 422
        assert r.json()["errors"][0]["loc"] == ["body", "events", 1, "occurred_at"]
        anonymous = _events(1, uuid.uuid4().hex)
        del anonymous[0]["customer_id"]
        assert c.post("/v1/events", json={"events": anonymous}).status_code == 422
        anonymous[0]["anonymous_id"] = "device-1"
        assert c.post("/v1/events", json={"events": anonymous}).status_code == 202
        assert c.post("/v1/events", json={"events": _events(1001, "big")}).status_code == 422
        assert c.post("/v1/events", json={"events": [], "extra": 1}).status_code == 422
