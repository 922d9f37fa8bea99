"""Event names are defined once (core/events.py): webhook subscriptions accept every event a resource
write, a CLV refresh or a segment refresh can publish, and nothing else."""

from __future__ import annotations

from aftersales.core.events import CHURN_RISK_CHANGED, EVENT_TYPES, RESOURCE_EVENTS
from aftersales.services.analytical import scores
from aftersales.services.operational import webhooks
from aftersales.services.operational.messaging.outcomes import PUBLISHED as MESSAGE_EVENTS
from aftersales.services.operational.resources import RESOURCES
from aftersales.services.operational.segment_changes import EVENT_NAMES as SEGMENT_EVENTS


def test_every_published_event_can_be_subscribed_to() -> None:
    published = {e for r in RESOURCES.values() for e in (r.created_event, r.updated_event)} | {scores.EVENT}
    published |= set(SEGMENT_EVENTS.values())
    published |= set(MESSAGE_EVENTS)
    assert published == set(EVENT_TYPES)
    assert webhooks.EVENT_TYPES is EVENT_TYPES
    assert scores.EVENT == CHURN_RISK_CHANGED


def test_each_resource_takes_its_names_from_core() -> None:
    for resource in RESOURCES.values():
        assert (resource.created_event, resource.updated_event) == RESOURCE_EVENTS[resource.table]
    assert len(EVENT_TYPES) == len(set(EVENT_TYPES)) == 2 * len(RESOURCE_EVENTS) + 1 + 2 + len(MESSAGE_EVENTS)
