"""The JSON spelling of a segment (for the API and the web app): condition groups and leaves.

* groups: ``{"all": [c, ...]}``, ``{"any": [c, ...]}``, ``{"not": c}``; a group of one condition
  reads as that condition (``to_json`` writes groups of two or more); an empty group is an error;
* field leaves: ``{"field": "clv_tier", "op": "=", "value": "above_average"}`` with ``op`` one of
  ``= != < <= > >=``, ``in`` / ``not in`` (``value`` a list), ``between`` / ``not between``
  (``value`` ``[low, high]``), ``contains``, ``is null`` / ``is not null`` (no ``value``), and
  ``{"field": "email_consent"}`` for a bare boolean field;
* values: JSON strings, numbers and booleans, ``{"date": "2024-03-01"}``,
  ``{"timestamp": "2024-03-01T10:00:00+00:00"}``, ``{"now": {"days": -90}}`` (now minus 90 days);
* durations: one unit and a whole amount, ``{"days": 90}`` (units: seconds, minutes, hours, days, weeks);
* behaviour: ``{"ordered": {"category": "bikes", "within": {"days": 90}, "at_least": 2}}``,
  ``{"no_order_for": {"duration": {"days": 120}}}``, ``{"event": {"name": "checkout_started",
  "within": {"days": 7}}}``, ``{"owns": {"product": "P123"}}`` (arguments as in the text form).

Every problem is a :class:`~aftersales.core.segments.check.DefinitionError` whose errors carry
the JSON path (``("definition", "all", 1, "value")``).

>>> to_json(from_json({"all": [{"field": "email_consent"}, {"no_order_for": {"duration": {"days": 120}}}]}))
{'all': [{'field': 'email_consent'}, {'no_order_for': {'duration': {'days': 120}}}]}
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from aftersales.core.contract import MAX_YEAR, MIN_YEAR, YEARS_MESSAGE, contract_utc
from aftersales.core.errors import FieldError
from aftersales.core.segments.ast import (
    COMPARE_OPS,
    FUNCTIONS,
    MAX_DEPTH,
    UNIT_SECONDS,
    And,
    Between,
    BoolField,
    Compare,
    Condition,
    Contains,
    Duration,
    InList,
    IsNull,
    Not,
    Now,
    Or,
    Value,
    behaviour_args,
)
from aftersales.core.segments.check import DefinitionError, combined, leaf_problem

__all__ = ["from_json", "to_json"]

Loc = tuple[str | int, ...]
_LIST_OPS = {"in": False, "not in": True}
_NULL_OPS = {"is null": False, "is not null": True}
_BETWEEN_OPS = {"between": False, "not between": True}
_OPS = (*COMPARE_OPS, *_LIST_OPS, *_BETWEEN_OPS, "contains", *_NULL_OPS)


def _fail(loc: Loc, message: str) -> DefinitionError:
    return DefinitionError(f"{'/'.join(map(str, loc))}: {message}", [FieldError(loc, message)])


# -- writing -------------------------------------------------------------------------------------
def _duration_json(seconds: int) -> dict[str, int]:
    amount, unit = Duration(abs(seconds)).amount_unit if seconds else (0, "days")
    return {unit: amount if seconds >= 0 else -amount}


def _value_json(value: Value) -> Any:
    if isinstance(value, Now):
        return {"now": _duration_json(value.offset_seconds)}
    if isinstance(value, datetime):
        return {"timestamp": value.isoformat()}
    if isinstance(value, date):
        return {"date": value.isoformat()}
    return value


def to_json(node: Condition) -> dict[str, Any]:
    """The JSON form of an AST (only dicts, lists, strings, numbers and booleans); :func:`from_json` inverts it."""
    if isinstance(node, And | Or):
        return {"all" if isinstance(node, And) else "any": [to_json(i) for i in node.items]}
    if isinstance(node, Not):
        return {"not": to_json(node.item)}
    if isinstance(node, Compare):
        return {"field": node.field, "op": node.op, "value": _value_json(node.value)}
    if isinstance(node, InList):
        values = [_value_json(v) for v in node.values]
        return {"field": node.field, "op": "not in" if node.negated else "in", "value": values}
    if isinstance(node, IsNull):
        return {"field": node.field, "op": "is not null" if node.negated else "is null"}
    if isinstance(node, Between):
        op = "not between" if node.negated else "between"
        return {"field": node.field, "op": op, "value": [_value_json(node.low), _value_json(node.high)]}
    if isinstance(node, Contains):
        return {"field": node.field, "op": "contains", "value": node.value}
    if isinstance(node, BoolField):
        return {"field": node.field}
    fn, args = behaviour_args(node)
    return {fn.name: {p.name: _duration_json(v.seconds) if isinstance(v, Duration) else v for p, v in args}}


# -- reading -------------------------------------------------------------------------------------
class _Reader:
    def __init__(self) -> None:
        self.problems: list[FieldError] = []

    def condition(self, obj: object, loc: Loc, depth: int = 0) -> Condition:
        if depth > MAX_DEPTH:
            raise _fail(loc[:1], f"nested deeper than {MAX_DEPTH} levels of groups")
        if not isinstance(obj, dict) or not obj:
            raise _fail(loc, "expected a condition object ({'all': [...]}, {'field': ...}, {'ordered': {...}}, ...)")
        if "field" in obj:
            return self.leaf(obj, loc)
        if len(obj) != 1:
            raise _fail(loc, f"a group or behaviour has exactly one key, not {', '.join(map(repr, obj))}")
        ((key, body),) = obj.items()
        if key in ("all", "any"):
            if not isinstance(body, list) or not body:
                raise _fail((*loc, key), f"'{key}' takes a non-empty list of conditions")
            items = tuple(self.condition(c, (*loc, key, i), depth + 1) for i, c in enumerate(body))
            if len(items) == 1:
                return items[0]
            return And(items) if key == "all" else Or(items)
        if key == "not":
            return Not(self.condition(body, (*loc, "not"), depth + 1))
        if key in FUNCTIONS:
            return self.behaviour(key, body, (*loc, key))
        valid = ", ".join(["all", "any", "not", "field", *FUNCTIONS])
        raise _fail(loc, f"unknown key {key!r}; a condition has one of: {valid}")

    def leaf(self, obj: dict[str, object], loc: Loc) -> Condition:
        extra = set(obj) - {"field", "op", "value"}
        if extra:
            raise _fail(loc, f"unknown keys {sorted(extra)}; a field condition has field, op and value")
        name = obj["field"]
        if not isinstance(name, str):
            raise _fail((*loc, "field"), "field must be a string")
        op = obj.get("op")
        node: Condition
        if op is None:
            self.no_value(obj, loc, "a bare boolean field")
            node = BoolField(name)
        elif op in _NULL_OPS:
            self.no_value(obj, loc, f"'{op}'")
            node = IsNull(name, _NULL_OPS[op])
        elif "value" not in obj:
            raise _fail(loc, f"'{op}' needs a value")
        elif op in COMPARE_OPS:
            node = Compare(name, op, self.value(obj["value"], (*loc, "value")))
        elif op in _LIST_OPS:
            values = self.values(obj["value"], (*loc, "value"), None)
            node = InList(name, values, _LIST_OPS[op])
        elif op in _BETWEEN_OPS:
            low, high = self.values(obj["value"], (*loc, "value"), 2)
            node = Between(name, low, high, _BETWEEN_OPS[op])
        elif op == "contains":
            value = obj["value"]
            if not isinstance(value, str):
                raise _fail((*loc, "value"), "'contains' takes a string")
            node = Contains(name, value)
        else:
            raise _fail((*loc, "op"), f"unknown op {op!r}; ops: {', '.join(_OPS)} (or none for a boolean field)")
        problem = leaf_problem(node)
        if problem:
            self.problems.append(FieldError((*loc, "field") if problem.startswith("unknown") else loc, problem))
        return node

    @staticmethod
    def no_value(obj: dict[str, object], loc: Loc, what: str) -> None:
        if "value" in obj:
            raise _fail((*loc, "value"), f"{what} takes no value")

    def values(self, obj: object, loc: Loc, size: int | None) -> tuple[Value, ...]:
        if not isinstance(obj, list) or not obj or (size is not None and len(obj) != size):
            raise _fail(loc, "expected a non-empty list of values" if size is None else "expected [low, high]")
        return tuple(self.value(v, (*loc, i)) for i, v in enumerate(obj))

    def value(self, obj: object, loc: Loc) -> Value:
        if isinstance(obj, bool | str | int):
            return obj
        if isinstance(obj, float):
            if obj != obj or obj in (float("inf"), float("-inf")):
                raise _fail(loc, "numbers must be finite")
            return obj
        if isinstance(obj, dict) and len(obj) == 1:
            ((kind, body),) = obj.items()
            if kind == "date" and isinstance(body, str):
                return _date(body, (*loc, "date"))
            if kind == "timestamp" and isinstance(body, str):
                return _timestamp(body, (*loc, "timestamp"))
            if kind == "now":
                return Now(self.duration_seconds(body, (*loc, "now"), signed=True))
        raise _fail(loc, "expected a string, number, boolean, {'date': ...}, {'timestamp': ...} or {'now': {...}}")

    @staticmethod
    def duration_seconds(obj: object, loc: Loc, *, signed: bool) -> int:
        if isinstance(obj, dict) and len(obj) == 1:
            ((unit, amount),) = obj.items()
            ok = isinstance(amount, int) and not isinstance(amount, bool) and (signed or amount > 0)
            if unit in UNIT_SECONDS and ok:
                seconds: int = amount * UNIT_SECONDS[unit]
                if abs(seconds) <= Duration.LIMIT:
                    return seconds
        units = ", ".join(UNIT_SECONDS)
        what = "a whole amount" if signed else "a positive whole amount"
        raise _fail(loc, f"expected a duration: one unit ({units}) with {what}, e.g. {{'days': 90}}")

    def behaviour(self, name: str, body: object, loc: Loc) -> Condition:
        fn = FUNCTIONS[name]
        if not isinstance(body, dict):
            raise _fail(loc, f"'{name}' takes an object of arguments: {', '.join(p.name for p in fn.params)}")
        args: dict[str, object] = {}
        for key, raw in body.items():
            param = fn.param(key)
            if param is None:
                takes = ", ".join(p.name for p in fn.params)
                raise _fail((*loc, key), f"{name} has no argument {key!r}; it takes: {takes}")
            if raw is None and not param.required:
                continue
            if param.kind == "text" and isinstance(raw, str):
                args[key] = raw
            elif param.kind == "duration":
                args[key] = Duration(self.duration_seconds(raw, (*loc, key), signed=False))
            elif param.kind == "count" and isinstance(raw, int) and not isinstance(raw, bool) and raw >= 1:
                args[key] = raw
            else:
                want = "a string" if param.kind == "text" else "a whole number of 1 or more"
                raise _fail((*loc, key), f"{key} must be {want}")
        missing = [p.name for p in fn.params if p.required and p.name not in args]
        if missing:
            raise _fail(loc, f"{name} needs {', '.join(missing)}")
        return fn.build(args)


def _date(text: str, loc: Loc) -> date:
    try:
        day = date.fromisoformat(text)
    except ValueError:
        raise _fail(loc, f"not a date: {text!r} (write 'YYYY-MM-DD')") from None
    if not MIN_YEAR <= day.year <= MAX_YEAR:
        raise _fail(loc, f"date must fall in the years {MIN_YEAR}-{MAX_YEAR}")
    return day


def _timestamp(text: str, loc: Loc) -> datetime:
    try:
        when = datetime.fromisoformat(text)
    except ValueError:
        raise _fail(loc, f"not a time stamp: {text!r} (write ISO 8601 with a zone)") from None
    if when.tzinfo is None:
        raise _fail(loc, f"time stamp {text!r} needs a zone (e.g. +00:00 or Z)")
    try:
        return contract_utc(when).replace(tzinfo=UTC)
    except ValueError:
        raise _fail(loc, YEARS_MESSAGE) from None


def from_json(obj: object, name: str = "definition") -> Condition:
    """The AST of a JSON condition (already decoded); errors carry JSON paths starting with ``name``."""
    reader = _Reader()
    node = reader.condition(obj, (name,))
    if reader.problems:
        texts = [f"{'/'.join(map(str, e.loc))}: {e.message}" for e in reader.problems]
        raise combined(texts, reader.problems)
    return node
