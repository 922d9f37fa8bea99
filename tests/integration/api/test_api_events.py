"""POST /v1/events: batches, once-only event ids, zones required, batch size limit."""

from __future__ import annotations

import json
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime

import pytest
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


def _event(**over: object) -> dict:
    e = {"event_id": uuid.uuid4().hex, "customer_id": "c1", "name": "n", "occurred_at": "2024-03-01T10:00:00Z"}
    e.update(over)
    return {k: v for k, v in e.items() if v is not ...}


def _nested(levels: int) -> dict:
    """A properties object nesting objects and arrays ``levels`` deep (the object itself is level 1)."""
    value: object = 1
    for i in range(levels - 1):
        value = {"a": value} if i % 2 else [value]
    return {"p": value}


# (raw body, where the problem is): the msgspec path must name fields as the pydantic routes do.
BAD_BODIES = [
    (json.dumps({"events": [_event(), _event(properties=_nested(33))]}), ["body", "events", 1, "properties"]),
    (  # 1,000 levels: msgspec's RecursionError, now a problem; json.dumps cannot write it, so by hand
        json.dumps({"events": [_event(properties={"p": "DEEP"})]}).replace('"DEEP"', "[" * 999 + "1" + "]" * 999),
        ["body"],
    ),
    (
        json.dumps({"events": [_event(), _event(occurred_at="2024-03-01T10:00:00")]}),
        ["body", "events", 1, "occurred_at"],
    ),
    (json.dumps({"events": [_event(occurred_at=1709287200)]}), ["body", "events", 0, "occurred_at"]),
    (json.dumps({"events": [_event(occurred_at="9999-12-31T23:00:00-05:00")]}), ["body", "events", 0, "occurred_at"]),
    (json.dumps({"events": [_event(occurred_at="2200-01-01T00:00:00Z")]}), ["body", "events", 0, "occurred_at"]),
    (
        json.dumps({"events": [_event(), _event(occurred_at="1900-01-01T00:30:00+01:00")]}),
        ["body", "events", 1, "occurred_at"],
    ),
    (json.dumps({"events": [_event(y=2)]}), ["body", "events", 0, "y"]),
    (json.dumps({"events": [_event()], "x": 1}), ["body", "x"]),
    (json.dumps({"events": [_event(name=...)]}), ["body", "events", 0, "name"]),
    (json.dumps({"events": [_event(name="")]}), ["body", "events", 0, "name"]),
    (json.dumps({"events": [_event(name="a\u0000b")]}), ["body", "events", 0, "name"]),
    (json.dumps({"events": [_event(event_id="a/b")]}), ["body", "events", 0, "event_id"]),
    (json.dumps({"events": [_event(), _event(customer_id="c\n")]}), ["body", "events", 1, "customer_id"]),
    (json.dumps({"events": [_event(anonymous_id="d\u007f")]}), ["body", "events", 0, "anonymous_id"]),
    (json.dumps({"events": [_event(event_id="e" * 256)]}), ["body", "events", 0, "event_id"]),
    (json.dumps({"events": [_event(customer_id=None)]}), ["body", "events", 0]),
    (json.dumps({"events": [_event(properties=[1])]}), ["body", "events", 0, "properties"]),
    (
        '{"events": [{"event_id": "e", "customer_id": "c", "name": "n", "occurred_at": "2024-03-01T10:00:00Z",'
        ' "properties": {"x": 1e400}}]}',
        ["body", "events", 0, "properties"],
    ),
    (json.dumps({"events": None}), ["body", "events"]),
    (json.dumps([_event()]), ["body"]),
    ('{"events": [', ["body"]),
]


@pytest.mark.parametrize(("body", "loc"), BAD_BODIES)
def test_invalid_batches_get_field_level_problems_and_write_nothing(api, body: str, loc: list) -> None:
    with api.client("ingest", **{"Content-Type": "application/json"}) as c:
        r = c.post("/v1/events", content=body.encode())
    assert r.status_code == 422, r.text
    assert r.headers["content-type"] == "application/problem+json"
    problem = r.json()
    assert problem["title"] == "Validation failed" and problem["instance"] == "/v1/events"
    assert [e["loc"] for e in problem["errors"]] == [loc]
    first_id = body.split('"event_id": "')[1].split('"')[0] if '"event_id": "' in body else None
    if first_id:
        with api.plane.engine.connect() as conn:
            assert conn.execute(text("SELECT count(*) FROM events WHERE event_id = :e"), {"e": first_id}).scalar() == 0


def test_every_invalid_character_is_listed(api) -> None:
    batch = [_event(event_id="a/b"), _event(), _event(customer_id="x\ty", name="n\u0000")]
    with api.client("ingest") as c:
        r = c.post("/v1/events", json={"events": batch})
    assert r.status_code == 422
    assert [e["loc"] for e in r.json()["errors"]] == [
        ["body", "events", 0, "event_id"],
        ["body", "events", 2, "customer_id"],
        ["body", "events", 2, "name"],
    ]


def test_properties_may_nest_32_levels(api) -> None:
    e = _event(properties=_nested(32))
    with api.client("ingest") as c:
        assert c.post("/v1/events", json={"events": [e]}).json()["inserted"] == 1
    with api.plane.engine.connect() as conn:
        stored = conn.execute(text("SELECT properties FROM events WHERE event_id = :e"), {"e": e["event_id"]}).scalar()
    assert json.loads(stored) == e["properties"]


def test_a_body_that_is_not_utf8_is_a_validation_problem(api) -> None:
    body = json.dumps({"events": [_event(name="caf\u00e9")]}).encode().replace(b"\\u00e9", b"\xe9")  # Latin-1
    assert b"\xe9" in body
    with api.client("ingest", **{"Content-Type": "application/json"}) as c:
        r = c.post("/v1/events", content=body)
    assert r.status_code == 422 and r.headers["content-type"] == "application/problem+json"
    assert r.json()["errors"] == [{"loc": ["body"], "message": "invalid JSON: the body is not valid UTF-8"}]


def test_a_body_that_is_not_json_is_a_validation_problem(api) -> None:
    with api.client("ingest", **{"Content-Type": "text/plain"}) as c:
        r = c.post("/v1/events", content=json.dumps({"events": [_event()]}).encode())
    assert r.status_code == 422 and r.json()["errors"][0]["loc"] == ["body"]


def test_slashes_escapes_and_unicode_in_properties_are_stored_as_canonical_json(api) -> None:
    """Bytes that send the body through the character checks (``/``, ``\\``) are fine where allowed."""
    e = _event(anonymous_id="device:1", properties={"url": "https://shop.example/p/1", "q": 'say "hi"\n', "é": 1.5})
    del e["customer_id"]
    with api.client("ingest") as c:
        assert c.post("/v1/events", json={"events": [e]}).json() == {"received": 1, "inserted": 1, "duplicates": 0}
    with api.plane.engine.connect() as conn:
        stored = conn.execute(text("SELECT properties FROM events WHERE event_id = :e"), {"e": e["event_id"]}).scalar()
    assert stored == '{"q":"say \\"hi\\"\\n","url":"https://shop.example/p/1","é":1.5}'
    assert json.loads(stored) == e["properties"]


def test_time_stamps_are_stored_as_the_same_instant_in_utc(api) -> None:
    e = _event(occurred_at="2024-03-01T10:00:00.25+01:00")
    with api.client("ingest") as c:
        assert c.post("/v1/events", json={"events": [e]}).status_code == 202
    with api.plane.engine.connect() as conn:
        stored = conn.execute(text("SELECT occurred_at FROM events WHERE event_id = :e"), {"e": e["event_id"]}).scalar()
    if api.plane.engine.dialect.name == "sqlite":  # the store's text form: text order is time order
        assert stored == "2024-03-01 09:00:00.250000"
    else:
        assert stored == datetime(2024, 3, 1, 9, 0, 0, 250000, tzinfo=UTC)


def test_the_first_and_last_instants_of_the_contract_years_are_accepted(api) -> None:
    edges = [_event(occurred_at="1900-01-01T00:30:00-01:00"), _event(occurred_at="2199-12-31T18:59:59-05:00")]
    with api.client("ingest") as c:
        r = c.post("/v1/events", json={"events": edges})
    assert r.status_code == 202 and r.json()["inserted"] == 2, r.text


def test_parallel_batches_with_overlapping_ids_write_each_event_once(api) -> None:
    """Four clients send overlapping batches at once (no Idempotency-Key): every id is written once,
    and the answers' ``inserted`` add up to the number of distinct ids."""
    prefix = uuid.uuid4().hex
    batches = [_events(400, prefix)[k : k + 250] for k in (0, 50, 100, 150)] * 2

    def send(batch: list[dict]) -> dict:
        with api.client("ingest") as c:
            r = c.post("/v1/events", json={"events": batch})
            assert r.status_code == 202, r.text
            return r.json()

    with ThreadPoolExecutor(4) as pool:
        answers = list(pool.map(send, batches))
    assert sum(a["inserted"] for a in answers) == 400
    assert all(a["inserted"] + a["duplicates"] == a["received"] == 250 for a in answers)
    with api.plane.engine.connect() as conn:
        n = conn.execute(text("SELECT count(*) FROM events WHERE event_id LIKE :p"), {"p": f"{prefix}-%"}).scalar()
    assert n == 400


def test_the_request_schema_is_the_validators(api) -> None:
    with api.client(None) as c:
        schema = c.get("/openapi.json").json()
    body = schema["paths"]["/v1/events"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    assert body == {"$ref": "#/components/schemas/EventBatch"}
    comps = schema["components"]["schemas"]
    assert comps["EventBatch"]["additionalProperties"] is False
    assert comps["EventBatch"]["properties"]["events"]["maxItems"] == 1000
    event = comps["EventIn"]
    assert event["additionalProperties"] is False and set(event["required"]) == {"event_id", "name", "occurred_at"}
    assert event["properties"]["event_id"]["pattern"] == "^[^/\\x00-\\x1f\\x7f]+$"
    assert event["properties"]["occurred_at"]["format"] == "date-time"
