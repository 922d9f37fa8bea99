"""The enrollment state machine: from a position, the facts and ``now``, the next position and
the effects due (pure: it never sends, stores or reads a clock).

An enrollment's :class:`Position` is the step it stands at, its status (``active``,
``completed``, ``exited``), when it wants to be advanced next (``wake_at``), when it reached its
step (``step_started_at``; ``None`` until it has) and the split variants it was given.
:func:`start` places a new enrollment at the first step, due at once. :func:`advance` then:

1. does nothing to a position that is not ``active``;
2. applies the **exit rules** before any step (:func:`exit_reason`): a goal or exit event after
   entry, an unsubscribe from the journey's topic, leaving the audience segment;
3. exits with ``step removed`` when the journey (a new version of it) no longer has the step;
4. **runs steps** from the current one until a wait that is not over, an exit step or the end:

   * ``wait``: wakes at ``step_started_at + duration``;
   * ``wait_until``: wakes at the first instant at or after ``step_started_at`` when the
     customer's wall clock (``facts.zone``) reads ``at`` on an allowed day (DST rules of
     :func:`aftersales.core.localtime.next_local_time`);
   * ``wait_for_event``: wakes at ``step_started_at + timeout``; an occurrence of ``event``
     (passing the step's filters) at or after ``step_started_at`` and at or before both ``now`` and
     that timeout moves on to ``on_event`` (the earliest such occurrence; its properties are the
     ``event.*`` fields of the conditions that follow in this advance), else once ``now`` reaches
     the timeout to ``on_timeout``;
   * ``branch``: the first case whose condition holds, else ``default``;
   * ``split``: the variant remembered in ``position.variants``, else
     ``Experiment(f"{journey.name}:{step.id}", names, weights, salt=facts.salt).assign(customer_id)``
     (sticky by hashing, then remembered);
   * action steps (``email``, ``webhook``, ... :data:`~.model.ACTION_KINDS`): one :class:`Effect`;
   * ``exit``, or falling off the last step: ``completed``.

   A step reached in this advance starts at ``now`` (a late worker shifts later steps by its
   lateness, never earlier); a wait recomputes its wake from ``step_started_at`` and the current
   definition on every advance, so an edited duration applies to enrollments already waiting and
   an early advance (an event arrived) loses nothing. Missing ``next``/``on_event``/``on_timeout``/
   ``default``/variant ``next`` fall through to the following step. A run that processes more
   than :data:`MAX_STEPS_PER_ADVANCE` steps (or more than the journey has, if that is more) exits
   with ``loop``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

from aftersales.core.errors import ValidationError
from aftersales.core.experiments.assignment import Experiment, HoldoutGroup
from aftersales.core.journeys.conditions import evaluate
from aftersales.core.journeys.model import (
    ActionStep,
    BranchStep,
    ExitStep,
    Journey,
    SplitStep,
    WaitForEventStep,
    WaitStep,
    WaitUntilStep,
)
from aftersales.core.localtime import next_local_time

__all__ = [
    "ACTIVE",
    "COMPLETED",
    "EXITED",
    "MAX_STEPS_PER_ADVANCE",
    "Decision",
    "Effect",
    "Facts",
    "Occurrence",
    "Position",
    "advance",
    "exit_reason",
    "holdout",
    "start",
]

ACTIVE, COMPLETED, EXITED = "active", "completed", "exited"
MAX_STEPS_PER_ADVANCE = 100


@dataclass(frozen=True)
class Position:
    """Where an enrollment stands (module docstring). A completed or exited position keeps the step
    where it ended (``step_id``, ``step_started_at``), ``wake_at`` is ``None``, and ``exit_reason``
    says why it exited (``goal``, ``event <name>``, ``unsubscribed``, ``left segment``,
    ``step removed``, ``loop``; ``None`` when completed)."""

    step_id: str | None
    status: str
    wake_at: datetime | None
    step_started_at: datetime | None
    variants: Mapping[str, str] = field(default_factory=dict)
    exit_reason: str | None = None


@dataclass(frozen=True)
class Occurrence:
    """One fact that happened to the customer: its name, time, key (its row's key) and properties."""

    name: str
    occurred_at: datetime
    key: str
    properties: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Facts:
    """What :func:`advance` knows about the customer at ``now``.

    ``occurrences`` are the customer's facts since entry whose names the journey listens to
    (:meth:`~.model.Journey.listens_to`); ``in_audience`` is ``None`` when unknown (the journey
    has no audience, or it was not evaluated); ``unsubscribed`` is for the journey's topic.
    """

    now: datetime
    customer_id: str
    zone: ZoneInfo
    entered_at: datetime
    salt: str
    profile: Mapping[str, Any] = field(default_factory=dict)
    trigger: Mapping[str, Any] = field(default_factory=dict)
    occurrences: Sequence[Occurrence] = ()
    in_audience: bool | None = None
    unsubscribed: bool = False


@dataclass(frozen=True)
class Effect:
    """An action due now: ``kind`` (``email``, ``webhook``, ...) with the step's own fields as
    ``params``, the category and topic it is sent under, and the customer's latest split variant."""

    step_id: str
    kind: str
    params: Mapping[str, Any]
    category: str
    topic: str
    variant: str | None


@dataclass(frozen=True)
class Decision:
    """The new position, the effects due now (in step order) and the steps this advance processed."""

    position: Position
    effects: tuple[Effect, ...]
    visited: tuple[str, ...]


def _aware(now: datetime) -> datetime:
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValidationError("journey times must be timezone-aware (UTC)")
    return now


def start(journey: Journey, now: datetime) -> Position:
    """A new enrollment: at the first step, not yet started, due at ``now``."""
    return Position(journey.steps[0].id, ACTIVE, _aware(now), None, {}, None)


def holdout(journey: Journey, salt: str, customer_id: str) -> bool:
    """Whether the customer is in the journey's holdout (``HoldoutGroup(journey.name,
    journey.holdout, salt)``: a deterministic hash, so the same customer always gets the same answer)."""
    return _holdout_group(journey.name, journey.holdout, salt).contains(customer_id)


@lru_cache(maxsize=256)
def _holdout_group(key: str, fraction: float, salt: str) -> HoldoutGroup:
    return HoldoutGroup(key=key, fraction=fraction, salt=salt)


@lru_cache(maxsize=1024)
def _experiment(key: str, names: tuple[str, ...], weights: tuple[float, ...], salt: str) -> Experiment:
    return Experiment(key, names, weights, salt=salt)


def exit_reason(journey: Journey, facts: Facts) -> str | None:
    """Why the enrollment must leave now, or ``None``; checked in this order:

    1. an exit event (``exit.on_events``) or, with ``exit.on_goal``, the goal event within
       ``goal.within`` of entry, occurring after ``entered_at`` and at or before ``now``: the
       earliest such occurrence gives ``goal`` or ``event <name>``;
    2. ``exit.unsubscribed`` and the customer unsubscribed from the topic: ``unsubscribed``;
    3. ``exit.left_segment`` and the customer is known to be out of the audience: ``left segment``.
    """
    rules, goal = journey.exit, journey.goal
    found: tuple[datetime, str] | None = None
    for occ in facts.occurrences:
        if not facts.entered_at < occ.occurred_at <= facts.now:
            continue
        if rules.on_goal and occ.name == goal.event and occ.occurred_at <= facts.entered_at + goal.within:
            reason = "goal"
        elif occ.name in rules.on_events:
            reason = f"event {occ.name}"
        else:
            continue
        if found is None or occ.occurred_at < found[0]:
            found = (occ.occurred_at, reason)
    if found is not None:
        return found[1]
    if rules.unsubscribed and facts.unsubscribed:
        return "unsubscribed"
    if rules.left_segment and journey.audience is not None and facts.in_audience is False:
        return "left segment"
    return None


def _left(position: Position, status: str, reason: str | None) -> Position:
    return replace(position, status=status, wake_at=None, exit_reason=reason)


def advance(journey: Journey, position: Position, facts: Facts) -> Decision:
    """The next position and the effects due, by the rules of the module docstring."""
    now = _aware(facts.now)
    if position.status != ACTIVE:
        return Decision(position, (), ())
    reason = exit_reason(journey, facts)
    if reason is not None:
        return Decision(_left(position, EXITED, reason), (), ())
    if position.step_id is None or journey.step(position.step_id) is None:
        return Decision(_left(position, EXITED, "step removed"), (), ())
    return _Run(journey, position, facts, now).go()


class _Run:
    """One advance: walks the steps from the position's, collecting effects."""

    def __init__(self, journey: Journey, position: Position, facts: Facts, now: datetime) -> None:
        self.journey, self.position, self.facts, self.now = journey, position, facts, now
        self.variants: dict[str, str] = dict(position.variants)
        self.effects: list[Effect] = []
        self.visited: list[str] = []
        self.event: Mapping[str, Any] | None = None

    def decision(self, position: Position) -> Decision:
        return Decision(position, tuple(self.effects), tuple(self.visited))

    def go(self) -> Decision:
        step_id: str | None = self.position.step_id
        started = self.position.step_started_at
        limit = max(MAX_STEPS_PER_ADVANCE, len(self.journey.steps))
        while step_id is not None:
            begun = started or self.now
            if len(self.visited) >= limit:
                return self.decision(Position(step_id, EXITED, None, begun, self.variants, "loop"))
            step = self.journey.step(step_id)
            assert step is not None  # parse_journey checked every target
            self.visited.append(step_id)
            if isinstance(step, ExitStep):
                return self.decision(Position(step_id, COMPLETED, None, begun, self.variants, None))
            wake = self.wake(step, begun)
            if wake is not None:
                return self.decision(Position(step_id, ACTIVE, wake, begun, self.variants, None))
            following = self.following(step)
            if following is None:
                return self.decision(Position(step_id, COMPLETED, None, begun, self.variants, None))
            step_id, started = following, None
        raise AssertionError("unreachable: the loop returns")  # pragma: no cover

    def wake(self, step: Any, begun: datetime) -> datetime | None:
        """When a wait step that is not over wakes; ``None`` when ``step`` may be left now."""
        if isinstance(step, WaitStep):
            due = begun + step.duration
        elif isinstance(step, WaitUntilStep):
            due = next_local_time(begun, self.facts.zone, step.at, step.days)
        elif isinstance(step, WaitForEventStep):
            due = begun + step.timeout
            self.event = self.awaited(step, begun, min(self.now, due))
            if self.event is not None:
                return None
        else:
            return None
        return due if self.now < due else None

    def awaited(self, step: WaitForEventStep, begun: datetime, until: datetime) -> Mapping[str, Any] | None:
        """Properties of the earliest awaited occurrence in ``[begun, until]``, or ``None``."""
        matches = [
            occ
            for occ in self.facts.occurrences
            if occ.name == step.event
            and begun <= occ.occurred_at <= until
            and all(f.holds(occ.properties) for f in step.where)
        ]
        return min(matches, key=lambda o: o.occurred_at).properties if matches else None

    def following(self, step: Any) -> str | None:
        """Act on an instant step (or a wait that is over) and return the step after it."""
        fall = self.journey.following(step.id)
        if isinstance(step, WaitForEventStep):
            return (step.on_event if self.event is not None else step.on_timeout) or fall
        if isinstance(step, BranchStep):
            sources = {"profile": self.facts.profile, "trigger": self.facts.trigger, "event": self.event}
            chosen = next((c.next for c in step.cases if evaluate(c.when, sources)), None)
            return chosen or step.default or fall
        if isinstance(step, SplitStep):
            return self.split(step) or fall
        if isinstance(step, ActionStep):
            self.effects.append(
                Effect(
                    step_id=step.id,
                    kind=step.kind,
                    params=_plain(step.params),
                    category=step.category or self.journey.category,
                    topic=step.topic or self.journey.topic,
                    variant=next(reversed(self.variants.values()), None),
                )
            )
        return step.next or fall

    def split(self, step: SplitStep) -> str | None:
        names = tuple(v.name for v in step.variants)
        name = self.variants.get(step.id)
        if name not in names:
            key = f"{self.journey.name}:{step.id}"
            experiment = _experiment(key, names, tuple(v.weight for v in step.variants), self.facts.salt)
            name = experiment.assign(self.facts.customer_id)
            self.variants.pop(step.id, None)
            self.variants[step.id] = name
        return step.variants[names.index(name)].next


def _plain(value: Any) -> Any:
    """A deep copy of ``value`` as plain dicts and lists (JSON-ready, not shared with the journey)."""
    if isinstance(value, Mapping):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value
