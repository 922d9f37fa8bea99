"""Outgoing webhooks: subscriptions, an outbox of deliveries, and their dispatch with retries.

A write that others may care about (``survey.responded``, ``order.created``, ...) calls
:func:`publish` inside its own transaction: one delivery row per matching subscription is queued, so
only committed writes are announced (the outbox pattern). ``webhook_dispatch`` sends due
deliveries through a :class:`WebhookSender` (``adapters/channels/webhooks.py`` signs them with
HMAC-SHA256) and records every attempt (``services/operational/webhook_dispatch.py``). Network errors, timeouts,
429 and 5xx are retried after ``base_s * 2**(n-1)`` seconds (capped at ``max_delay_s``) until
``max_attempts``; any other answer, and a destination the policy refuses, ends the delivery (2xx:
delivered, else failed). A delivery can be sent again with :func:`redeliver`.

Destinations are checked twice against one :class:`DestinationPolicy` (``webhook_destinations``):
:func:`register` refuses URLs that name the local network; the sender refuses resolved addresses.

>>> RetryPolicy(base_s=1.0, max_delay_s=10.0).delay(1), RetryPolicy(base_s=1.0, max_delay_s=10.0).delay(5)
(1.0, 10.0)
>>> retryable(SendOutcome(503, None)), retryable(SendOutcome(404, None)), retryable(SendOutcome(None, "timeout"))
(True, False, True)
>>> retryable(SendOutcome(None, "refused: not a public address", refused=True))
False
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any, Protocol

from aftersales.core import events
from aftersales.core.errors import ConflictError, FieldError, NotFoundError, ValidationError
from aftersales.services.operational.webhook_destinations import DestinationPolicy
from aftersales.services.ports import DeliveryRecord, SubscriptionRecord, UnitOfWork, UnitOfWorkFactory

__all__ = [
    "EVENT_TYPES",
    "DestinationPolicy",
    "RetryPolicy",
    "SendOutcome",
    "WebhookSender",
    "publish",
    "publish_many",
    "redeliver",
    "register",
    "retryable",
]

EVENT_TYPES = events.EVENT_TYPES  # defined once, in core


@dataclass(frozen=True)
class SendOutcome:
    """What one attempt got: an HTTP status, or an error (network failure, timeout, or ``refused``:
    the destination policy allowed none of the destination's addresses, and nothing was sent)."""

    status_code: int | None
    error: str | None
    duration_ms: int = 0
    refused: bool = False


class WebhookSender(Protocol):
    deadline_s: float
    """The most one :meth:`send` takes, from start to recorded outcome."""

    def send(self, url: str, secret: str, payload: str, delivery_id: str, event_type: str) -> SendOutcome: ...


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int = 8
    base_s: float = 30.0
    max_delay_s: float = 6 * 3600.0

    def delay(self, attempt: int) -> float:
        """Seconds to wait after failed attempt number ``attempt`` (1-based)."""
        return min(self.max_delay_s, self.base_s * 2.0 ** (attempt - 1))


def retryable(outcome: SendOutcome) -> bool:
    if outcome.refused:
        return False
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
    uow: UnitOfWorkFactory,
    url: str,
    event_types: Iterable[str],
    description: str | None = None,
    *,
    destinations: DestinationPolicy | None = None,
) -> SubscriptionRecord:
    """Subscribe ``url`` to ``event_types`` (``*`` = all). The returned record holds the signing secret.

    ``destinations`` (default: public addresses only) decides which URLs are acceptable; nothing is
    resolved here, the sender checks the resolved address again at every connection."""
    refusal = (destinations or DestinationPolicy()).refusal(url)
    if refusal is not None:
        raise ValidationError("webhook URL not allowed", [FieldError(("url",), refusal)])
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


def redeliver(uow: UnitOfWorkFactory, delivery_id: str) -> DeliveryRecord:
    """Queue a delivery again now, with a fresh round of attempts (its history is kept). A delivery of
    a deleted subscription is not sent again (409)."""
    with uow() as u:
        d = u.webhooks.get_delivery(delivery_id)
        if d is None:
            raise NotFoundError(f"no webhook delivery {delivery_id!r}")
        sub = u.webhooks.get_subscription(d.subscription_id)
        if sub is None or not sub.active:
            raise ConflictError(f"webhook subscription {d.subscription_id!r} is deleted: its deliveries are not sent")
        u.webhooks.reset_for_redelivery(delivery_id, datetime.now(UTC))
        d = u.webhooks.get_delivery(delivery_id)
    assert d is not None
    return d
