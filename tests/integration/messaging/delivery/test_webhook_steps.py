"""Webhook steps go through the webhooks' sender: signed with the instance's journey webhook secret,
the message id as the delivery's idempotency key, retried with back-off on 5xx, and refused when the
URL names a non-public address unless webhook_allow_hosts allows it."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from aftersales.adapters.channels.webhooks import SIGNATURE_HEADER, HttpWebhookSender, verify_signature
from aftersales.services.operational.webhook_destinations import DestinationPolicy


class Receiver:
    def __init__(self) -> None:
        self.status = 200
        self.received: list[tuple[dict[str, str], str]] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"])).decode()
                receiver.received.append((dict(self.headers), body))
                self.send_response(receiver.status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    yield r
    r.server.shutdown()
    r.server.server_close()


@pytest.fixture
def hooks(delivery: Any) -> Iterator[Any]:
    sender = HttpWebhookSender(5.0, DestinationPolicy.parse(["127.0.0.0/8"]))
    delivery.webhook = sender
    delivery.allow = ("127.0.0.0/8",)
    yield delivery
    sender.close()


def test_a_webhook_step_is_signed_and_keyed_by_its_message_id(hooks: Any, receiver: Receiver) -> None:
    seed = hooks.seed
    seed.customer("c1")
    m = seed.message("c1", "offer", channel="webhook", params={"url": receiver.url, "payload": {"offer": "10%"}})
    assert hooks.run().sent == 1
    [(headers, body)] = receiver.received
    with seed.uow() as u:
        secret = u.messages.secret("journey_webhook_secret")
    assert secret and verify_signature(secret, headers[SIGNATURE_HEADER], body)
    assert headers["Aftersales-Delivery"] == m.message_id and headers["Aftersales-Event"] == "journey.step"
    sent = json.loads(body)
    assert sent["id"] == m.message_id
    assert sent["data"]["offer"] == "10%" and sent["data"]["customer_id"] == "c1" and sent["data"]["step_id"] == "offer"
    assert "c1@example.com" not in body
    row = seed.get(m.message_id)
    assert (row.status, row.attempts) == ("sent", 1)


def test_a_5xx_answer_is_retried_with_back_off(hooks: Any, receiver: Receiver) -> None:
    seed = hooks.seed
    seed.customer("c1")
    m = seed.message("c1", "offer", channel="webhook", params={"url": receiver.url})
    receiver.status = 503
    assert hooks.run().retried == 1
    row = seed.get(m.message_id)
    assert (row.status, row.not_before, row.detail) == ("queued", hooks.seed.t0 + timedelta(seconds=60), "HTTP 503")
    receiver.status = 200
    hooks.clock.advance(timedelta(seconds=60))
    assert hooks.run().sent == 1
    assert [h["Aftersales-Delivery"] for h, _ in receiver.received] == [m.message_id, m.message_id]


def test_a_loopback_url_is_refused_unless_allowed(hooks: Any, receiver: Receiver) -> None:
    seed = hooks.seed
    hooks.allow = ()
    seed.customer("c1")
    m = seed.message("c1", "offer", channel="webhook", params={"url": receiver.url})
    assert hooks.run().failed == 1
    row = seed.get(m.message_id)
    assert row.status == "failed" and (row.detail or "").startswith("webhook URL refused")
    assert receiver.received == []
