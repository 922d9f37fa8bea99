"""Ports of the act plane's runtime (issue 15): enrollments, their leases, the outbox rows their steps
write, and what the runtime reads to decide (trigger facts, profiles, zones, memberships, suppressions).

Implemented by adapters/sql/repositories/enrollments.py over ``journey_enrollments`` (tables in
adapters/sql/journey_tables.py). The rules every implementation keeps:

* **One enrollment per (journey, trigger occurrence).** Inserting an enrollment whose
  ``(journey_id, trigger_key)`` is stored already writes nothing, so a trigger scan repeated after a
  crash enrolls nobody twice.
* **Leases.** :meth:`EnrollmentRepository.claim_due` leases due enrollments to a token until a time;
  rows another transaction is claiming are skipped (``FOR UPDATE SKIP LOCKED`` on PostgreSQL), and a
  row is leased only while its lease is free (a conditional update, which is what makes SQLite
  safe). :meth:`EnrollmentRepository.write_positions` writes only rows the token still holds and ends
  their leases; a lease that ran out (its worker died) makes the row claimable again.
* **Outbox rows are written once.** :meth:`EnrollmentRepository.add_messages` inserts each message
  id at most once (the id is derived from ``(enrollment, step)``), in the caller's transaction.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from aftersales.core.journeys.facts import FactSource

__all__ = [
    "ENROLLMENT_STATUSES",
    "BulkEnrollment",
    "Contact",
    "EnrollmentRecord",
    "EnrollmentRepository",
    "FactRow",
    "NewMessage",
    "PositionUpdate",
]

ENROLLMENT_STATUSES = ("active", "completed", "exited", "held_out")


@dataclass(frozen=True)
class EnrollmentRecord:
    """One enrollment (``journey_enrollments``, lease columns left out): where a customer stands in a
    journey. ``trigger`` holds the trigger fact's properties; ``variants`` the split variants drawn
    so far (split step id -> variant); ``arm`` is ``journey`` or ``holdout``."""

    enrollment_id: str
    journey_id: str
    customer_id: str
    trigger_key: str
    version: int
    arm: str
    status: str
    entered_at: datetime
    step_id: str | None = None
    wake_at: datetime | None = None
    step_started_at: datetime | None = None
    trigger: Mapping[str, Any] = field(default_factory=dict)
    variants: Mapping[str, str] = field(default_factory=dict)
    exited_at: datetime | None = None
    exit_reason: str | None = None


@dataclass(frozen=True)
class BulkEnrollment:
    """Many enrollments of one journey entering at one time, as columns (a segment's members at once).

    Journey-arm rows start ``active`` at ``first_step`` (not yet begun) due ``wake_at``; held-out rows
    start ``held_out`` with no step. The sequences run in parallel, one entry per customer."""

    journey_id: str
    version: int
    entered_at: datetime
    first_step: str | None
    wake_at: datetime | None
    trigger: Mapping[str, Any]
    enrollment_ids: Sequence[str]
    customer_ids: Sequence[str]
    trigger_keys: Sequence[str]
    held_out: Sequence[bool]


@dataclass(frozen=True)
class PositionUpdate:
    """An enrollment's new position after a step (the core's ``Position``, flattened)."""

    enrollment_id: str
    status: str
    step_id: str | None
    wake_at: datetime | None
    step_started_at: datetime | None
    variants: Mapping[str, str]
    exited_at: datetime | None = None
    exit_reason: str | None = None


@dataclass(frozen=True)
class NewMessage:
    """An outbox row (``journey_messages``) an effect asks for: written ``queued`` with no attempt yet."""

    message_id: str
    enrollment_id: str
    journey_id: str
    step_id: str
    customer_id: str
    channel: str
    category: str
    topic: str
    variant: str | None
    params: Mapping[str, Any]
    not_before: datetime
    created_at: datetime


@dataclass(frozen=True)
class FactRow:
    """One fact: who, what (``name``), when, its key in its table and its properties."""

    name: str
    customer_id: str
    key: str
    occurred_at: datetime
    properties: Mapping[str, Any]


@dataclass(frozen=True)
class Contact:
    """A customer's own zone and locale (None: unknown, the business defaults apply) and consent."""

    customer_id: str
    timezone: str | None
    locale: str | None
    email_consent: bool


class EnrollmentRepository(Protocol):
    """Implemented by adapters/sql/repositories/enrollments.py."""

    # -- entering ---------------------------------------------------------------------------------

    def add(self, rows: Sequence[EnrollmentRecord]) -> list[str]:
        """Insert the enrollments whose ``(journey_id, trigger_key)`` is not stored yet (in bulk);
        the ids that were new."""
        ...

    def add_bulk(self, batch: BulkEnrollment, *, skip_entered_since: datetime | None) -> tuple[int, int]:
        """Insert a bulk batch, leaving out trigger keys already stored and customers who are active
        in the journey or entered it after ``skip_entered_since`` (when given); how many new
        (journey-arm, held-out) rows."""
        ...

    def last_entries(self, journey_id: str, customer_ids: Collection[str]) -> dict[str, tuple[datetime, bool]]:
        """For each of these customers who entered the journey: the latest ``entered_at``, and whether
        an enrollment of theirs is still active (absent: never entered)."""
        ...

    def try_lock_journey(self, journey_id: str) -> bool:
        """Lock the journey's row for this transaction's trigger scan, unless another transaction
        holds it (False: skip it this round). SQLite serialises writers: always True there."""
        ...

    # -- advancing --------------------------------------------------------------------------------

    def claim_due(
        self, journey_ids: Collection[str], now: datetime, *, limit: int, token: str, lease_until: datetime
    ) -> list[EnrollmentRecord]:
        """Lease up to ``limit`` active enrollments of these journeys due at ``now`` (``wake_at <= now``)
        whose lease is free, earliest first, to ``token`` until ``lease_until``."""
        ...

    def hold(self, enrollment_ids: Collection[str], token: str, lease_until: datetime) -> set[str]:
        """Lock, until this transaction ends, those of these enrollments ``token`` still leases, and
        return their ids: nobody can claim or change them meanwhile (PostgreSQL: row locks; SQLite:
        the database's write lock, taken by extending their leases to ``lease_until``)."""
        ...

    def live_journeys(self, journey_ids: Collection[str]) -> dict[str, int]:
        """Version of each of these journeys that is active now; a pause or edit committed by another
        transaction waits for this one to end (PostgreSQL: ``FOR KEY SHARE``)."""
        ...

    def write_positions(self, updates: Sequence[PositionUpdate], token: str) -> int:
        """Store the new positions of enrollments ``token`` leases, ending their leases; how many."""
        ...

    def release(self, enrollment_ids: Collection[str], token: str) -> int:
        """End ``token``'s leases on these enrollments without moving them (they are due again)."""
        ...

    def add_messages(self, messages: Sequence[NewMessage]) -> int:
        """Insert outbox rows (``queued``, no attempt) whose message id is new; how many were new."""
        ...

    def wake(self, journey_id: str, hits: Sequence[tuple[str, str, datetime]], now: datetime) -> int:
        """For each ``(step_id, customer_id, occurred_at)``: make the customer's active enrollment
        waiting at that step since no later than ``occurred_at`` due at ``now``; how many woke."""
        ...

    # -- reading and removing ---------------------------------------------------------------------

    def get(self, enrollment_id: str) -> EnrollmentRecord | None: ...

    def remove(self, enrollment_id: str, at: datetime, reason: str) -> bool:
        """End an active enrollment (``exited`` with ``reason``, lease cleared) and cancel its queued
        messages, in this transaction; False when it was not active."""
        ...

    # -- what the runtime reads to decide ---------------------------------------------------------

    def facts(
        self,
        source: FactSource,
        *,
        since: datetime,
        until: datetime,
        customer_ids: Collection[str] | None = None,
        after: tuple[datetime, str] | None = None,
        limit: int | None = None,
    ) -> list[FactRow]:
        """Facts of ``source`` with time in ``[since, until]`` (of these customers when given), in
        (time, key) order strictly after ``after``; facts without a customer are left out. Their
        properties are JSON-safe (money as float, times and dates as ISO text)."""
        ...

    def profiles(self, customer_ids: Collection[str]) -> dict[str, dict[str, Any]]:
        """The stored profiles (``customer_profiles``) of these customers, column -> value."""
        ...

    def profile_dates(
        self, column: str, lo: datetime, hi: datetime, *, after: str | None = None, limit: int | None = None
    ) -> list[dict[str, Any]]:
        """Profiles whose ``column`` (a date or time stamp) lies in ``[lo, hi]`` (a date column: on the
        UTC days of ``lo`` to ``hi``), in customer order strictly after ``after`` (date rules)."""
        ...

    def running_subscriptions(self, *, after: str | None = None, limit: int | None = None) -> list[dict[str, Any]]:
        """Subscriptions not cancelled (status ``active`` or ``trialing``), in id order (renewal rules)."""
        ...

    def contacts(self, customer_ids: Collection[str]) -> dict[str, Contact]:
        """Zone, locale and consent of these customers (unknown customers are absent)."""
        ...

    def members(self, segment_id: str, customer_ids: Collection[str]) -> set[str]:
        """Those of these customers who are current members of the segment."""
        ...

    def unsubscribed(self, customer_ids: Collection[str], channel: str, topic: str) -> set[str]:
        """Those of these customers who unsubscribed from ``topic`` (or from every topic) on ``channel``."""
        ...

    # last, so that ``list`` in the annotations above is the builtin
    def list(
        self, journey_id: str, *, status: str | None = None, after: str | None = None, limit: int = 100
    ) -> list[EnrollmentRecord]:
        """The journey's enrollments in id order, strictly after ``after``."""
        ...
