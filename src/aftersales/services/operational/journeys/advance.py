"""Advancing due enrollments: claim, decide with the pure core, write position and effects at once.

One batch (:func:`advance_due`):

1. **claim** (its own short transaction): up to ``limit`` active enrollments of active journeys with
   ``wake_at <= now`` and a free lease are leased to a fresh token until ``now + lease``
   (``FOR UPDATE SKIP LOCKED`` on PostgreSQL, so several workers share the due rows; a conditional
   update on SQLite). A worker that dies after this holds nothing but the lease: when it runs out
   the rows are claimed again, by anyone.
2. **decide and write** (one transaction): the rows the token still leases are held (their locks
   taken); the journeys are read again (``FOR KEY SHARE`` on PostgreSQL), so a journey paused or
   archived since the claim advances nothing (its rows are released), and one edited since is
   decided under its new version; the facts are read (profile row, the customer's zone, with
   ``Settings.default_timezone`` for customers without one, the facts the journey listens to since
   entry, audience membership, unsubscribes from the journey's topic); the core decides
   (:func:`aftersales.core.journeys.advance`); the new positions, and one outbox row per effect
   (``journey_messages``, ``queued``, ``not_before = now``, id :func:`message_id` per (enrollment,
   step)), are written together and commit together. A crash before the commit writes nothing; a
   second attempt writes the same message ids, which are inserted once.

An enrollment the core cannot decide (a definition that breaks an invariant) leaves with
``exit_reason`` ``error: ...`` instead of stalling the batch (one bad row never holds up the others).
"""

from __future__ import annotations

import hashlib
import logging
import secrets
from collections import defaultdict
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

from aftersales.core.journeys import ACTION_KINDS, ACTIVE, EXITED, Decision, Facts, Journey, Position, advance
from aftersales.core.localtime import customer_zone
from aftersales.services.operational.journeys.definitions import journey_of
from aftersales.services.operational.journeys.facts import occurrences
from aftersales.services.ports import UnitOfWork, UnitOfWorkFactory
from aftersales.services.ports_enrollments import EnrollmentRecord, NewMessage, PositionUpdate
from aftersales.services.ports_journeys import JourneyRecord

__all__ = [
    "DEFAULT_LEASE",
    "Advanced",
    "advance_due",
    "decide",
    "facts_for",
    "message_id",
    "new_messages",
    "position_of",
    "position_update",
    "zones",
]

DEFAULT_LEASE = timedelta(minutes=5)
log = logging.getLogger("aftersales.journeys")


def message_id(enrollment_id: str, step_id: str) -> str:
    """``msg_`` + blake2b(``enrollment_id|step_id``, 10 bytes): one key per (enrollment, step).

    >>> message_id("enr_1", "thanks") == message_id("enr_1", "thanks") != message_id("enr_1", "nudge")
    True
    """
    return "msg_" + hashlib.blake2b(f"{enrollment_id}|{step_id}".encode(), digest_size=10).hexdigest()


@dataclass(frozen=True)
class Advanced:
    """What one batch did: rows claimed, advanced (decided and written), steps processed, outbox rows
    written, enrollments that completed or exited, rows released (journey paused or lease lost)."""

    claimed: int = 0
    advanced: int = 0
    steps: int = 0
    messages: int = 0
    completed: int = 0
    exited: int = 0
    released: int = 0


def position_of(e: EnrollmentRecord) -> Position:
    return Position(e.step_id, e.status, e.wake_at, e.step_started_at, dict(e.variants), e.exit_reason)


def position_update(enrollment_id: str, position: Position, now: datetime) -> PositionUpdate:
    ended = position.status != ACTIVE
    return PositionUpdate(
        enrollment_id=enrollment_id,
        status=position.status,
        step_id=position.step_id,
        wake_at=position.wake_at if not ended else None,
        step_started_at=position.step_started_at,
        variants=position.variants,
        exited_at=now if ended else None,
        exit_reason=position.exit_reason,
    )


def new_messages(e: EnrollmentRecord, decision: Decision, now: datetime) -> list[NewMessage]:
    """The outbox rows of a decision's effects (``not_before = now``)."""
    out = []
    for effect in decision.effects:
        kind = ACTION_KINDS.get(effect.kind)
        out.append(
            NewMessage(
                message_id=message_id(e.enrollment_id, effect.step_id),
                enrollment_id=e.enrollment_id,
                journey_id=e.journey_id,
                step_id=effect.step_id,
                customer_id=e.customer_id,
                channel=kind.channel if kind is not None else effect.kind,
                category=effect.category,
                topic=effect.topic,
                variant=effect.variant,
                params=effect.params,
                not_before=now,
                created_at=now,
            )
        )
    return out


def decide(journey: Journey, enrollment_id: str, position: Position, facts: Facts) -> Decision:
    """The core's decision, or an exit naming the error when the core cannot decide."""
    try:
        return advance(journey, position, facts)
    except Exception as exc:  # noqa: BLE001 - one bad enrollment must not stall the batch
        log.warning("enrollment %s: step failed (%s); it leaves the journey", enrollment_id, type(exc).__name__)
        reason = f"error: {type(exc).__name__}: {str(exc)[:200]}"
        failed = Position(position.step_id, EXITED, None, position.step_started_at, position.variants, reason)
        return Decision(failed, (), ())


@lru_cache(maxsize=4096)
def _zone(name: str | None, default: str) -> ZoneInfo:
    return customer_zone(name, default)


def zones(u: UnitOfWork, customers: Collection[str], default_zone: str) -> dict[str, ZoneInfo]:
    """Each customer's own zone, ``default_zone`` for those without one (or unknown to the store)."""
    contacts = u.enrollments.contacts(customers)
    return {c: _zone(contacts[c].timezone if c in contacts else None, default_zone) for c in customers}


def facts_for(
    u: UnitOfWork,
    record: JourneyRecord,
    journey: Journey,
    enrollments: Sequence[EnrollmentRecord],
    now: datetime,
    default_zone: str,
) -> dict[str, Facts]:
    """The core's :class:`~aftersales.core.journeys.Facts` for each enrollment (by id), read in a few
    queries for the whole batch."""
    customers = {e.customer_id for e in enrollments}
    zone = zones(u, customers, default_zone)
    profiles = u.enrollments.profiles(customers)
    entered: dict[str, datetime] = {}
    for e in enrollments:
        entered[e.customer_id] = min(e.entered_at, entered.get(e.customer_id, e.entered_at))
    seen = occurrences(u, journey, entered, now)
    audience: set[str] | None = None
    if journey.audience is not None and journey.exit.left_segment:
        segment = u.segments.by_name(journey.audience)
        audience = u.enrollments.members(segment.segment_id, customers) if segment is not None else set()
    unsubscribed = u.enrollments.unsubscribed(customers, "email", journey.topic) if journey.exit.unsubscribed else set()
    out = {}
    for e in enrollments:
        out[e.enrollment_id] = Facts(
            now=now,
            customer_id=e.customer_id,
            zone=zone[e.customer_id],
            entered_at=e.entered_at,
            salt=record.salt,
            profile=profiles.get(e.customer_id, {}),
            trigger=e.trigger,
            occurrences=[o for o in seen.get(e.customer_id, ()) if o.occurred_at >= e.entered_at],
            in_audience=None if audience is None else e.customer_id in audience,
            unsubscribed=e.customer_id in unsubscribed,
        )
    return out


def advance_due(
    uow: UnitOfWorkFactory,
    journey_ids: Sequence[str],
    now: datetime,
    *,
    default_zone: str = "UTC",
    limit: int = 500,
    lease: timedelta = DEFAULT_LEASE,
) -> Advanced:
    """Claim and advance one batch of due enrollments of these journeys (module docstring)."""
    token = secrets.token_hex(8)
    with uow() as u:
        claimed = u.enrollments.claim_due(journey_ids, now, limit=limit, token=token, lease_until=now + lease)
    if not claimed:
        return Advanced()
    return _write(uow, claimed, now, token, default_zone, lease)


def _write(
    uow: UnitOfWorkFactory,
    claimed: Sequence[EnrollmentRecord],
    now: datetime,
    token: str,
    default_zone: str,
    lease: timedelta,
) -> Advanced:
    by_journey: dict[str, list[EnrollmentRecord]] = defaultdict(list)
    with uow() as u:
        held = u.enrollments.hold([e.enrollment_id for e in claimed], token, now + lease)
        for e in claimed:
            if e.enrollment_id in held:
                by_journey[e.journey_id].append(e)
        live = u.enrollments.live_journeys(list(by_journey))
        updates: list[PositionUpdate] = []
        messages: list[NewMessage] = []
        release: list[str] = []
        steps = completed = exited = 0
        for journey_id, rows in sorted(by_journey.items()):
            record = u.journeys.get(journey_id) if journey_id in live else None
            if record is None or record.status != "active":
                release += [e.enrollment_id for e in rows]
                continue
            journey = journey_of(record)
            facts = facts_for(u, record, journey, rows, now, default_zone)
            for e in rows:
                decision = decide(journey, e.enrollment_id, position_of(e), facts[e.enrollment_id])
                updates.append(position_update(e.enrollment_id, decision.position, now))
                messages += new_messages(e, decision, now)
                steps += len(decision.visited)
                completed += decision.position.status == "completed"
                exited += decision.position.status == EXITED
        u.enrollments.write_positions(updates, token)
        written = u.enrollments.add_messages(messages)
        if release:
            u.enrollments.release(release, token)
    return Advanced(len(claimed), len(updates), steps, written, completed, exited, len(release))
