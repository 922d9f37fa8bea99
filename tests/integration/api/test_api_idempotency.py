"""Idempotency-Key: a retried write returns the first response and writes nothing twice, also when the
retries arrive in parallel."""

from __future__ import annotations

import uuid
from concurrent.futures import ThreadPoolExecutor

from sqlalchemy import text


def _count(api, sql: str, **params: object) -> int:
    with api.plane.engine.connect() as conn:
        return int(conn.execute(text(sql), params).scalar() or 0)


def test_parallel_retries_of_a_create_get_the_first_response(api) -> None:
    cid, key = f"c-{uuid.uuid4().hex[:8]}", uuid.uuid4().hex
    body = {"customer_id": cid, "country": "NO"}

    def send(_: int) -> tuple[int, bytes, str | None]:
        with api.client("ingest", **{"Idempotency-Key": key}) as c:
            r = c.post("/v1/customers", json=body)
            return r.status_code, r.content, r.headers.get("idempotent-replayed")

    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(send, range(8)))
    assert {status for status, _, _ in results} == {201}
    assert len({content for _, content, _ in results}) == 1
    assert sum(1 for *_, replayed in results if replayed is None) == 1  # exactly one request ran
    assert _count(api, "SELECT count(*) FROM customers WHERE customer_id = :c", c=cid) == 1


def test_parallel_retries_of_an_event_batch_write_it_once(api) -> None:
    prefix, key = uuid.uuid4().hex, uuid.uuid4().hex
    events = [
        {"event_id": f"{prefix}-{i}", "anonymous_id": "d", "name": "n", "occurred_at": "2024-01-01T00:00:00Z"}
        for i in range(50)
    ]

    def send(_: int) -> tuple[int, dict]:
        with api.client("ingest", **{"Idempotency-Key": key}) as c:
            r = c.post("/v1/events", json={"events": events})
            return r.status_code, r.json()

    with ThreadPoolExecutor(6) as pool:
        results = list(pool.map(send, range(6)))
    assert all(r == (202, {"received": 50, "inserted": 50, "duplicates": 0}) for r in results)
    assert _count(api, "SELECT count(*) FROM events WHERE event_id LIKE :p", p=f"{prefix}-%") == 50


def test_an_error_response_is_replayed_too_and_a_reused_key_is_refused(api) -> None:
    key = uuid.uuid4().hex
    with api.client("ingest", **{"Idempotency-Key": key}) as c:
        first = c.post("/v1/tickets", json={"ticket_id": "t", "customer_id": "ghost", "opened_at": "2024-01-01T00:00Z"})
        again = c.post("/v1/tickets", json={"ticket_id": "t", "customer_id": "ghost", "opened_at": "2024-01-01T00:00Z"})
        assert first.status_code == again.status_code == 422 and first.content == again.content
        assert again.headers["idempotent-replayed"] == "true"
        other = c.post("/v1/tickets", json={"ticket_id": "u", "customer_id": "ghost", "opened_at": "2024-01-01T00:00Z"})
        assert other.status_code == 422 and "different request" in other.json()["detail"]


def test_keys_are_scoped_per_api_key_and_checked(api) -> None:
    key = uuid.uuid4().hex
    cid_a, cid_b = f"a-{key[:8]}", f"b-{key[:8]}"
    with api.client("ingest", **{"Idempotency-Key": key}) as c:
        assert c.post("/v1/customers", json={"customer_id": cid_a}).status_code == 201
    with api.client("admin", **{"Idempotency-Key": key}) as c:  # same idempotency key, another API key
        assert c.post("/v1/customers", json={"customer_id": cid_b}).status_code == 201
    with api.client("ingest", **{"Idempotency-Key": "has space"}) as c:
        assert c.post("/v1/customers", json={"customer_id": "z"}).status_code == 400
