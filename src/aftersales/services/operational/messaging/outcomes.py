"""What a message's outcome writes besides its own row: events, outgoing webhooks, bounce suppressions.

Each is written in the transaction that records the outcome, so an event is announced only when the
outcome is stored (the outbox pattern, as ``webhooks.publish``):

* ``message.sent`` when a message was delivered to the transport (or its webhook answered 2xx);
* ``message.bounced`` when the transport refused the address for good (a permanent failure with a
  bounce); a ``hard_bounce`` suppression (topic ``!hard_bounce``) scoped to that address's hash is
  added with it, so no further e-mail goes to the address;
* ``message.unsubscribed`` when a customer unsubscribes (``suppressions.unsubscribe``).

Event ids are functions of what they record (``msg:<message id>:sent``, ...), so a repeated write
stores one event. Their properties hold ids, channel, category and topic: never an address.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from aftersales.core.events import MESSAGE_BOUNCED, MESSAGE_SENT, MESSAGE_UNSUBSCRIBED
from aftersales.services.operational.messaging.rules import address_hash, deliverability_topic
from aftersales.services.operational.webhooks import publish
from aftersales.services.ports import EventRow, UnitOfWork
from aftersales.services.ports_messages import MessageRecord, SuppressionRecord

__all__ = ["PUBLISHED", "announce", "event_row", "message_data", "notify", "record_bounce", "subscribed"]

PUBLISHED = (MESSAGE_SENT, MESSAGE_BOUNCED, MESSAGE_UNSUBSCRIBED)
_SUFFIX = {MESSAGE_SENT: "sent", MESSAGE_BOUNCED: "bounced", MESSAGE_UNSUBSCRIBED: "unsubscribed"}


def message_data(m: MessageRecord, **more: Any) -> dict[str, Any]:
    """The properties of a message's event (ids and labels only)."""
    return {
        "message_id": m.message_id,
        "journey_id": m.journey_id,
        "enrollment_id": m.enrollment_id,
        "step_id": m.step_id,
        "customer_id": m.customer_id,
        "channel": m.channel,
        "category": m.category,
        "topic": m.topic,
        "variant": m.variant,
        **more,
    }


def subscribed(u: UnitOfWork) -> frozenset[str]:
    """The message events some active webhook subscription wants (a sender reads it once per round)."""
    subs = u.webhooks.active_subscriptions()
    return frozenset(n for n in PUBLISHED if any("*" in s.event_types or n in s.event_types for s in subs))


def event_row(name: str, key: str, customer_id: str, at: datetime, data: Mapping[str, Any]) -> EventRow:
    """The events-table row of event ``name`` about ``key`` (id ``msg:<key>:<what>``)."""
    properties = json.dumps(dict(data), separators=(",", ":"), sort_keys=True, default=str)
    return (f"msg:{key}:{_SUFFIX[name]}", customer_id, None, name, at, properties)


def notify(u: UnitOfWork, name: str, at: datetime, data: Mapping[str, Any]) -> None:
    """Queue the webhooks of a stored event ``name`` (the caller knows that someone subscribes)."""
    publish(u, name, {**data, "occurred_at": at.isoformat()})


def announce(
    u: UnitOfWork,
    name: str,
    key: str,
    customer_id: str,
    at: datetime,
    data: Mapping[str, Any],
    *,
    webhooks: bool = True,
) -> None:
    """Store event ``name`` (:func:`event_row`) and, when ``webhooks`` (the caller knows whether anyone
    subscribes), queue its webhooks, inside ``u``."""
    if u.events.insert_new([event_row(name, key, customer_id, at, data)]) and webhooks:
        notify(u, name, at, data)


def record_bounce(
    u: UnitOfWork, m: MessageRecord, address: str, at: datetime, detail: str, *, webhooks: bool = True
) -> None:
    """A hard bounce of ``m`` at ``address``: the address-scoped suppression and ``message.bounced``."""
    u.messages.add_suppression(
        SuppressionRecord(
            m.customer_id,
            m.channel,
            deliverability_topic("hard_bounce"),
            "hard_bounce",
            at,
            address_hash=address_hash(address),
            source=m.message_id,
        ),
        replace=True,  # a later bounce at a new address moves the suppression to that address
    )
    data = message_data(m, detail=detail)
    announce(u, MESSAGE_BOUNCED, m.message_id, m.customer_id, at, data, webhooks=webhooks)
