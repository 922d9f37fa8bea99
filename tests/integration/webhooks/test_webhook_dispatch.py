"""Webhook dispatch under faults: a deleted subscription, two dispatchers on one store, a receiver that
trickles its answer, a store that does not answer."""

from __future__ import annotations

import logging
import socket
import threading
from collections import Counter
from datetime import UTC, datetime

import pytest

from aftersales.adapters.channels.webhooks import HttpWebhookSender
from aftersales.core.errors import ConflictError
from aftersales.services.operational import webhook_admin, webhooks
from aftersales.services.operational.webhook_dispatch import DispatchLoop


def _subscribe(uow, url: str, types: list[str], policy) -> str:
    return webhooks.register(uow, url, types, destinations=policy).subscription_id


def _publish(uow, event_type: str, n: int = 1) -> list[str]:
    with uow() as u:
        return webhooks.publish_many(u, event_type, [{"n": i} for i in range(n)])


def _deliveries(uow, ids: list[str]) -> list:
    with uow() as u:
        return [(u.webhooks.get_delivery(i), u.webhooks.attempts(i)) for i in ids]


def test_a_deleted_subscription_sends_nothing_more(store, uow_factory, receivers, loopback, wait_until) -> None:
    """Three deliveries queued; the first is in flight (the receiver holds it) when the subscription is
    deleted, then answers 503. No retry of it and none of the two others may go out."""
    uow = uow_factory(store)
    rx = receivers(status=503, gated=True)
    sub = _subscribe(uow, rx.url, ["order.created"], loopback)
    ids = _publish(uow, "order.created", 3)
    policy = webhooks.RetryPolicy(max_attempts=5, base_s=0.01, max_delay_s=0.05)
    loop = DispatchLoop(uow, HttpWebhookSender(10.0, loopback), policy, poll_s=0.02, per_destination=1)
    loop.start()
    try:
        assert rx.entered.wait(30)
        assert webhook_admin.deactivate(uow, sub).active is False
        rx.gate.set()
        wait_until(lambda: all(d.status != "pending" for d, _ in _deliveries(uow, ids)), what="deliveries to end")
    finally:
        loop.stop()
    assert len(rx.received) == 1
    states = _deliveries(uow, ids)
    assert all(d.status == "failed" for d, _ in states)
    assert sorted(d.attempt_count for d, _ in states) == [0, 0, 1]
    assert all(len(attempts) == d.attempt_count for d, attempts in states)
    assert {d.last_error for d, a in states if not a} == {"subscription deleted"}
    with pytest.raises(ConflictError):
        webhooks.redeliver(uow, ids[0])


def test_two_dispatchers_send_each_delivery_once_and_count_every_attempt(
    store, uow_factory, receivers, loopback, wait_until
) -> None:
    """Two dispatchers (as ``serve --workers 2``), each on its own engine, a receiver that answers in
    0.6 s and twelve deliveries: 7.2 s of work, longer than the 6 s lease, which a dispatcher working
    through a claimed batch would outlive."""
    rx = receivers(status=200, delay_s=0.6)
    setup = uow_factory(store)
    _subscribe(setup, rx.url, ["order.created"], loopback)
    ids = _publish(setup, "order.created", 12)
    loops = [
        DispatchLoop(uow_factory(store), HttpWebhookSender(5.0, loopback), webhooks.RetryPolicy(), 0.02, lease_s=6.0)
        for _ in range(2)
    ]
    for loop in loops:
        loop.start()
    try:
        wait_until(lambda: all(d.status == "delivered" for d, _ in _deliveries(setup, ids)), what="all delivered")
    finally:
        for loop in loops:
            loop.stop()
    assert Counter(rx.received) == dict.fromkeys(ids, 1)
    for d, attempts in _deliveries(setup, ids):
        assert d.attempt_count == len(attempts) == 1 and attempts[0].status_code == 200


def test_a_trickling_receiver_is_cut_at_the_deadline_while_a_healthy_one_is_served(
    store, uow_factory, receivers, trickler, loopback, wait_until
) -> None:
    """The trickler sends a valid 200 one byte a second (about 40 s); each read returns well within
    any per-read timeout, so only a total deadline (2 s here) ends the attempt. Its delivery is queued
    first; the healthy subscriber must get its POST before that attempt ends (its recorded time)."""
    uow = uow_factory(store)
    healthy = receivers(status=200)
    served_at = []
    healthy.on_request = lambda: served_at.append(datetime.now(UTC))
    _subscribe(uow, trickler.url, ["order.created"], loopback)
    _subscribe(uow, healthy.url, ["ticket.created"], loopback)
    (slow,) = _publish(uow, "order.created")
    (fast,) = _publish(uow, "ticket.created")
    policy = webhooks.RetryPolicy(max_attempts=1)
    loop = DispatchLoop(uow, HttpWebhookSender(2.0, loopback), policy, poll_s=0.02)
    loop.start()
    try:
        wait_until(lambda: _deliveries(uow, [slow])[0][0].status != "pending", what="the trickled attempt")
    finally:
        loop.stop()
    (d_fast, _), (d_slow, a_slow) = _deliveries(uow, [fast, slow])
    assert d_fast.status == "delivered" and len(served_at) == 1
    assert served_at[0] < a_slow[0].attempted_at  # served before the trickled attempt ended, not after
    assert d_slow.status == "failed" and a_slow[0].status_code is None and a_slow[0].error.startswith("timeout")
    assert trickler.cut.wait(10) and not trickler.finished.is_set()
    assert trickler.sent < len(trickler.ANSWER)


def test_an_unreachable_store_is_logged_once_and_backed_off(uow_factory, loopback, caplog) -> None:
    """A PostgreSQL port nobody listens on: every round fails. One warning line, no traceback."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        dead = f"postgresql+psycopg://postgres@127.0.0.1:{s.getsockname()[1]}/nowhere"
    store = uow_factory(dead)
    rounds, enough = [0], threading.Event()

    def counting_uow():
        rounds[0] += 1
        if rounds[0] >= 5:
            enough.set()
        return store()

    loop = DispatchLoop(counting_uow, HttpWebhookSender(1.0, loopback), webhooks.RetryPolicy(), poll_s=0.005)
    with caplog.at_level(logging.DEBUG, logger="aftersales.webhooks"):
        loop.start()
        try:
            assert enough.wait(30)
        finally:
            loop.stop()
    records = [r for r in caplog.records if r.name == "aftersales.webhooks"]
    assert len(records) == 1, [r.getMessage() for r in records]
    (line,) = records
    assert line.levelno == logging.WARNING and line.exc_info is None and "\n" not in line.getMessage()
    assert "store unreachable" in line.getMessage() and "OperationalError" in line.getMessage()
