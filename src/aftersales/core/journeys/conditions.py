"""Conditions of branch steps and property filters of triggers: the nodes and how they evaluate.

A branch condition is a tree: ``{all: [c, ...]}`` (every item holds), ``{any: [c, ...]}`` (at
least one holds), ``{not: c}``, or a leaf ``{field, op, value}`` whose ``field`` reads

* ``profile.<name>``: the customer's profile row (``customer_profiles``) at the time of the step;
* ``trigger.<prop>``: a property of the fact that enrolled the customer;
* ``event.<prop>``: a property of the event that ended the ``wait_for_event`` step this run of the
  enrollment came from (the branch right after that step sees it; reached any other way, every
  ``event.*`` field is null).

A trigger filter ``{property, op, value}`` is a leaf on the trigger fact's own properties.

Operators and the value each takes (:func:`compare`):

============  =================  ==================================================================
op            value              holds when the field's value ``x`` ...
============  =================  ==================================================================
eq / ne       a scalar           equals / differs from the value
lt le gt ge   a scalar           is < <= > >= the value (numbers with numbers, text with text,
                                 dates and times with ISO-8601 text or each other)
in / not_in   a list of scalars  is / is not one of the values
contains      a scalar           is a list holding the value, or text containing it
is_null       (none)             is missing or null
not_null      (none)             is present and not null
============  =================  ==================================================================

Nulls follow SQL: every operator except ``is_null`` is false on a missing or null field (so
``ne`` and ``not_in`` do not hold for a customer without the field), and a comparison between
values of different kinds (text against a number) is false rather than an error.

>>> leaf = Leaf("profile.clv_tier", "eq", "above_average")
>>> evaluate(AllOf((leaf, Not(Leaf("profile.churn_risk", "is_null")))),
...          {"profile": {"clv_tier": "above_average", "churn_risk": "low"}})
True
>>> compare(None, "ne", "x"), compare(["coffee", "tea"], "contains", "tea"), compare(3, "lt", "4")
(False, True, False)
"""

from __future__ import annotations

import math
import operator
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any, Literal

__all__ = [
    "FIELD_SOURCES",
    "LIST_OPS",
    "NULL_OPS",
    "OPS",
    "AllOf",
    "AnyOf",
    "Condition",
    "Filter",
    "Leaf",
    "Not",
    "compare",
    "evaluate",
    "split_field",
]

Op = Literal["eq", "ne", "lt", "le", "gt", "ge", "in", "not_in", "contains", "is_null", "not_null"]
OPS: tuple[str, ...] = ("eq", "ne", "lt", "le", "gt", "ge", "in", "not_in", "contains", "is_null", "not_null")
LIST_OPS = frozenset({"in", "not_in"})
NULL_OPS = frozenset({"is_null", "not_null"})
FIELD_SOURCES = ("profile", "trigger", "event")
_ORDER = {"lt": operator.lt, "le": operator.le, "gt": operator.gt, "ge": operator.ge}


@dataclass(frozen=True)
class Leaf:
    """``field`` (``profile.x``, ``trigger.x`` or ``event.x``) compared by ``op`` with ``value``
    (a tuple for ``in``/``not_in``, ``None`` for ``is_null``/``not_null``)."""

    field: str
    op: str
    value: Any = None


@dataclass(frozen=True)
class AllOf:
    items: tuple[Condition, ...]


@dataclass(frozen=True)
class AnyOf:
    items: tuple[Condition, ...]


@dataclass(frozen=True)
class Not:
    item: Condition


Condition = Leaf | AllOf | AnyOf | Not


@dataclass(frozen=True)
class Filter:
    """A trigger's property filter: the fact's ``property`` compared by ``op`` with ``value``."""

    property: str
    op: str
    value: Any = None

    def holds(self, properties: Mapping[str, Any]) -> bool:
        return compare(properties.get(self.property), self.op, self.value)


def split_field(field: str) -> tuple[str, str]:
    """``"profile.clv_tier"`` -> ``("profile", "clv_tier")``; the source is checked by the parser."""
    source, _, name = field.partition(".")
    return source, name


def _number(x: Any) -> bool:
    return isinstance(x, int | float) and not isinstance(x, bool)


def _as_time(x: Any) -> datetime | date | None:
    """Dates and times, or ISO-8601 text read as one; a naive time stamp is UTC (the store's zone)."""
    if isinstance(x, str):
        try:
            x = datetime.fromisoformat(x) if len(x) > 10 else date.fromisoformat(x)
        except ValueError:
            return None
    if isinstance(x, datetime):
        return x if x.tzinfo is not None else x.replace(tzinfo=UTC)
    return x if isinstance(x, date) else None


def _comparable(x: Any, y: Any) -> tuple[Any, Any] | None:
    """``x`` and ``y`` as two values of one kind, or ``None`` when they are of different kinds."""
    if _number(x) and _number(y):
        return (None, None) if math.isnan(x) or math.isnan(y) else (x, y)
    if isinstance(x, date | datetime) or isinstance(y, date | datetime):
        a, b = _as_time(x), _as_time(y)
        if a is None or b is None:
            return None
        if isinstance(a, datetime) != isinstance(b, datetime):  # a day against an instant: compare days
            a = a.date() if isinstance(a, datetime) else a
            b = b.date() if isinstance(b, datetime) else b
        return a, b
    if type(x) is type(y) and isinstance(x, str | bool):
        return x, y
    return None


def _equal(x: Any, y: Any) -> bool:
    pair = _comparable(x, y)
    return pair is not None and pair[0] is not None and pair[0] == pair[1]


def compare(actual: Any, op: str, value: Any) -> bool:
    """Whether ``actual <op> value`` holds, by the rules of the module docstring.

    >>> compare("2026-03-01", "lt", date(2026, 3, 2)), compare(5, "in", (1, 5)), compare(None, "is_null", None)
    (True, True, True)
    """
    if op == "is_null":
        return actual is None
    if op == "not_null" or actual is None:
        return op == "not_null" and actual is not None
    if op in ("eq", "ne"):
        pair = _comparable(actual, value)
        if pair is None or pair[0] is None:
            return False
        return bool(pair[0] == pair[1]) == (op == "eq")
    if op in LIST_OPS:
        found = any(_equal(actual, v) for v in value or ())
        return found == (op == "in")
    if op == "contains":
        if isinstance(actual, list | tuple | frozenset | set):
            return any(_equal(item, value) for item in actual)
        return isinstance(actual, str) and isinstance(value, str) and value in actual
    pair = _comparable(actual, value)
    if pair is None or pair[0] is None:
        return False
    return bool(_ORDER[op](pair[0], pair[1]))


def evaluate(condition: Condition, sources: Mapping[str, Mapping[str, Any] | None]) -> bool:
    """Whether ``condition`` holds, reading leaf fields from ``sources`` (``{"profile": {...},
    "trigger": {...}, "event": {...} or None}``); a missing source reads as all-null."""
    if isinstance(condition, AllOf):
        return all(evaluate(c, sources) for c in condition.items)
    if isinstance(condition, AnyOf):
        return any(evaluate(c, sources) for c in condition.items)
    if isinstance(condition, Not):
        return not evaluate(condition.item, sources)
    source, name = split_field(condition.field)
    row = sources.get(source) or {}
    found: Any = row.get(name)
    return compare(found, condition.op, condition.value)
