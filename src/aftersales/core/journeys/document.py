"""Writing a journey back as its canonical JSON document.

The canonical document spells out every journey-level default (category, topic, reentry,
holdout, goal, exit rules, trigger lookback), so a stored version says everything it means
even if a later release changes a default; step fields are written only when set. Durations take
their largest exact unit (``14d`` -> ``2w``). ``parse_journey(journey_to_doc(j)) == j`` for every
journey, and ``journey_to_doc`` of a parsed canonical document returns that document.

>>> from aftersales.core.journeys.parse import parse_journey
>>> doc = journey_to_doc(parse_journey({"name": "n", "trigger": {"date": {"rule": "no_order_for", "days": 120}},
...                                     "steps": [{"id": "w", "type": "wait", "duration": "14d"}]}))
>>> doc["trigger"], doc["reentry"]
({'date': {'rule': 'no_order_for', 'days': 120}, 'lookback': '0d'}, 'never')
>>> doc["steps"]
[{'id': 'w', 'type': 'wait', 'duration': '2w'}]
"""

from __future__ import annotations

import copy
from typing import Any

from aftersales.core.journeys.conditions import AllOf, AnyOf, Condition, Filter, Leaf, Not
from aftersales.core.journeys.durations import format_duration
from aftersales.core.journeys.model import (
    DAY_NAMES,
    ActionStep,
    BranchStep,
    DateRule,
    EventTrigger,
    ExitStep,
    FieldDateRule,
    Journey,
    NoOrderFor,
    SplitStep,
    Step,
    WaitForEventStep,
    WaitStep,
    WaitUntilStep,
)

__all__ = ["condition_to_doc", "journey_to_doc"]


def journey_to_doc(journey: Journey) -> dict[str, Any]:
    """The canonical JSON document of ``journey`` (only dicts, lists, text, numbers and booleans)."""
    doc: dict[str, Any] = {
        "name": journey.name,
        "description": journey.description,
        "category": journey.category,
        "topic": journey.topic,
        "trigger": _trigger(journey),
    }
    if journey.audience is not None:
        doc["audience"] = journey.audience
    reentry = journey.reentry
    after = reentry.after
    doc["reentry"] = {"after": format_duration(after)} if reentry.mode == "after" and after else reentry.mode
    doc["holdout"] = journey.holdout
    doc["goal"] = {"event": journey.goal.event, "within": format_duration(journey.goal.within)}
    doc["exit"] = {
        "on_events": list(journey.exit.on_events),
        "on_goal": journey.exit.on_goal,
        "unsubscribed": journey.exit.unsubscribed,
        "left_segment": journey.exit.left_segment,
    }
    doc["steps"] = [_step(s) for s in journey.steps]
    return doc


def _filters(filters: tuple[Filter, ...]) -> list[dict[str, Any]]:
    return [_leaf({"property": f.property}, f.op, f.value) for f in filters]


def _leaf(head: dict[str, Any], op: str, value: Any) -> dict[str, Any]:
    head["op"] = op
    if value is not None:
        head["value"] = list(value) if isinstance(value, tuple) else value
    return head


def condition_to_doc(condition: Condition) -> dict[str, Any]:
    """The JSON form of a branch condition."""
    if isinstance(condition, AllOf):
        return {"all": [condition_to_doc(c) for c in condition.items]}
    if isinstance(condition, AnyOf):
        return {"any": [condition_to_doc(c) for c in condition.items]}
    if isinstance(condition, Not):
        return {"not": condition_to_doc(condition.item)}
    leaf: Leaf = condition
    return _leaf({"field": leaf.field}, leaf.op, leaf.value)


def _date_rule(rule: DateRule) -> dict[str, Any]:
    if isinstance(rule, FieldDateRule):
        return {"field": rule.field, "offset": format_duration(rule.offset)}
    if isinstance(rule, NoOrderFor):
        return {"rule": rule.rule, "days": rule.days}
    return {"rule": rule.rule, "offset": format_duration(rule.offset), "cycle": rule.cycle}


def _trigger(journey: Journey) -> dict[str, Any]:
    trigger = journey.trigger
    if isinstance(trigger, EventTrigger):
        doc: dict[str, Any] = {"event": trigger.event}
        if trigger.where:
            doc["where"] = _filters(trigger.where)
    else:
        doc = {"date": _date_rule(trigger.rule)}
    doc["lookback"] = format_duration(trigger.lookback)
    return doc


def _step(step: Step) -> dict[str, Any]:
    doc: dict[str, Any] = {"id": step.id, "type": step.kind}
    if isinstance(step, WaitStep):
        doc["duration"] = format_duration(step.duration)
    elif isinstance(step, WaitUntilStep):
        doc["at"] = f"{step.at:%H:%M}"
        if step.days is not None:
            doc["days"] = [DAY_NAMES[d] for d in sorted(step.days)]
    elif isinstance(step, WaitForEventStep):
        doc.update(event=step.event, timeout=format_duration(step.timeout))
        for name, value in (("on_event", step.on_event), ("on_timeout", step.on_timeout)):
            if value is not None:
                doc[name] = value
        if step.where:
            doc["where"] = _filters(step.where)
    elif isinstance(step, BranchStep):
        doc["cases"] = [{"when": condition_to_doc(c.when), "next": c.next} for c in step.cases]
        if step.default is not None:
            doc["default"] = step.default
    elif isinstance(step, SplitStep):
        doc["variants"] = [
            {"name": v.name, "weight": v.weight, **({"next": v.next} if v.next else {})} for v in step.variants
        ]
    elif isinstance(step, ActionStep):
        doc.update(copy.deepcopy(dict(step.params)))
        for name, value in (("category", step.category), ("topic", step.topic)):
            if value is not None:
                doc[name] = value
    if not isinstance(step, ExitStep | BranchStep | SplitStep | WaitForEventStep):
        next_id = step.next
        if next_id is not None:
            doc["next"] = next_id
    return doc
