"""Event names: the one vocabulary of the event bus and of outgoing webhooks (DESIGN.md, "Events are the bus").

Every resource the API writes announces ``<name>.created`` and ``<name>.updated`` (a survey response's
creation is ``survey.responded``, the name marketers know); the analytical plane adds
``customer.churn_risk_changed`` when a CLV refresh moves a customer to another risk tier, and
``segment.entered`` / ``segment.exited`` when a refresh moves a customer into or out of a saved
segment (docs/segments.md); e-mail delivery adds ``message.sent``, ``message.bounced`` and
``message.unsubscribed`` (docs/email.md). Webhook subscriptions accept exactly :data:`EVENT_TYPES`.
The loyalty ledger's processing writes ``loyalty.tier_changed`` and ``loyalty.points_expiring`` to
the events table (journey triggers; docs/loyalty.md); they are not webhook types yet. Product reviews
(docs/surveys.md) write ``review.submitted`` (a review's first save) and ``review.published`` (a
moderator publishes it) to the events table the same way.

>>> RESOURCE_EVENTS["orders"]
ResourceEvents(created='order.created', updated='order.updated')
>>> EVENT_TYPES[:3]
('customer.created', 'customer.updated', 'customer.churn_risk_changed')
"""

from __future__ import annotations

from typing import NamedTuple

__all__ = [
    "CHURN_RISK_CHANGED",
    "EVENT_TYPES",
    "LOYALTY_EVENTS",
    "LOYALTY_POINTS_EXPIRING",
    "LOYALTY_TIER_CHANGED",
    "MESSAGE_BOUNCED",
    "MESSAGE_EVENTS",
    "MESSAGE_SENT",
    "MESSAGE_UNSUBSCRIBED",
    "RESOURCE_EVENTS",
    "REVIEW_EVENTS",
    "REVIEW_PUBLISHED",
    "REVIEW_SUBMITTED",
    "SEGMENT_ENTERED",
    "SEGMENT_EXITED",
    "ResourceEvents",
]


class ResourceEvents(NamedTuple):
    """The events a resource's writes announce."""

    created: str
    updated: str


CHURN_RISK_CHANGED = "customer.churn_risk_changed"
SEGMENT_ENTERED = "segment.entered"
SEGMENT_EXITED = "segment.exited"
MESSAGE_SENT = "message.sent"
MESSAGE_BOUNCED = "message.bounced"
MESSAGE_UNSUBSCRIBED = "message.unsubscribed"
MESSAGE_EVENTS = (MESSAGE_SENT, MESSAGE_BOUNCED, MESSAGE_UNSUBSCRIBED)
LOYALTY_TIER_CHANGED = "loyalty.tier_changed"
LOYALTY_POINTS_EXPIRING = "loyalty.points_expiring"
LOYALTY_EVENTS = (LOYALTY_TIER_CHANGED, LOYALTY_POINTS_EXPIRING)
REVIEW_SUBMITTED = "review.submitted"
REVIEW_PUBLISHED = "review.published"
REVIEW_EVENTS = (REVIEW_SUBMITTED, REVIEW_PUBLISHED)

# Keyed by contract table, in the order the API lists its resources.
RESOURCE_EVENTS: dict[str, ResourceEvents] = {
    "customers": ResourceEvents("customer.created", "customer.updated"),
    "products": ResourceEvents("product.created", "product.updated"),
    "orders": ResourceEvents("order.created", "order.updated"),
    "subscriptions": ResourceEvents("subscription.created", "subscription.updated"),
    "product_registrations": ResourceEvents("product_registration.created", "product_registration.updated"),
    "tickets": ResourceEvents("ticket.created", "ticket.updated"),
    "survey_responses": ResourceEvents("survey.responded", "survey_response.updated"),
}

# Events beyond a resource's own writes, listed after that resource's.
_DERIVED: dict[str, tuple[str, ...]] = {"customers": (CHURN_RISK_CHANGED,)}

EVENT_TYPES: tuple[str, ...] = (
    *(name for table, events in RESOURCE_EVENTS.items() for name in (*events, *_DERIVED.get(table, ()))),
    SEGMENT_ENTERED,
    SEGMENT_EXITED,
    *MESSAGE_EVENTS,
)
