"""Previewing a journey on the real store without writing anything: who would get what, and when.

:func:`simulate` runs the same machine the worker runs (:func:`aftersales.core.journeys.advance`,
the same trigger filters, audience, re-entry and holdout rules) on a
:class:`~aftersales.services.clock.ManualClock`, in memory, from ``start`` for ``days`` days:

* **who enters**: the trigger's facts stored with a time in ``[start - lookback, end]`` (a fact
  before ``start`` enters at ``start``, as at activation), or the date rules falling due in that
  range; current members of the audience only; re-entry against the journey's stored entries and
  the simulated ones; the holdout drawn with the journey's salt, as enrollment would;
* **what runs**: the journey's enrollments active in the store now continue from their positions,
  and each simulated one starts at its first step; each is advanced at its wake time, and at the
  time of each stored fact it waits for (as the worker's wake does);
* **what it knows**: the store as it is now: profiles, zones (the business default for customers
  without one), unsubscribes, and facts stored with times up to ``end``. Facts that have not
  happened yet are unknown: from ``start = now`` on, event triggers enroll only what the look-back
  reaches, and nothing arrives to wake a waiting step early. ``start`` in the past replays the
  store's history instead ("had this journey run since March").

Effects are counted by day and step (the time a worker would queue them; quiet hours, frequency
caps, consent and the send rate may defer or skip a message at send time) with a sample of them.
Nothing is written: the store is only read, in one unit of work.
"""

from __future__ import annotations

import heapq
from collections import Counter, defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from aftersales.core.journeys import (
    ACTIVE,
    Effect,
    Facts,
    Journey,
    Occurrence,
    Position,
    WaitForEventStep,
    holdout,
    reentry_allowed,
    start,
)
from aftersales.services.clock import ManualClock
from aftersales.services.operational.journeys.advance import decide, position_of, zones
from aftersales.services.operational.journeys.definitions import journey_of
from aftersales.services.operational.journeys.enroll import audience_members, candidate_pages
from aftersales.services.operational.journeys.enrollments import find_journey
from aftersales.services.operational.journeys.facts import Candidate, occurrences
from aftersales.services.ports import UnitOfWork, UnitOfWorkFactory
from aftersales.services.ports_enrollments import EnrollmentRecord

__all__ = ["SimulatedEffect", "Simulation", "simulate"]

_PAGE = 5_000


@dataclass(frozen=True)
class SimulatedEffect:
    """One effect the journey would queue: for whom, when, which step, what (template or URL)."""

    customer_id: str
    at: datetime
    step_id: str
    kind: str
    what: str | None
    variant: str | None


@dataclass(frozen=True)
class Simulation:
    """A journey's preview (see the module): entries, effects per day and step, how enrollments ended."""

    journey: str
    start: datetime
    end: datetime
    candidates: int
    enrolled: int
    held_out: int
    skipped: int
    continued: int
    effects: int
    per_step: Mapping[str, int]
    per_day: Mapping[str, Mapping[str, int]]
    completed: int
    exited: Mapping[str, int]
    active_at_end: int
    sample: tuple[SimulatedEffect, ...]
    notes: tuple[str, ...]


@dataclass
class _State:
    enrollment: EnrollmentRecord
    position: Position


def simulate(
    uow: UnitOfWorkFactory,
    ref: str,
    days: float,
    *,
    start_at: datetime,
    now: datetime | None = None,
    default_zone: str = "UTC",
    sample: int = 20,
) -> Simulation:
    """Preview the stored journey ``ref`` (id or name) over ``days`` days from ``start_at`` (module
    docstring); ``now`` (default ``start_at``) says where the store's knowledge ends, for the notes."""
    end = start_at + timedelta(days=days)
    with uow() as u:
        record = find_journey(u, ref)
        journey = journey_of(record)
        running = _running(u, record.journey_id)
        pages = candidate_pages(u, journey, start_at - journey.trigger.lookback, end)
        found = sorted((c for page in pages for c in page), key=lambda c: (c.at, c.trigger_key))
        customers = {c.customer_id for c in found} | {e.customer_id for e in running}
        first_seen: dict[str, datetime] = {}
        for cid, at in [(e.customer_id, e.entered_at) for e in running] + [
            (c.customer_id, max(c.at, start_at)) for c in found
        ]:
            first_seen[cid] = min(at, first_seen.get(cid, at))
        world = _World(
            journey=journey,
            salt=record.salt,
            zones=zones(u, customers, default_zone),
            profiles=u.enrollments.profiles(customers),
            unsubscribed=u.enrollments.unsubscribed(customers, "email", journey.topic)
            if journey.exit.unsubscribed
            else set(),
            members=audience_members(u, journey, customers) if journey.exit.left_segment else None,
            seen=occurrences(u, journey, first_seen, end),
        )
        allowed = audience_members(u, journey, customers)
        last = u.enrollments.last_entries(record.journey_id, customers)
    run = _Run(world, ManualClock(start_at), end)
    for e in running:
        run.add(e, position_of(e))
    for i, c in enumerate(found):
        heapq.heappush(run.queue, (max(c.at, start_at), 0, i))
    held = skipped = 0
    while run.queue:
        at, kind, i = heapq.heappop(run.queue)
        if kind == 1:
            run.step(at, i)
            continue
        c = found[i]
        active = any(run.states[j].position.status == ACTIVE for j in run.by_customer.get(c.customer_id, ()))
        entered = last[c.customer_id][0] if c.customer_id in last else None  # stored active ones are states
        if (allowed is not None and c.customer_id not in allowed) or not reentry_allowed(
            journey, last_entered_at=entered, active=active, at=at
        ):
            skipped += 1
            continue
        last[c.customer_id] = (at, False)
        if holdout(journey, record.salt, c.customer_id):
            held += 1
            continue
        first = start(journey, at)
        e = EnrollmentRecord(
            f"sim{i}", record.journey_id, c.customer_id, c.trigger_key, record.version, "journey", ACTIVE, at,
            first.step_id, first.wake_at, None, c.properties,
        )  # fmt: skip
        run.add(e, first)
    future = end > (now or start_at)
    return _summary(record.name, journey, start_at, end, found, run, held, skipped, len(running), sample, future)


def _running(u: UnitOfWork, journey_id: str) -> list[EnrollmentRecord]:
    """The journey's enrollments active in the store now (they continue in the preview)."""
    out: list[EnrollmentRecord] = []
    after: str | None = None
    while True:
        page = u.enrollments.list(journey_id, status=ACTIVE, after=after, limit=_PAGE)
        out += page
        if len(page) < _PAGE:
            return out
        after = page[-1].enrollment_id


@dataclass(frozen=True)
class _World:
    """What the preview knows about the customers (the store as it is now)."""

    journey: Journey
    salt: str
    zones: Mapping[str, ZoneInfo]
    profiles: Mapping[str, Mapping[str, Any]]
    unsubscribed: set[str]
    members: set[str] | None
    seen: Mapping[str, list[Occurrence]]


class _Run:
    """The simulated enrollments and the queue of due times: ``(at, 0, candidate)`` enters a
    candidate, ``(at, 1, state)`` advances a state (entries first at equal times)."""

    def __init__(self, world: _World, clock: ManualClock, end: datetime) -> None:
        self.world, self.clock, self.end = world, clock, end
        self.states: list[_State] = []
        self.by_customer: dict[str, list[int]] = defaultdict(list)
        self.queue: list[tuple[datetime, int, int]] = []
        self.effects: list[tuple[datetime, str, Effect]] = []
        self.waited = {s.event for s in world.journey.steps if isinstance(s, WaitForEventStep)}

    def add(self, e: EnrollmentRecord, position: Position) -> None:
        i = len(self.states)
        self.states.append(_State(e, position))
        self.by_customer[e.customer_id].append(i)
        if position.wake_at is not None and position.wake_at <= self.end:
            heapq.heappush(self.queue, (max(position.wake_at, self.clock.now()), 1, i))
        for o in self.world.seen.get(e.customer_id, ()):  # the worker wakes a waiting step when its fact arrives
            if (
                o.name in self.waited
                and self.clock.now() <= o.occurred_at <= self.end
                and o.occurred_at >= e.entered_at
            ):
                heapq.heappush(self.queue, (o.occurred_at, 1, i))

    def step(self, at: datetime, i: int) -> None:
        s, world = self.states[i], self.world
        e, cid = s.enrollment, s.enrollment.customer_id
        if s.position.status != ACTIVE:
            return
        self.clock.set(max(at, self.clock.now()))
        now = self.clock.now()
        facts = Facts(
            now=now, customer_id=cid, zone=world.zones[cid], entered_at=e.entered_at, salt=world.salt,
            profile=world.profiles.get(cid, {}), trigger=e.trigger,
            occurrences=[o for o in world.seen.get(cid, ()) if o.occurred_at >= e.entered_at],
            in_audience=None if world.members is None else cid in world.members, unsubscribed=cid in world.unsubscribed,
        )  # fmt: skip
        decision = decide(world.journey, e.enrollment_id, s.position, facts)
        s.position = decision.position
        self.effects += [(now, cid, effect) for effect in decision.effects]
        wake = s.position.wake_at
        if s.position.status == ACTIVE and wake is not None and wake <= self.end:
            heapq.heappush(self.queue, (max(wake, now), 1, i))


def _summary(
    name: str,
    journey: Journey,
    start_at: datetime,
    end: datetime,
    found: list[Candidate],
    run: _Run,
    held: int,
    skipped: int,
    continued: int,
    sample: int,
    future: bool,
) -> Simulation:
    per_day: dict[str, Counter[str]] = defaultdict(Counter)
    per_step: Counter[str] = Counter()
    for at, _, eff in run.effects:
        per_day[at.date().isoformat()][eff.step_id] += 1
        per_step[eff.step_id] += 1
    ordered = sorted(run.effects, key=lambda x: (x[0], x[1], x[2].step_id))[:sample]
    shown = tuple(
        SimulatedEffect(cid, at, eff.step_id, eff.kind, _what(eff.params), eff.variant) for at, cid, eff in ordered
    )
    statuses = Counter(s.position.status for s in run.states)
    exited = Counter(s.position.exit_reason or "" for s in run.states if s.position.status == "exited")
    notes = ["quiet hours, frequency caps, consent and the send rate apply at send time and may defer or skip"]
    if future:
        notes.append(
            "facts after now are unknown: from now on nobody enters by an event trigger and no awaited event "
            "arrives (--start a past day replays the store's history)"
        )
    return Simulation(
        journey=name,
        start=start_at,
        end=end,
        candidates=len(found),
        enrolled=len(run.states) - continued,
        held_out=held,
        skipped=skipped,
        continued=continued,
        effects=len(run.effects),
        per_step=dict(per_step),
        per_day={day: dict(c) for day, c in sorted(per_day.items())},
        completed=statuses.get("completed", 0),
        exited=dict(exited),
        active_at_end=statuses.get(ACTIVE, 0),
        sample=shown,
        notes=tuple(notes),
    )


def _what(params: Mapping[str, Any]) -> str | None:
    for key in ("template", "url"):
        if key in params:
            return str(params[key])
    return None
