"""Outgoing webhooks: subscriptions, an outbox of deliveries, and their dispatch with retries.

A write that others may care about (``survey.responded``, ``order.created``, ...) calls
:func:`publish` inside its own transaction: one delivery row per matching subscription is queued, so
only committed writes are announced (the outbox pattern). :func:`dispatch_due` sends due
deliveries through a :class:`WebhookSender` (``adapters/channels/webhooks.py`` signs them with
HMAC-SHA256) and records every attempt. Network errors, timeouts, 429 and 5xx are retried after
``base_s * 2**(n-1)`` seconds (capped at ``max_delay_s``) until ``max_attempts``; any other answer
ends the delivery (2xx: delivered, else failed). A delivery can be sent again with :func:`redeliver`.

>>> RetryPolicy(base_s=1.0, max_delay_s=10.0).delay(1), RetryPolicy(base_s=1.0, max_delay_s=10.0).delay(5)
(1.0, 10.0)
>>> retryable(SendOutcome(503, None)), retryable(SendOutcome(404, None)), retryable(SendOutcome(None, "timeout"))
(True, False, True)
"""

from __future__ import annotations

import json
import logging
import secrets
import threading
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any, Protocol
from urllib.parse import urlsplit

from aftersales.core import events
from aftersales.core.errors import FieldError, NotFoundError, ValidationError
from aftersales.services.ports import (
    AttemptRecord,
    DeliveryRecord,
    SubscriptionRecord,
    UnitOfWork,
    UnitOfWorkFactory,
)

__all__ = [
    "EVENT_TYPES",
    "DispatchLoop",
    "RetryPolicy",
    "SendOutcome",
    "WebhookSender",
    "dispatch_due",
    "publish",
    "publish_many",
    "redeliver",
    "register",
    "retryable",
]

EVENT_TYPES = events.EVENT_TYPES  # defined once, in core


@dataclass(frozen=True)
class SendOutcome:
    """What one attempt got: an HTTP status, or an error (network failure, timeout)."""

    status_code: int | None
    error: str | None
    duration_ms: int = 0


class WebhookSender(Protocol):
    def send(self, url: str, secret: str, payload: str, delivery_id: str, event_type: str) -> SendOutcome: ...


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int = 8
    base_s: float = 30.0
    max_delay_s: float = 6 * 3600.0

    def delay(self, attempt: int) -> float:
        """Seconds to wait after failed attempt number ``attempt`` (1-based)."""
        return min(self.max_delay_s, self.base_s * 2 ** (attempt - 1))


def retryable(outcome: SendOutcome) -> bool:
    if outcome.status_code is None:
        return True
    return outcome.status_code == 429 or outcome.status_code >= 500


def _jsonable(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    return value


def register(
    uow: UnitOfWorkFactory, url: str, event_types: Iterable[str], description: str | None = None
) -> SubscriptionRecord:
    """Subscribe ``url`` to ``event_types`` (``*`` = all). The returned record holds the signing secret."""
    try:
        parts = urlsplit(url)
        usable = parts.scheme in ("http", "https") and bool(parts.hostname)
        _ = parts.port  # raises ValueError for a port out of range
    except ValueError:
        usable = False
    if not usable:
        raise ValidationError("invalid webhook URL", [FieldError(("url",), "must be an absolute http(s) URL")])
    types = tuple(dict.fromkeys(event_types))
    unknown = [t for t in types if t != "*" and t not in EVENT_TYPES]
    if not types or unknown:
        msg = f"unknown event types {unknown}" if unknown else "give at least one event type"
        raise ValidationError(msg, [FieldError(("event_types",), f"{msg}; known: {', '.join(EVENT_TYPES)}")])
    sub = SubscriptionRecord(
        "wh_" + secrets.token_hex(8),
        url,
        types,
        "whsec_" + secrets.token_urlsafe(32),
        True,
        description,
        datetime.now(UTC),
    )
    with uow() as u:
        u.webhooks.add_subscription(sub)
    return sub


def publish(u: UnitOfWork, event_type: str, data: Mapping[str, Any]) -> list[str]:
    """Queue a delivery of ``event_type`` to every active matching subscription (inside ``u``)."""
    return publish_many(u, event_type, [data])


def publish_many(u: UnitOfWork, event_type: str, items: Iterable[Mapping[str, Any]]) -> list[str]:
    """Queue one delivery of ``event_type`` per item and matching subscription (inside ``u``), reading
    the subscriptions once."""
    subs = [s for s in u.webhooks.active_subscriptions() if "*" in s.event_types or event_type in s.event_types]
    if not subs:
        return []
    now = datetime.now(UTC)
    ids = []
    for data in items:
        for sub in subs:
            delivery_id = "dl_" + secrets.token_hex(10)
            body = {"id": delivery_id, "type": event_type, "created_at": now.isoformat(), "data": _jsonable(data)}
            payload = json.dumps(body, separators=(",", ":"), sort_keys=True)
            u.webhooks.add_delivery(
                DeliveryRecord(delivery_id, sub.subscription_id, event_type, payload, "pending", 0, now, now)
            )
            ids.append(delivery_id)
    return ids


def dispatch_due(
    uow: UnitOfWorkFactory, sender: WebhookSender, policy: RetryPolicy, *, limit: int = 50, lease_s: float = 60.0
) -> int:
    """Send every due delivery once; returns how many attempts were made."""
    now = datetime.now(UTC)
    with uow() as u:
        due = u.webhooks.claim_due(now, now + timedelta(seconds=lease_s), limit)
        subs = {d.subscription_id: u.webhooks.get_subscription(d.subscription_id) for d in due}
    for d in due:
        sub = subs[d.subscription_id]
        assert sub is not None
        outcome = sender.send(sub.url, sub.secret, d.payload, d.delivery_id, d.event_type)
        at = datetime.now(UTC)
        count = d.attempt_count + 1
        if outcome.status_code is not None and 200 <= outcome.status_code < 300:
            new = replace(d, status="delivered", delivered_at=at, next_attempt_at=None)
        elif retryable(outcome) and count < policy.max_attempts:
            new = replace(d, status="pending", next_attempt_at=at + timedelta(seconds=policy.delay(count)))
        else:
            new = replace(d, status="failed", next_attempt_at=None)
        new = replace(new, attempt_count=count, last_status_code=outcome.status_code, last_error=outcome.error)
        with uow() as u:
            number = len(u.webhooks.attempts(d.delivery_id)) + 1
            attempt = AttemptRecord(d.delivery_id, number, at, outcome.status_code, outcome.error, outcome.duration_ms)
            u.webhooks.save_attempt(attempt, new)
    return len(due)


def redeliver(uow: UnitOfWorkFactory, delivery_id: str) -> DeliveryRecord:
    """Queue a delivery again now, with a fresh round of attempts (its history is kept)."""
    with uow() as u:
        if not u.webhooks.reset_for_redelivery(delivery_id, datetime.now(UTC)):
            raise NotFoundError(f"no webhook delivery {delivery_id!r}")
        d = u.webhooks.get_delivery(delivery_id)
    assert d is not None
    return d


class DispatchLoop:
    """Runs :func:`dispatch_due` in a background thread until :meth:`stop`; :meth:`wake` nudges it."""

    def __init__(self, uow: UnitOfWorkFactory, sender: WebhookSender, policy: RetryPolicy, poll_s: float = 1.0) -> None:
        self._uow, self._sender, self._policy, self._poll_s = uow, sender, policy, poll_s
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._thread = threading.Thread(target=self._run, name="webhook-dispatch", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def wake(self) -> None:
        self._wake.set()

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        self._wake.set()
        self._thread.join(timeout)

    def _run(self) -> None:
        log = logging.getLogger("aftersales.webhooks")
        while not self._stop.is_set():
            try:
                sent = dispatch_due(self._uow, self._sender, self._policy)
            except Exception:
                log.exception("webhook dispatch round failed")
                sent = 0
                time.sleep(self._poll_s)
            if not sent:
                self._wake.wait(self._poll_s)
                self._wake.clear()
