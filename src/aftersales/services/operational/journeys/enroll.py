"""Entering journeys: the trigger scan of one journey, and a segment's members all at once.

**The scan** (:func:`scan_journey`, one transaction per journey, the journey's row locked so that
two workers never scan one journey at once; a locked one is skipped this round):

1. the window is ``[max(scanned_until - overlap, activated_at - lookback), now]``: ``overlap``
   catches facts stored late with an earlier time; a journey's first scan reaches back to its
   activation less the trigger's look-back, never further;
2. candidates: the trigger's facts in the window passing its filters
   (:func:`~aftersales.core.journeys.trigger_matches`), or the rows whose date rule falls due in it
   (:func:`.facts.date_candidates`); in time order;
3. the audience: with ``audience: S`` only current members of segment S enter (no such segment:
   nobody);
4. re-entry (:func:`~aftersales.core.journeys.reentry_allowed`) against the customer's stored
   entries and those of this scan;
5. the holdout (:func:`~aftersales.core.journeys.holdout`, the experiment engine's sticky hash under
   the journey's salt): held-out customers get a ``held_out`` row that takes no step; the others
   start at the first step, due now;
6. rows are inserted keyed by ``(journey, trigger key)`` (:func:`enrollment_id`), so a scan repeated
   after a crash enrolls nobody twice;
7. waking: an active enrollment waiting at a ``wait_for_event`` step for a fact that arrived in the
   window (at or after the step began) is made due now;
8. ``scanned_until`` moves to ``now``, in the same transaction.

A paused journey enrolls nobody: the worker moves its cursor along (:func:`skip_paused`), so
resuming does not enroll what happened while it was paused.

**A segment start** (:func:`enroll_segment`): every current member of a segment enters at once
(the journey's audience unless another segment is named; with both, members of both), under the
same audience, re-entry and holdout rules, written in bulk (COPY on PostgreSQL).
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from aftersales.core.errors import ConflictError, NotFoundError, ValidationError
from aftersales.core.journeys import (
    DateTrigger,
    EventTrigger,
    Journey,
    WaitForEventStep,
    holdout,
    reentry_allowed,
    start,
    trigger_matches,
)
from aftersales.services.operational.journeys.definitions import journey_of
from aftersales.services.operational.journeys.enrollments import find_journey
from aftersales.services.operational.journeys.facts import Candidate, date_candidates, occurrence, window
from aftersales.services.ports import UnitOfWork, UnitOfWorkFactory
from aftersales.services.ports_enrollments import BulkEnrollment, EnrollmentRecord
from aftersales.services.ports_journeys import JourneyRecord

__all__ = [
    "DEFAULT_OVERLAP",
    "Entered",
    "ScanResult",
    "audience_members",
    "candidate_pages",
    "enroll_segment",
    "enrollment_id",
    "scan_journey",
    "scan_window",
    "skip_paused",
]

DEFAULT_OVERLAP = timedelta(minutes=10)
EVER = datetime(1, 1, 1, tzinfo=UTC)
log = logging.getLogger("aftersales.journeys")


def enrollment_id(journey_id: str, trigger_key: str) -> str:
    """``enr_`` + blake2b(``journey_id|trigger_key``, 10 bytes): the same trigger, the same id.

    >>> enrollment_id("jny_1", "o-17") == enrollment_id("jny_1", "o-17") != enrollment_id("jny_2", "o-17")
    True
    """
    return "enr_" + hashlib.blake2b(f"{journey_id}|{trigger_key}".encode(), digest_size=10).hexdigest()


@dataclass(frozen=True)
class ScanResult:
    """What one scan of one journey did."""

    journey_id: str
    since: datetime
    until: datetime
    candidates: int
    enrolled: int
    held_out: int
    woken: int


@dataclass(frozen=True)
class Entered:
    """What a segment start did: members considered, entered (journey arm, holdout), left out
    (re-entry, already entered with this start, or outside the journey's audience)."""

    journey_id: str
    segment_id: str
    members: int
    enrolled: int
    held_out: int
    skipped: int


def scan_window(
    record: JourneyRecord, journey: Journey, now: datetime, overlap: timedelta
) -> tuple[datetime, datetime]:
    """``[since, now]`` of the next scan (module docstring, step 1)."""
    floor = (record.activated_at or now) - journey.trigger.lookback
    since = floor if record.scanned_until is None else max(floor, record.scanned_until - overlap)
    return min(since, now), now


def skip_paused(uow: UnitOfWorkFactory, record: JourneyRecord, now: datetime) -> None:
    """Move a paused journey's cursor to ``now``: what happens while it is paused enrolls nobody."""
    with uow() as u:
        if u.enrollments.try_lock_journey(record.journey_id):
            current = u.journeys.get(record.journey_id)
            if current is not None and current.status == "paused":
                u.journeys.set_scanned_until(record.journey_id, now)


def scan_journey(
    uow: UnitOfWorkFactory, record: JourneyRecord, now: datetime, *, overlap: timedelta = DEFAULT_OVERLAP
) -> ScanResult | None:
    """Scan one active journey's triggers and wake its waiting enrollments (module docstring);
    None when another worker is scanning it or it is no longer active."""
    with uow() as u:
        if not u.enrollments.try_lock_journey(record.journey_id):
            return None
        current = u.journeys.get(record.journey_id)
        if current is None or current.status != "active":
            return None
        journey = journey_of(current)
        since, until = scan_window(current, journey, now, overlap)
        seen = enrolled = held = 0
        for page in candidate_pages(u, journey, since, until):
            seen += len(page)
            new_journey, new_held = _enter(u, current, journey, page, now)
            enrolled, held = enrolled + new_journey, held + new_held
        woken = _wake(u, current.journey_id, journey, since, until, now)
        u.journeys.set_scanned_until(current.journey_id, now)
    return ScanResult(current.journey_id, since, until, seen, enrolled, held, woken)


def candidate_pages(u: UnitOfWork, journey: Journey, since: datetime, until: datetime) -> Iterable[list[Candidate]]:
    """The trigger's candidates in ``[since, until]`` (module docstring, step 2), a page at a time."""
    trigger = journey.trigger
    if isinstance(trigger, DateTrigger):
        yield from date_candidates(u, trigger, since, until)
        return
    assert isinstance(trigger, EventTrigger)
    for rows in window(u, trigger.event, since, until):
        yield [
            Candidate(r.customer_id, r.occurred_at, r.key, r.properties)
            for r in rows
            if trigger_matches(journey, occurrence(r))
        ]


def audience_members(u: UnitOfWork, journey: Journey, customers: Iterable[str]) -> set[str] | None:
    """The customers among ``customers`` in the journey's audience (None: the journey has none)."""
    if journey.audience is None:
        return None
    segment = u.segments.by_name(journey.audience)
    if segment is None:
        log.warning("journey %s: audience segment %r does not exist; nobody enters", journey.name, journey.audience)
        return set()
    return u.enrollments.members(segment.segment_id, set(customers))


def _enter(
    u: UnitOfWork, record: JourneyRecord, journey: Journey, candidates: list[Candidate], now: datetime
) -> tuple[int, int]:
    """Insert the enrollments ``candidates`` make (steps 3-6); how many new (journey arm, holdout)."""
    if not candidates:
        return 0, 0
    customers = {c.customer_id for c in candidates}
    allowed = audience_members(u, journey, customers)
    last = u.enrollments.last_entries(record.journey_id, customers)
    first = start(journey, now)
    rows: list[EnrollmentRecord] = []
    for c in candidates:
        if allowed is not None and c.customer_id not in allowed:
            continue
        entered, active = last.get(c.customer_id, (None, False))
        if not reentry_allowed(journey, last_entered_at=entered, active=active, at=now):
            continue
        held = holdout(journey, record.salt, c.customer_id)
        last[c.customer_id] = (now, not held)
        rows.append(
            EnrollmentRecord(
                enrollment_id=enrollment_id(record.journey_id, c.trigger_key),
                journey_id=record.journey_id,
                customer_id=c.customer_id,
                trigger_key=c.trigger_key,
                version=record.version,
                arm="holdout" if held else "journey",
                status="held_out" if held else first.status,
                entered_at=now,
                step_id=None if held else first.step_id,
                wake_at=None if held else first.wake_at,
                step_started_at=None if held else first.step_started_at,
                trigger=c.properties,
            )
        )
    new = set(u.enrollments.add(rows))
    held_new = sum(1 for r in rows if r.enrollment_id in new and r.arm == "holdout")
    return len(new) - held_new, held_new


def _wake(u: UnitOfWork, journey_id: str, journey: Journey, since: datetime, until: datetime, now: datetime) -> int:
    """Step 7: make enrollments waiting for a fact that arrived in the window due now."""
    steps: dict[str, list[str]] = {}
    for step in journey.steps:
        if isinstance(step, WaitForEventStep):
            steps.setdefault(step.event, []).append(step.id)
    woken = 0
    for name, step_ids in sorted(steps.items()):
        for rows in window(u, name, since, until):
            hits = [(s, r.customer_id, r.occurred_at) for r in rows for s in step_ids]
            woken += u.enrollments.wake(journey_id, hits, now)
    return woken


def enroll_segment(
    uow: UnitOfWorkFactory, ref: str, now: datetime, *, segment: str | None = None, key: str = "start"
) -> Entered:
    """Enroll every current member of ``segment`` (default: the journey's audience) into the active
    journey ``ref`` (id or name) at ``now``, in one transaction. ``key`` names this start: the same
    start repeated enrolls nobody twice; another key starts the segment again (re-entry rules apply)."""
    with uow() as u:
        record = find_journey(u, ref, for_update=True)
        if record.status != "active":
            raise ConflictError(f"journey {record.name!r} is {record.status}: only an active journey can be started")
        journey = journey_of(record)
        name = segment or journey.audience
        if name is None:
            raise ValidationError(f"journey {record.name!r} has no audience: name the segment to start it with")
        found = u.segments.by_name(name)
        if found is None:
            raise NotFoundError(f"no segment {name!r}")
        members = u.memberships.current(found.segment_id).to_pylist()
        ids = [str(m) for m in members]
        if journey.audience is not None and journey.audience != name:
            audience = u.segments.by_name(journey.audience)
            inside = set(u.memberships.current(audience.segment_id).to_pylist()) if audience else set()
            ids = [c for c in ids if c in inside]
        first = start(journey, now)
        keys = [f"segment|{found.segment_id}|{key}|{c}" for c in ids]
        batch = BulkEnrollment(
            journey_id=record.journey_id,
            version=record.version,
            entered_at=now,
            first_step=first.step_id,
            wake_at=first.wake_at,
            trigger={"segment": name, "start": key},
            enrollment_ids=[enrollment_id(record.journey_id, k) for k in keys],
            customer_ids=ids,
            trigger_keys=keys,
            held_out=[holdout(journey, record.salt, c) for c in ids],
        )
        reentry = journey.reentry
        since = EVER if reentry.mode == "never" else (now - reentry.after if reentry.after is not None else None)
        enrolled, held = u.enrollments.add_bulk(batch, skip_entered_since=since)
    return Entered(record.journey_id, found.segment_id, len(members), enrolled, held, len(members) - enrolled - held)
