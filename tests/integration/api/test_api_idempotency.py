"""Idempotency-Key: a retried write returns the first response and writes nothing twice, also when the
retries arrive in parallel; a claim whose holder died is taken over once stale, a live one never."""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from sqlalchemy import text

from aftersales import bootstrap
from aftersales.config import Settings
from aftersales.entrypoints.api import ApiOptions, create_app
from aftersales.services.operational import api_keys, idempotency


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


@pytest.fixture(scope="module")
def short_claims(store_url: str, live_server) -> Iterator[tuple[str, str, str, bootstrap.ServicePlane, list[int]]]:
    """A second API on the same store whose claims go stale after 2 s without a heartbeat (every 0.2 s:
    ten beats may be late on a loaded machine before a live claim looks stale), with a route that takes
    4 s. Yields (base URL, API key, its key id, plane, runs of the slow route)."""
    plane = bootstrap.service_plane(store_url, migrate=True)
    try:
        opts = ApiOptions(idempotency_wait_s=10.0, idempotency_stale_s=2.0, idempotency_heartbeat_s=0.2)
        app = create_app(Settings(database_url=store_url), plane=plane, options=opts)
        runs = [0]

        async def slow() -> dict[str, int]:
            runs[0] += 1
            await asyncio.sleep(4.0)
            return {"run": runs[0]}

        app.add_api_route("/v1/slow", slow, methods=["POST"], status_code=201)
        created = api_keys.create_key(plane.uow, "ingest")
        with live_server(app) as server:
            yield server.url, created.key, created.key_id, plane, runs
    finally:
        plane.close()


def test_a_claim_left_by_a_killed_request_is_taken_over_once_stale(short_claims) -> None:
    """The holder died mid-request (here: a claim written and never renewed): the retry waits until the
    claim is stale and then runs, instead of getting 409 until a fixed 120 s had passed."""
    url, key, key_id, plane, _ = short_claims
    cid, ikey = f"c-{uuid.uuid4().hex[:8]}", uuid.uuid4().hex
    body = json.dumps({"customer_id": cid}).encode()
    claim = idempotency.fingerprint("POST", "/v1/customers", "", body)
    assert idempotency.begin(plane.uow, key_id, ikey, claim) is None  # claimed, and its holder never returns
    headers = {"Authorization": f"Bearer {key}", "Idempotency-Key": ikey, "Content-Type": "application/json"}
    r = httpx.post(f"{url}/v1/customers", content=body, headers=headers, timeout=30)
    assert r.status_code == 201, r.text
    assert "idempotent-replayed" not in r.headers
    with plane.engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM customers WHERE customer_id = :c"), {"c": cid}).scalar() == 1


def test_a_live_request_longer_than_the_stale_age_is_not_run_twice(short_claims) -> None:
    """The heartbeat keeps a running request's claim fresh: a retry that arrives while it runs 4 s
    (stale age 2 s) waits for it and gets its response, rather than taking the claim over."""
    url, key, _, _, runs = short_claims
    headers = {"Authorization": f"Bearer {key}", "Idempotency-Key": uuid.uuid4().hex}
    before = runs[0]

    def send(_: int) -> httpx.Response:
        return httpx.post(f"{url}/v1/slow", json={}, headers=headers, timeout=30)

    with ThreadPoolExecutor(2) as pool:
        first = pool.submit(send, 0)
        deadline = time.monotonic() + 30
        while runs[0] == before and time.monotonic() < deadline:  # the first request is running
            time.sleep(0.02)
        retry = pool.submit(send, 1)
        answers = [first.result(), retry.result()]
    assert [r.status_code for r in answers] == [201, 201]
    assert answers[0].content == answers[1].content
    assert answers[1].headers.get("idempotent-replayed") == "true"
    assert runs[0] == before + 1
