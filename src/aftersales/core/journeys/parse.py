"""Reading a journey document: the JSON Schema first, then the checks a schema cannot express.

:func:`parse_journey` raises one :class:`~aftersales.core.errors.ValidationError` listing every
problem found, each a :class:`FieldError` at its JSON path. When the schema fails, only its
errors are listed (the semantic checks need a well-formed document). The semantic checks:

* step ids are unique;
* every ``next``, ``on_event``, ``on_timeout``, branch ``cases[].next`` and ``default`` and split
  ``variants[].next`` names a step;
* a step ``type`` is a control step or a registered action kind (:data:`~.model.ACTION_KINDS`),
  and an action step has its kind's required fields and no others;
* durations are at most 100 years; split variant names are unique within the step;
* a date rule's ``field`` is a profile date field (:data:`~.facts.DATE_FIELDS`);
* ``exit.left_segment`` needs an ``audience``;
* every cycle of steps holds a wait step and no action step (:func:`cycle_problems`).

>>> j = parse_journey({"name": "hello", "trigger": {"event": "order.placed"},
...                    "steps": [{"id": "hi", "type": "email", "template": "welcome"}]})
>>> j.topic, j.holdout, j.steps[0].params
('hello', 0.1, mappingproxy({'template': 'welcome'}))
"""

from __future__ import annotations

import copy
import difflib
from collections.abc import Mapping, Sequence
from datetime import timedelta
from types import MappingProxyType
from typing import Any, cast

from aftersales.core.errors import FieldError, ValidationError
from aftersales.core.journeys.conditions import AllOf, AnyOf, Condition, Filter, Leaf, Not
from aftersales.core.journeys.durations import parse_duration
from aftersales.core.journeys.facts import DATE_FIELDS
from aftersales.core.journeys.graph import cycle_problems
from aftersales.core.journeys.model import (
    ACTION_KINDS,
    CONTROL_KINDS,
    DAY_NAMES,
    ActionStep,
    BranchStep,
    Case,
    DateRule,
    DateTrigger,
    EventTrigger,
    ExitRules,
    ExitStep,
    FieldDateRule,
    Goal,
    Journey,
    NoOrderFor,
    Reentry,
    SplitStep,
    Step,
    SubscriptionRenewal,
    Trigger,
    Variant,
    WaitForEventStep,
    WaitStep,
    WaitUntilStep,
)
from aftersales.core.journeys.schema import by_path, schema_errors
from aftersales.core.localtime import parse_wall_time

__all__ = ["invalid_journey", "parse_journey"]

Loc = tuple[str | int, ...]
ACTION_COMMON = ("id", "type", "next", "category", "topic")
SHOWN = 10


def path_text(loc: Loc) -> str:
    """``("steps", 3, "duration")`` -> ``steps/3/duration`` (``(document)`` for the root)."""
    return "/".join(map(str, loc)) or "(document)"


def invalid_journey(errors: Sequence[FieldError], prefix: str = "invalid journey") -> ValidationError:
    """One error listing ``errors`` (the first ten in its message, all in ``.errors``)."""
    shown = "; ".join(f"{path_text(e.loc)}: {e.message}" for e in errors[:SHOWN])
    more = f" (and {len(errors) - SHOWN} more)" if len(errors) > SHOWN else ""
    return ValidationError(f"{prefix}: {shown}{more}", list(errors))


def parse_journey(doc: Mapping[str, Any]) -> Journey:
    """The :class:`Journey` that ``doc`` (a parsed JSON or YAML document) describes.

    Raises :class:`ValidationError` naming every problem at its path (module docstring).
    """
    if not isinstance(doc, Mapping):
        raise invalid_journey([FieldError((), "a journey document is an object (name, trigger, steps, ...)")])
    errors = schema_errors(doc)
    if errors:
        raise invalid_journey(errors)
    reader = _Reader()
    journey = reader.journey(doc)
    if reader.graph_sound:
        reader.problems.extend(cycle_problems(journey))
    if reader.problems:
        raise invalid_journey(sorted(reader.problems, key=lambda e: by_path(e.loc)))
    return journey


class _Reader:
    """Builds the model from a schema-valid document, collecting semantic problems as it goes."""

    def __init__(self) -> None:
        self.problems: list[FieldError] = []
        self.graph_sound = True  # ids unique and every target known: the cycle rules can be checked

    def fail(self, loc: Loc, message: str) -> None:
        self.problems.append(FieldError(loc, message))

    def duration(self, text: str, loc: Loc, *, signed: bool = False) -> timedelta:
        try:
            return parse_duration(text, signed=signed)
        except ValueError as exc:
            self.fail(loc, str(exc))
            return timedelta(0)

    def journey(self, doc: Mapping[str, Any]) -> Journey:
        steps = tuple(self.step(s, ("steps", i)) for i, s in enumerate(doc["steps"]))
        self.check_ids(steps)
        exit_doc = doc.get("exit", {})
        exit_rules = ExitRules(
            on_events=tuple(exit_doc.get("on_events", ())),
            on_goal=exit_doc.get("on_goal", True),
            unsubscribed=exit_doc.get("unsubscribed", True),
            left_segment=exit_doc.get("left_segment", False),
        )
        if exit_rules.left_segment and not doc.get("audience"):
            self.fail(("exit", "left_segment"), "left_segment needs an audience (the segment to stay in)")
        goal_doc = doc.get("goal", {})
        goal = Goal(
            event=goal_doc.get("event", Goal.event),
            within=self.duration(goal_doc["within"], ("goal", "within")) if "within" in goal_doc else Goal.within,
        )
        return Journey(
            name=doc["name"],
            description=doc.get("description", ""),
            category=doc.get("category", "marketing"),
            topic=doc.get("topic", ""),
            trigger=self.trigger(doc["trigger"]),
            audience=doc.get("audience"),
            reentry=self.reentry(doc.get("reentry", "never")),
            holdout=float(doc.get("holdout", 0.1)),
            goal=goal,
            exit=exit_rules,
            steps=steps,
        )

    def trigger(self, doc: Mapping[str, Any]) -> Trigger:
        lookback = self.duration(doc.get("lookback", "0d"), ("trigger", "lookback"))
        if "event" in doc:
            where = tuple(Filter(f["property"], f["op"], _value(f)) for f in doc.get("where", ()))
            return EventTrigger(doc["event"], where, lookback)
        return DateTrigger(self.date_rule(doc["date"]), lookback)

    def date_rule(self, doc: Mapping[str, Any]) -> DateRule:
        loc: Loc = ("trigger", "date")
        offset = self.duration(doc.get("offset", "0d"), (*loc, "offset"), signed=True)
        if doc.get("rule") == "no_order_for":
            return NoOrderFor(int(doc["days"]))
        if doc.get("rule") == "subscription_renewal":
            return SubscriptionRenewal(doc.get("cycle", "month"), offset)
        if doc["field"] not in DATE_FIELDS:
            self.fail(
                (*loc, "field"), f"{doc['field']!r} is not a profile date field (one of: {', '.join(DATE_FIELDS)})"
            )
        return FieldDateRule(doc["field"], offset)

    def reentry(self, doc: str | Mapping[str, Any]) -> Reentry:
        if isinstance(doc, str):
            return Reentry(cast(Any, doc))
        return Reentry("after", self.duration(doc["after"], ("reentry", "after")))

    def step(self, doc: Mapping[str, Any], loc: Loc) -> Step:
        kind, sid = doc["type"], doc["id"]
        if kind == "wait":
            return WaitStep(sid, self.duration(doc["duration"], (*loc, "duration")), doc.get("next"))
        if kind == "wait_until":
            days = frozenset(DAY_NAMES.index(d) for d in doc["days"]) if "days" in doc else None
            return WaitUntilStep(sid, parse_wall_time(doc["at"]), days, doc.get("next"))
        if kind == "wait_for_event":
            return WaitForEventStep(
                sid,
                doc["event"],
                self.duration(doc["timeout"], (*loc, "timeout")),
                doc.get("on_event"),
                doc.get("on_timeout"),
                tuple(Filter(f["property"], f["op"], _value(f)) for f in doc.get("where", ())),
            )
        if kind == "branch":
            cases = tuple(Case(_condition(c["when"]), c["next"]) for c in doc["cases"])
            return BranchStep(sid, cases, doc.get("default"))
        if kind == "split":
            return self.split(doc, loc)
        if kind == "exit":
            return ExitStep(sid)
        return self.action(doc, loc)

    def split(self, doc: Mapping[str, Any], loc: Loc) -> SplitStep:
        variants = tuple(Variant(v["name"], float(v.get("weight", 1)), v.get("next")) for v in doc["variants"])
        seen: dict[str, int] = {}
        for i, v in enumerate(variants):
            if v.name in seen:
                self.fail(
                    (*loc, "variants", i, "name"),
                    f"variant {v.name!r} is named twice (first at variants/{seen[v.name]})",
                )
            seen.setdefault(v.name, i)
        return SplitStep(doc["id"], variants)

    def action(self, doc: Mapping[str, Any], loc: Loc) -> Step:
        kind = doc["type"]
        spec = ACTION_KINDS.get(kind)
        if spec is None:
            known = sorted({*CONTROL_KINDS, *ACTION_KINDS})
            self.fail((*loc, "type"), f"unknown step type {kind!r} (known: {', '.join(known)})")
            return ExitStep(doc["id"])
        allowed = {*ACTION_COMMON, *spec.required, *spec.optional}
        for name in spec.required:
            if name not in doc:
                self.fail((*loc, name), f"required field is missing (a {kind} step needs {', '.join(spec.required)})")
        for name in doc:
            if name not in allowed:
                self.fail((*loc, name), f"unknown field (expected one of: {', '.join(sorted(allowed))})")
        params = {k: copy.deepcopy(v) for k, v in doc.items() if k not in ACTION_COMMON}
        return ActionStep(
            doc["id"], kind, MappingProxyType(params), doc.get("category"), doc.get("topic"), doc.get("next")
        )

    def check_ids(self, steps: tuple[Step, ...]) -> None:
        first: dict[str, int] = {}
        for i, s in enumerate(steps):
            if s.id in first:
                self.fail(("steps", i, "id"), f"step id {s.id!r} is used twice (first by steps/{first[s.id]})")
                self.graph_sound = False
            first.setdefault(s.id, i)
        for i, s in enumerate(steps):
            for field_loc, target in _targets(s):
                if target not in first:
                    near = difflib.get_close_matches(target, list(first), n=1)
                    hint = f"; did you mean {near[0]!r}?" if near else ""
                    self.fail(("steps", i, *field_loc), f"no step has the id {target!r}{hint}")
                    self.graph_sound = False


def _targets(step: Step) -> list[tuple[Loc, str]]:
    """The step ids ``step`` names, with the path of the field naming each."""
    if isinstance(step, BranchStep):
        found: list[tuple[Loc, str]] = [(("cases", i, "next"), c.next) for i, c in enumerate(step.cases)]
        return found + ([(("default",), step.default)] if step.default else [])
    if isinstance(step, SplitStep):
        return [(("variants", i, "next"), v.next) for i, v in enumerate(step.variants) if v.next]
    if isinstance(step, WaitForEventStep):
        return [((name,), t) for name, t in (("on_event", step.on_event), ("on_timeout", step.on_timeout)) if t]
    if isinstance(step, ExitStep):
        return []
    return [(("next",), step.next)] if step.next else []


def _value(doc: Mapping[str, Any]) -> Any:
    value = doc.get("value")
    return tuple(value) if isinstance(value, list) else value


def _condition(doc: Mapping[str, Any]) -> Condition:
    if "all" in doc:
        return AllOf(tuple(_condition(c) for c in doc["all"]))
    if "any" in doc:
        return AnyOf(tuple(_condition(c) for c in doc["any"]))
    if "not" in doc:
        return Not(_condition(doc["not"]))
    return Leaf(doc["field"], doc["op"], _value(doc))
