"""The journey document model: frozen dataclasses built by :func:`~.parse.parse_journey`.

A :class:`Journey` is what a YAML file or an API document says, with every default filled in
and durations as :class:`~datetime.timedelta`. docs/journeys.md ("Journey documents") describes
each field; this module states only what the code relies on:

* step ids are unique; every ``next``/``on_event``/``on_timeout``/``goto`` names a step;
* a step without a ``next`` falls through to the step after it, and the last step then completes
  the enrollment (as an ``exit`` step does);
* every cycle of steps holds a wait step (``wait``, ``wait_until`` or ``wait_for_event``) and no
  action step (messages are keyed by (enrollment, step): an action in a loop could act once only);
* action kinds are open: :data:`ACTION_KINDS` maps a step ``type`` to its :class:`ActionKind`
  (``email`` and ``webhook`` here; the surveys and loyalty issues add ``survey``, ``points`` and
  ``coupon`` by adding entries, and the same definitions to ``schema.json``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import time, timedelta
from typing import Any, ClassVar, Literal

from aftersales.core.journeys.conditions import Condition, Filter

__all__ = [
    "ACTION_KINDS",
    "CATEGORIES",
    "CONTROL_KINDS",
    "DAY_NAMES",
    "WAIT_KINDS",
    "ActionKind",
    "ActionStep",
    "BranchStep",
    "Case",
    "DateRule",
    "DateTrigger",
    "EventTrigger",
    "ExitRules",
    "ExitStep",
    "FieldDateRule",
    "Goal",
    "Journey",
    "NoOrderFor",
    "Reentry",
    "SplitStep",
    "Step",
    "SubscriptionRenewal",
    "Trigger",
    "Variant",
    "WaitForEventStep",
    "WaitStep",
    "WaitUntilStep",
]

Category = Literal["marketing", "transactional"]
CATEGORIES: tuple[str, ...] = ("marketing", "transactional")
DAY_NAMES: tuple[str, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")  # index = date.weekday()


@dataclass(frozen=True)
class ActionKind:
    """An action step type: its channel (``journey_messages.channel``), the step fields it needs
    and those it may have; an action step's Effect carries exactly these fields as ``params``."""

    name: str
    channel: str
    required: tuple[str, ...]
    optional: tuple[str, ...] = ()
    description: str = ""


ACTION_KINDS: dict[str, ActionKind] = {
    "email": ActionKind("email", "email", ("template",), (), "send the e-mail template to the customer"),
    "webhook": ActionKind(
        "webhook", "webhook", ("url",), ("payload",), "POST the customer and step to the URL (payload adds fields)"
    ),
}
WAIT_KINDS = frozenset({"wait", "wait_until", "wait_for_event"})
CONTROL_KINDS = frozenset({*WAIT_KINDS, "branch", "split", "exit"})


# -- trigger ------------------------------------------------------------------------------------
@dataclass(frozen=True)
class EventTrigger:
    """Enroll on each fact named ``event`` whose properties pass every ``where`` filter; facts up
    to ``lookback`` older than the journey's activation enroll too."""

    event: str
    where: tuple[Filter, ...] = ()
    lookback: timedelta = timedelta(0)


@dataclass(frozen=True)
class FieldDateRule:
    """Due at the profile date/time ``field`` plus ``offset`` (negative: before it)."""

    field: str
    offset: timedelta = timedelta(0)
    rule: ClassVar[str] = "field"


@dataclass(frozen=True)
class NoOrderFor:
    """Due ``days`` after the customer's last counted order (``last_order_at``)."""

    days: int
    rule: ClassVar[str] = "no_order_for"


@dataclass(frozen=True)
class SubscriptionRenewal:
    """Due ``offset`` from each renewal of a subscription (``started_at`` + k cycles, k >= 1)."""

    cycle: Literal["week", "month", "quarter", "year"] = "month"
    offset: timedelta = timedelta(0)
    rule: ClassVar[str] = "subscription_renewal"


DateRule = FieldDateRule | NoOrderFor | SubscriptionRenewal


@dataclass(frozen=True)
class DateTrigger:
    """Enroll when a date rule falls due (each due date once); due dates up to ``lookback`` before
    the journey's activation enroll too."""

    rule: DateRule
    lookback: timedelta = timedelta(0)


Trigger = EventTrigger | DateTrigger


# -- journey-level rules ------------------------------------------------------------------------
@dataclass(frozen=True)
class Reentry:
    """``never``: a customer enters once; ``always``: every trigger enrolls (one enrollment per
    trigger fact), except while the customer is still active in the journey; ``after``: again once
    ``after`` has passed since the last entry (and not while active)."""

    mode: Literal["never", "always", "after"] = "never"
    after: timedelta | None = None


@dataclass(frozen=True)
class Goal:
    """The conversion the report counts: ``event`` within ``within`` of entry."""

    event: str = "order.placed"
    within: timedelta = timedelta(days=30)


@dataclass(frozen=True)
class ExitRules:
    """Checked before every step (docs/journeys.md, "How an enrollment moves")."""

    on_events: tuple[str, ...] = ()
    on_goal: bool = True
    unsubscribed: bool = True
    left_segment: bool = False


# -- steps --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class WaitStep:
    id: str
    duration: timedelta
    next: str | None = None
    kind: ClassVar[str] = "wait"


@dataclass(frozen=True)
class WaitUntilStep:
    """Wait for the wall time ``at`` in the customer's zone on one of ``days`` (0 = Monday; None: any)."""

    id: str
    at: time
    days: frozenset[int] | None = None
    next: str | None = None
    kind: ClassVar[str] = "wait_until"


@dataclass(frozen=True)
class WaitForEventStep:
    id: str
    event: str
    timeout: timedelta
    on_event: str | None = None
    on_timeout: str | None = None
    where: tuple[Filter, ...] = ()
    kind: ClassVar[str] = "wait_for_event"


@dataclass(frozen=True)
class Case:
    when: Condition
    next: str


@dataclass(frozen=True)
class BranchStep:
    """The first case whose condition holds decides the next step; else ``default`` (else fall through)."""

    id: str
    cases: tuple[Case, ...]
    default: str | None = None
    kind: ClassVar[str] = "branch"


@dataclass(frozen=True)
class Variant:
    name: str
    weight: float
    next: str | None = None


@dataclass(frozen=True)
class SplitStep:
    id: str
    variants: tuple[Variant, ...]
    kind: ClassVar[str] = "split"


@dataclass(frozen=True)
class ActionStep:
    """An action (``kind`` in :data:`ACTION_KINDS`): yields one Effect with ``params``; ``category``
    and ``topic`` override the journey's for this step."""

    id: str
    kind: str  # an instance field here, a class constant on the other steps
    params: Mapping[str, Any]
    category: Category | None = None
    topic: str | None = None
    next: str | None = None


@dataclass(frozen=True)
class ExitStep:
    id: str
    kind: ClassVar[str] = "exit"


Step = WaitStep | WaitUntilStep | WaitForEventStep | BranchStep | SplitStep | ActionStep | ExitStep


@dataclass(frozen=True)
class Journey:
    """One journey definition (one version of it)."""

    name: str
    trigger: Trigger
    steps: tuple[Step, ...]
    description: str = ""
    category: Category = "marketing"
    topic: str = ""  # "" means the journey's name
    audience: str | None = None
    reentry: Reentry = Reentry()
    holdout: float = 0.1
    goal: Goal = Goal()
    exit: ExitRules = ExitRules()
    _index: Mapping[str, int] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not self.topic:
            object.__setattr__(self, "topic", self.name)
        object.__setattr__(self, "_index", {s.id: i for i, s in enumerate(self.steps)})

    def index(self, step_id: str) -> int | None:
        """The position of step ``step_id`` in :attr:`steps`, ``None`` when there is none."""
        return self._index.get(step_id)

    def step(self, step_id: str) -> Step | None:
        i = self._index.get(step_id)
        return None if i is None else self.steps[i]

    def following(self, step_id: str) -> str | None:
        """The step a step without ``next`` falls through to (``None`` after the last step)."""
        i = self._index[step_id] + 1
        return self.steps[i].id if i < len(self.steps) else None

    def successors(self, step: Step) -> tuple[str | None, ...]:
        """Every step ``step`` can lead to (``None``: the enrollment completes)."""
        fall = self.following(step.id)
        if isinstance(step, ExitStep):
            return ()
        if isinstance(step, BranchStep):
            return (*(c.next for c in step.cases), step.default or fall)
        if isinstance(step, SplitStep):
            return tuple(v.next or fall for v in step.variants)
        if isinstance(step, WaitForEventStep):
            return (step.on_event or fall, step.on_timeout or fall)
        return (step.next or fall,)

    def listens_to(self) -> frozenset[str]:
        """The fact names an enrollment's :class:`~.machine.Facts` must carry: exit events, the goal
        (when it exits) and every ``wait_for_event`` step's event."""
        names = set(self.exit.on_events)
        if self.exit.on_goal:
            names.add(self.goal.event)
        names.update(s.event for s in self.steps if isinstance(s, WaitForEventStep))
        return frozenset(names)
