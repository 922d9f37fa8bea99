"""Ports of the act plane's messages (issue 15): what delivery needs from the store, as protocols.

The store holds the outbox (``journey_messages``: one row per (enrollment, step), written by the
journey runtime as ``queued``), the suppression list, the per-transport pacing row and the instance's
generated secrets (tables in ``adapters/sql/journey_tables.py``). Delivery
(``services/operational/messaging``) moves a message through its statuses::

    queued ──claim (lease)──► queued, leased ──start──► sending ──► sent | failed
       ▲          │                                       │   └─(temporary failure)─► queued (retry later)
       │          ├─► skipped | suppressed (policy at send time)
       └──────────┴─► queued, not_before later (quiet hours, frequency cap, send rate)
    sending whose lease ran out ──► unknown (never resent; reported)

A *lease* (``lease_token``, ``lease_until``) marks the worker that holds a row. A leased ``queued`` row
was never attempted, so when its lease runs out another worker may claim it; a ``sending`` row may
have reached the transport, so when its lease runs out it becomes ``unknown`` instead.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from aftersales.services.ports import EventRow

__all__ = [
    "DELIVERABILITY_REASONS",
    "MESSAGE_STATUSES",
    "SUPPRESSION_REASONS",
    "Finished",
    "MessageFilter",
    "MessageRecord",
    "MessageRepository",
    "Recipient",
    "Starting",
    "StatusCount",
    "SuppressionRecord",
]

MESSAGE_STATUSES = ("queued", "sending", "sent", "failed", "suppressed", "skipped", "cancelled", "unknown")
SUPPRESSION_REASONS = ("unsubscribed", "manual", "hard_bounce", "complaint")
DELIVERABILITY_REASONS = ("hard_bounce", "complaint")
"""Suppressions that block every category (transactional too), each under its own topic
``!<reason>`` so that they sit beside a customer's unsubscribes instead of replacing one."""


@dataclass(frozen=True)
class MessageRecord:
    """One outbox row (``journey_messages``); ``params`` is what the step asked for (template, url, ...)."""

    message_id: str
    enrollment_id: str
    journey_id: str
    step_id: str
    customer_id: str
    channel: str  # email | webhook | ...
    category: str  # marketing | transactional
    topic: str
    variant: str | None
    params: Mapping[str, Any]
    status: str
    not_before: datetime
    attempts: int
    created_at: datetime
    started_at: datetime | None = None
    finished_at: datetime | None = None
    rfc_message_id: str | None = None
    detail: str | None = None


@dataclass(frozen=True)
class SuppressionRecord:
    """One customer who must not get a channel's messages on ``topic`` (``*``: every marketing topic;
    ``!hard_bounce`` / ``!complaint``: every message, at the address whose hash is ``address_hash``)."""

    customer_id: str
    channel: str
    topic: str
    reason: str  # unsubscribed | manual | hard_bounce | complaint
    created_at: datetime
    address_hash: str | None = None
    source: str | None = None  # the message that caused it, if any


@dataclass(frozen=True)
class Recipient:
    """What sending to one customer needs: the ``customers`` row's contact and consent fields and the
    customer's ``customer_profiles`` row (empty before the first refresh). PII: never logged."""

    customer_id: str
    email: str | None
    name: str | None
    email_consent: bool
    timezone: str | None
    locale: str | None
    profile: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class MessageFilter:
    """Which messages a list or a count covers (None: any)."""

    journey_id: str | None = None
    customer_id: str | None = None
    status: str | None = None


@dataclass(frozen=True)
class StatusCount:
    """How many messages are in ``status`` (``started``: of them, how many were ever attempted);
    ``due`` tells queued ones due by the time asked about (True) from those deferred past it
    (False); None for other statuses."""

    status: str
    due: bool | None
    count: int
    started: int = 0


@dataclass(frozen=True)
class Finished:
    """The outcome of an attempt to record (:meth:`MessageRepository.finish_attempt`'s arguments) and
    the event it announces, stored (unless stored already) only when the outcome is."""

    message_id: str
    status: str
    at: datetime
    detail: str | None = None
    event: EventRow | None = None


@dataclass(frozen=True)
class Starting:
    """A message to move to ``sending`` (:meth:`MessageRepository.start_sending`'s arguments)."""

    message_id: str
    at: datetime
    lease_until: datetime
    rfc_message_id: str | None = None


class MessageRepository(Protocol):
    """Implemented by adapters/sql/repositories/messages.py; every method runs in the unit of work's
    transaction."""

    # -- the outbox --------------------------------------------------------------------------------
    def add(self, messages: Sequence[MessageRecord]) -> int:
        """Insert messages whose id is not stored yet; returns how many were new."""
        ...

    def get(self, message_id: str) -> MessageRecord | None: ...

    def expire_sending(self, now: datetime, detail: str) -> list[MessageRecord]:
        """Mark ``sending`` rows whose lease ended before ``now`` as ``unknown`` (finished at ``now``,
        ``detail``, lease cleared) and return them as they are now."""
        ...

    def claim_due(
        self, now: datetime, limit: int, *, token: str, lease_until: datetime, channels: Collection[str]
    ) -> list[MessageRecord]:
        """Lease up to ``limit`` queued messages of ``channels`` due at ``now`` (``not_before <= now``,
        no lease or an expired one), oldest first, to ``token`` until ``lease_until``. Rows another
        transaction is claiming are skipped (PostgreSQL ``SKIP LOCKED``); on SQLite the lease is
        written only where the row is still claimable, and only rows carrying ``token`` are returned."""
        ...

    def defer(self, message_id: str, token: str, not_before: datetime, detail: str | None) -> bool:
        """Release a leased queued message until ``not_before`` (status stays ``queued``)."""
        ...

    def finish_unsent(self, message_id: str, token: str, status: str, at: datetime, detail: str) -> bool:
        """End a leased queued message without an attempt (``skipped``, ``suppressed``, ``failed``,
        ``cancelled``)."""
        ...

    def start_sending(
        self, message_id: str, token: str, at: datetime, lease_until: datetime, rfc_message_id: str | None
    ) -> bool:
        """``queued`` (leased by ``token``) -> ``sending``: started at ``at``, attempts + 1, the lease
        extended to ``lease_until``. False (nothing changed) when the row is no longer ours."""
        ...

    def finish_attempt(self, message_id: str, token: str, status: str, at: datetime, detail: str | None) -> bool:
        """Record the outcome of our attempt: ``sent`` or ``failed`` (finished at ``at``). Applies to a
        ``sending`` row, or an ``unknown`` one whose lease ran out meanwhile (the outcome is known
        after all), still carrying ``token``."""
        ...

    def finish_and_start(
        self, token: str, finished: Finished | None, starting: Starting | None
    ) -> tuple[bool, bool, bool]:
        """``finish_attempt(finished)`` with its event, then ``start_sending(starting)``, both under
        ``token`` and in one statement on PostgreSQL (a sender records one message's outcome and
        starts the next in one round trip). Returns (finished, event stored, started)."""
        ...

    def retry_attempt(self, message_id: str, token: str, not_before: datetime, detail: str | None) -> bool:
        """Our attempt failed temporarily: back to ``queued`` until ``not_before``, lease cleared."""
        ...

    def cancel_queued(self, *, enrollment_ids: Collection[str], at: datetime, reason: str) -> int:
        """Cancel the queued messages of these enrollments (a customer removed from a journey)."""
        ...

    # -- reading -----------------------------------------------------------------------------------
    def recipients(self, customer_ids: Collection[str]) -> dict[str, Recipient]:
        """The customers of those ids that exist, with their profiles."""
        ...

    def triggers(self, enrollment_ids: Collection[str]) -> dict[str, Mapping[str, Any]]:
        """The trigger properties of these enrollments (what started the journey: an order, ...)."""
        ...

    def product_names(self, product_ids: Collection[str]) -> dict[str, str]:
        """The names of these products, where known."""
        ...

    def recent_starts(
        self, customer_ids: Collection[str], *, channel: str, category: str, since: datetime
    ) -> dict[str, list[datetime]]:
        """Per customer, the start times (at or after ``since``) of messages of ``channel`` and
        ``category`` that were sent, are being sent, or whose outcome is unknown."""
        ...

    def page(self, where: MessageFilter, *, after: str | None, limit: int) -> list[MessageRecord]:
        """Messages in id order, strictly after the id ``after``."""
        ...

    def status_counts(self, journey_id: str | None, now: datetime) -> list[StatusCount]:
        """Messages (of one journey, or all) per status; queued ones split by due at ``now`` or not."""
        ...

    def finished_between(
        self, journey_id: str | None, status: str, start: datetime, end: datetime
    ) -> tuple[int, datetime | None]:
        """How many messages reached ``status`` with ``finished_at`` in ``[start, end)``, and the
        earliest such ``finished_at``."""
        ...

    def latest_not_before(self, journey_id: str | None) -> datetime | None:
        """The latest ``not_before`` among queued messages (when the last deferred one comes due)."""
        ...

    def topics(self, customer_id: str, channel: str) -> list[str]:
        """The marketing topics of the messages a customer has been queued on this channel, sorted."""
        ...

    # -- suppressions ------------------------------------------------------------------------------
    def suppressions_of(self, customer_ids: Collection[str], channel: str) -> list[SuppressionRecord]: ...

    def add_suppression(self, record: SuppressionRecord, *, replace: bool = False) -> bool:
        """Insert unless (customer, channel, topic) is suppressed already (``replace``: overwrite that
        row instead); True when a row was written."""
        ...

    def remove_suppression(self, customer_id: str, channel: str, topic: str) -> SuppressionRecord | None:
        """Delete one suppression; the deleted row, or None when there was none."""
        ...

    def list_suppressions(
        self, *, customer_id: str | None, channel: str | None, after: tuple[str, str, str] | None, limit: int
    ) -> list[SuppressionRecord]:
        """Suppressions in (customer, channel, topic) order, strictly after the key ``after``."""
        ...

    # -- pacing and secrets ------------------------------------------------------------------------
    def pacing_slot(self, transport: str) -> datetime | None:
        """The transport's next free sending slot (None: never used)."""
        ...

    def move_pacing(self, transport: str, expected: datetime | None, new: datetime) -> bool:
        """Set the next free slot to ``new`` if it is still ``expected`` (compare and set; ``None``:
        create the row if absent). False when another worker moved it first."""
        ...

    def secret(self, name: str) -> str | None: ...

    def add_secret_if_absent(self, name: str, value: str, at: datetime) -> str:
        """Store ``value`` under ``name`` unless one is stored already; returns the stored value (ours
        or the one a concurrent first use stored)."""
        ...
