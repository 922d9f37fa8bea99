"""Outgoing webhooks against a real HTTP receiver on loopback: signatures, retries on 5xx/429/timeouts/
network errors, recorded attempts, redelivery."""

from __future__ import annotations

import json
import socket
import time
import uuid

from aftersales.adapters.channels.webhooks import SIGNATURE_HEADER, verify_signature


def _wait_for(api, delivery_filter: dict, done: set[str], timeout: float = 20.0) -> list[dict]:
    deadline = time.monotonic() + timeout
    with api.client("admin") as c:
        while time.monotonic() < deadline:
            items = c.get("/v1/webhook-deliveries", params=delivery_filter).json()["items"]
            if items and all(d["status"] in done for d in items):
                return [c.get(f"/v1/webhook-deliveries/{d['delivery_id']}").json() for d in items]
            time.sleep(0.05)
    raise AssertionError(f"deliveries not finished: {items}")


def _subscribe(api, url: str, types: list[str]) -> dict:
    with api.client("admin") as c:
        r = c.post("/v1/webhook-subscriptions", json={"url": url, "event_types": types})
    assert r.status_code == 201, r.text
    return r.json()


def _respond(api, kind: str = "nps", score: int = 9) -> str:
    rid = f"r-{uuid.uuid4().hex[:10]}"
    with api.client("ingest") as c:
        r = c.post(
            "/v1/survey-responses",
            json={
                "response_id": rid,
                "survey_id": "post-delivery",
                "kind": kind,
                "score": score,
                "responded_at": "2024-05-01T08:00:00+02:00",
            },
        )
    assert r.status_code == 201, r.text
    return rid


def test_a_survey_response_is_delivered_signed_after_retrying_500_and_429(api, receiver_factory) -> None:
    rx = receiver_factory([500, 429, 200])
    sub = _subscribe(api, rx.url, ["survey.responded"])
    rid = _respond(api)
    (d,) = _wait_for(api, {"subscription_id": sub["subscription_id"]}, {"delivered", "failed"})
    assert d["status"] == "delivered" and d["attempt_count"] == 3
    assert [a["status_code"] for a in d["attempts"]] == [500, 429, 200]
    headers, body = rx.received[-1]
    assert verify_signature(sub["secret"], headers[SIGNATURE_HEADER], body)
    assert not verify_signature("whsec_wrong", headers[SIGNATURE_HEADER], body)
    payload = json.loads(body)
    assert payload["type"] == "survey.responded" and payload["data"]["response_id"] == rid
    assert payload["data"]["responded_at"] == "2024-05-01T06:00:00+00:00"
    assert headers["Aftersales-Event"] == "survey.responded"
    # one idempotency key across the three attempts, under both names
    assert {h["Aftersales-Delivery"] for h, _ in rx.received} == {h["Idempotency-Key"] for h, _ in rx.received}
    assert len({h["Idempotency-Key"] for h, _ in rx.received}) == 1
    assert len({b for _, b in rx.received}) == 1  # every attempt sends the same payload


def test_a_4xx_answer_is_not_retried(api, receiver_factory) -> None:
    rx = receiver_factory([410])
    sub = _subscribe(api, rx.url, ["*"])
    _respond(api)
    (d,) = _wait_for(api, {"subscription_id": sub["subscription_id"]}, {"delivered", "failed"})
    assert d["status"] == "failed" and [a["status_code"] for a in d["attempts"]] == [410]


def test_timeouts_are_retried(api, receiver_factory) -> None:
    rx = receiver_factory(["sleep", 200])
    sub = _subscribe(api, rx.url, ["survey.responded"])
    _respond(api)
    (d,) = _wait_for(api, {"subscription_id": sub["subscription_id"]}, {"delivered", "failed"})
    assert d["status"] == "delivered"
    assert d["attempts"][0]["status_code"] is None and d["attempts"][0]["error"].startswith("timeout")


def test_network_errors_exhaust_the_retries_then_redelivery_starts_a_new_round(api, receiver_factory) -> None:
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{s.getsockname()[1]}/nobody-listens"
    sub = _subscribe(api, dead, ["survey.responded"])
    _respond(api)
    (d,) = _wait_for(api, {"subscription_id": sub["subscription_id"]}, {"failed"})
    assert d["attempt_count"] == 4 and all(a["error"].startswith("network error") for a in d["attempts"])
    gaps = [b["attempted_at"] > a["attempted_at"] for a, b in zip(d["attempts"], d["attempts"][1:], strict=False)]
    assert all(gaps)
    with api.client("admin") as c:
        assert c.post(f"/v1/webhook-deliveries/{d['delivery_id']}/redeliver").status_code == 202
        assert c.post("/v1/webhook-deliveries/dl_missing/redeliver").status_code == 404
    (again,) = _wait_for(api, {"subscription_id": sub["subscription_id"]}, {"failed"})
    assert len(again["attempts"]) == 8 and [a["attempt_number"] for a in again["attempts"]] == list(range(1, 9))


def test_unsubscribed_and_unmatched_types_get_nothing(api, receiver_factory) -> None:
    rx = receiver_factory([])
    sub = _subscribe(api, rx.url, ["order.created"])
    with api.client("admin") as c:
        assert c.delete(f"/v1/webhook-subscriptions/{sub['subscription_id']}").json()["active"] is False
        assert "secret" not in c.get(f"/v1/webhook-subscriptions/{sub['subscription_id']}").json()
        bad = c.post("/v1/webhook-subscriptions", json={"url": "ftp://x", "event_types": ["nope"]})
        assert bad.status_code == 422
    _respond(api)
    with api.client("admin") as c:
        assert c.get("/v1/webhook-deliveries", params={"subscription_id": sub["subscription_id"]}).json()["items"] == []


def test_subscriptions_and_deliveries_page_with_opaque_cursors_and_refuse_foreign_ones(api) -> None:
    made = {_subscribe(api, f"http://127.0.0.1:9/{i}", ["survey.responded"])["subscription_id"] for i in range(3)}
    with api.client("admin") as c:
        seen, cursor = [], None
        while True:
            page = c.get("/v1/webhook-subscriptions", params={"limit": 1, **({"cursor": cursor} if cursor else {})})
            assert page.status_code == 200, page.text
            seen += [s["subscription_id"] for s in page.json()["items"]]
            cursor = page.json()["next_cursor"]
            if cursor is None:
                break
        assert made <= set(seen) and len(seen) == len(set(seen)) and seen == sorted(seen)
        for bad in ("dl_\x00", "\x00", "!!", "WyJhIiwiYiJd"):  # a NUL, not base64, two keys
            r = c.get("/v1/webhook-deliveries", params={"cursor": bad})
            assert r.status_code == 400, (bad, r.text)
        assert c.get("/v1/webhook-deliveries", params={"subscription_id": "wh_\x00"}).status_code == 422


def test_subscribing_to_the_servers_own_network_is_refused_with_422(api) -> None:
    """The test server allows only 127.0.0.0/8 (``webhook_allow_hosts``); every other non-public
    destination is refused when subscribing (nothing connects: validation resolves nothing)."""
    refused = [
        "http://[::1]:5432/",
        "http://0.0.0.0/",
        "http://169.254.169.254/latest/meta-data/",
        "http://10.0.0.1/",
        "http://metadata.google.internal/",
        "http://user:pass@127.0.0.1/",
        "http://localhost:5432/",
    ]
    with api.client("admin") as c:
        for url in refused:
            r = c.post("/v1/webhook-subscriptions", json={"url": url, "event_types": ["*"]})
            assert r.status_code == 422, (url, r.text)
            assert r.json()["errors"][0]["loc"][-1] == "url" and url not in r.text


def test_a_delivery_of_a_deleted_subscription_cannot_be_redelivered(api, receiver_factory) -> None:
    rx = receiver_factory([410])
    sub = _subscribe(api, rx.url, ["survey.responded"])
    _respond(api)
    (d,) = _wait_for(api, {"subscription_id": sub["subscription_id"]}, {"failed"})
    with api.client("admin") as c:
        assert c.delete(f"/v1/webhook-subscriptions/{sub['subscription_id']}").status_code == 200
        assert c.post(f"/v1/webhook-deliveries/{d['delivery_id']}/redeliver").status_code == 409
