"""The suppression list: admin entries, one-click unsubscribes, and the customer's preference page.

* **Admin** (:func:`suppressions_page`, :func:`add_suppression`, :func:`remove_suppression`): a
  ``manual`` or ``unsubscribed`` entry on a topic or ``*`` (every marketing topic); a
  ``hard_bounce`` or ``complaint`` entry blocks every e-mail and is stored under its own topic
  (``!hard_bounce``, ``!complaint``). Adding an entry that exists changes nothing.
* **Unsubscribe** (:func:`unsubscribe`): the signed link of an e-mail (``links.LinkSigner``) names
  the customer, the channel and the topic; following it (RFC 8058 one-click ``POST``, or the
  confirmation page's button) adds an ``unsubscribed`` suppression, once, and announces
  ``message.unsubscribed``. Doing it again is harmless and changes nothing.
* **Preferences** (:func:`preferences`, :func:`set_preferences`): the topics the customer has been
  mailed on or has unsubscribed from, each subscribed or not, and "all marketing e-mail" (``*``).
  Saving adds an ``unsubscribed`` entry per topic left unticked and removes the customer's own
  ``unsubscribed`` entries of topics ticked again; entries made by an admin, bounces and complaints
  stay (the page shows them as fixed).

The token is the credential: it is signed, bound to its purpose and expires (a year), so neither
the links nor the page need a session or a CSRF token.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from aftersales.core.errors import FieldError, NotFoundError, ValidationError
from aftersales.core.events import MESSAGE_UNSUBSCRIBED
from aftersales.services.operational.cursors import decode_cursor, encode_cursor
from aftersales.services.operational.messaging.links import PREFERENCES, UNSUBSCRIBE, LinkSigner
from aftersales.services.operational.messaging.outcomes import announce
from aftersales.services.operational.messaging.rules import deliverability_topic
from aftersales.services.ports import UnitOfWork, UnitOfWorkFactory
from aftersales.services.ports_messages import DELIVERABILITY_REASONS, SUPPRESSION_REASONS, SuppressionRecord

__all__ = [
    "ALL_TOPICS",
    "Preferences",
    "TopicChoice",
    "Unsubscribed",
    "add_suppression",
    "preferences",
    "remove_suppression",
    "set_preferences",
    "suppressions_page",
    "unsubscribe",
    "unsubscribe_topic",
]

ALL_TOPICS = "*"
CHANNELS = ("email",)


@dataclass(frozen=True)
class Unsubscribed:
    """The outcome of an unsubscribe link: who, from what, and whether this use changed anything."""

    customer_id: str
    channel: str
    topic: str
    created: bool


@dataclass(frozen=True)
class TopicChoice:
    """One line of the preference page: ``subscribed`` or not; ``fixed`` when the customer cannot
    change it there (an admin's entry)."""

    topic: str
    subscribed: bool
    fixed: bool = False


@dataclass(frozen=True)
class Preferences:
    """The preference page of one customer: the topics, and whether all marketing e-mail is off."""

    customer_id: str
    channel: str
    topics: tuple[TopicChoice, ...]
    all_marketing: TopicChoice
    blocked: bool  # a bounce or complaint stops every e-mail to the current address


def _check(channel: str, topic: str, reason: str) -> str:
    errors = []
    if channel not in CHANNELS:
        errors.append(FieldError(("channel",), f"one of {', '.join(CHANNELS)}"))
    if reason not in SUPPRESSION_REASONS:
        errors.append(FieldError(("reason",), f"one of {', '.join(SUPPRESSION_REASONS)}"))
    if reason in DELIVERABILITY_REASONS:
        topic = deliverability_topic(reason)
    elif not topic or topic.startswith("!") or len(topic) > 100:
        errors.append(FieldError(("topic",), "a topic name or * (every marketing topic)"))
    if errors:
        raise ValidationError("invalid suppression", errors)
    return topic


def _customer_exists(u: UnitOfWork, customer_id: str) -> None:
    if customer_id not in u.messages.recipients([customer_id]):
        raise NotFoundError(f"no customer {customer_id!r}")


def add_suppression(
    uow: UnitOfWorkFactory,
    customer_id: str,
    *,
    now: datetime,
    channel: str = "email",
    topic: str = ALL_TOPICS,
    reason: str = "manual",
) -> tuple[SuppressionRecord, bool]:
    """Suppress ``customer_id`` (see the module); returns the entry and whether it is new."""
    topic = _check(channel, topic, reason)
    record = SuppressionRecord(customer_id, channel, topic, reason, now, source="admin")
    with uow() as u:
        _customer_exists(u, customer_id)
        created = u.messages.add_suppression(record)
        stored = next(s for s in u.messages.suppressions_of([customer_id], channel) if s.topic == topic)
    return stored, created


def remove_suppression(uow: UnitOfWorkFactory, customer_id: str, *, channel: str, topic: str) -> SuppressionRecord:
    """Lift one suppression (``NotFoundError`` when there is none)."""
    with uow() as u:
        removed = u.messages.remove_suppression(customer_id, channel, topic)
    if removed is None:
        raise NotFoundError(f"no suppression of {customer_id!r} on {channel} topic {topic!r}")
    return removed


def suppressions_page(
    uow: UnitOfWorkFactory,
    *,
    customer_id: str | None = None,
    channel: str | None = None,
    limit: int = 100,
    cursor: str | None = None,
) -> dict[str, Any]:
    """Suppressions in (customer, channel, topic) order, one page at a time."""
    after = None
    if cursor:
        c, ch, t = (str(v) for v in decode_cursor(cursor, (str, str, str)))
        after = (c, ch, t)
    with uow() as u:
        rows = u.messages.list_suppressions(customer_id=customer_id, channel=channel, after=after, limit=limit + 1)
    more = len(rows) > limit
    rows = rows[:limit]
    last = rows[-1] if rows else None
    return {
        "items": [asdict(s) for s in rows],
        "next_cursor": encode_cursor([last.customer_id, last.channel, last.topic]) if more and last else None,
    }


def _unsubscribe(u: UnitOfWork, customer_id: str, channel: str, topic: str, now: datetime, source: str | None) -> bool:
    record = SuppressionRecord(customer_id, channel, topic, "unsubscribed", now, source=source)
    created = u.messages.add_suppression(record)
    if created:
        data = {"customer_id": customer_id, "channel": channel, "topic": topic, "message_id": source}
        key = f"{customer_id}:{channel}:{topic}:{now.isoformat()}"
        announce(u, MESSAGE_UNSUBSCRIBED, key, customer_id, now, data)
    return created


def unsubscribe(uow: UnitOfWorkFactory, signer: LinkSigner, token: str, *, now: datetime) -> Unsubscribed:
    """Honour an unsubscribe link (idempotent); ``TokenError`` (400) for a bad or expired one."""
    t = signer.verify(token, UNSUBSCRIBE, now)
    channel, topic = t.data.get("channel", "email"), t.data.get("topic", ALL_TOPICS)
    with uow() as u:
        created = _unsubscribe(u, t.subject, channel, topic, now, t.data.get("message") or None)
    return Unsubscribed(t.subject, channel, topic, created)


def unsubscribe_topic(signer: LinkSigner, token: str, *, now: datetime) -> tuple[str, str]:
    """``(customer id, topic)`` an unsubscribe link is for, checked but not used (the confirmation page)."""
    t = signer.verify(token, UNSUBSCRIBE, now)
    return t.subject, t.data.get("topic", ALL_TOPICS)


def _preferences(u: UnitOfWork, customer_id: str, channel: str) -> Preferences:
    held = u.messages.suppressions_of([customer_id], channel)
    topics = set(u.messages.topics(customer_id, channel))
    topics |= {s.topic for s in held if s.topic != ALL_TOPICS and not s.topic.startswith("!")}
    by_topic = {s.topic: s for s in held}

    def choice(topic: str) -> TopicChoice:
        s = by_topic.get(topic)
        return TopicChoice(topic, s is None, fixed=s is not None and s.reason != "unsubscribed")

    blocked = any(s.reason in DELIVERABILITY_REASONS for s in held)
    return Preferences(customer_id, channel, tuple(choice(t) for t in sorted(topics)), choice(ALL_TOPICS), blocked)


def preferences(uow: UnitOfWorkFactory, signer: LinkSigner, token: str, *, now: datetime) -> Preferences:
    """The preference page's content for the customer the token names."""
    t = signer.verify(token, PREFERENCES, now)
    with uow() as u:
        return _preferences(u, t.subject, t.data.get("channel", "email"))


def set_preferences(
    uow: UnitOfWorkFactory,
    signer: LinkSigner,
    token: str,
    *,
    subscribed: Collection[str],
    all_marketing: bool,
    now: datetime,
) -> Preferences:
    """Save the page (see the module): ``subscribed`` are the topics ticked, ``all_marketing`` whether
    marketing e-mail is wanted at all. Returns the page as it is now."""
    t = signer.verify(token, PREFERENCES, now)
    customer_id, channel = t.subject, t.data.get("channel", "email")
    with uow() as u:
        page = _preferences(u, customer_id, channel)
        wanted = {c.topic: c.topic in subscribed for c in page.topics}
        wanted[ALL_TOPICS] = all_marketing
        current = {c.topic: c for c in (*page.topics, page.all_marketing)}
        for topic, want in wanted.items():
            c = current[topic]
            if c.fixed or c.subscribed == want:
                continue
            if want:
                u.messages.remove_suppression(customer_id, channel, topic)
            else:
                _unsubscribe(u, customer_id, channel, topic, now, None)
        return _preferences(u, customer_id, channel)
