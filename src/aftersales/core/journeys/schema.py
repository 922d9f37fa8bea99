"""The journey JSON Schema (draft 2020-12) and its errors as :class:`FieldError` paths.

The schema is package data (``core/journeys/schema.json``), published unchanged as
``docs/journey.schema.json`` for editors (a test keeps the two equal). It checks the document's
shape and types; :mod:`.parse` then checks what a schema cannot say (targets exist, cycles hold a
wait, durations fit, variant names are unique, action kinds are known).

Each violation becomes one :class:`FieldError` at the JSON path of the offending value
(``("steps", 3, "duration")``); a missing or unknown field is located at that field's own path
(``("steps", 0, "template")``). Subschemas may carry an ``x-error`` annotation (ignored by
validators and editors): the plain-words message used for any violation inside them.

>>> [(e.loc, e.message) for e in schema_errors({"name": "x", "trigger": {"event": "order.placed"},
...                                            "steps": [{"id": "s", "type": "wait", "duration": "2 days"}]})]
[(('steps', 0, 'duration'), "'2 days' is not a positive duration: a whole number above 0 and a unit m, h, d or w \
(30m, 12h, 2d, 3w)")]
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from functools import cache
from importlib import resources
from typing import Any, cast

from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError as SchemaViolation

from aftersales.core.errors import FieldError

__all__ = ["MAX_NESTING", "MAX_VALUES", "by_path", "journey_schema", "schema_errors"]

MAX_NESTING = 40  # containers inside containers; deeper documents are refused before validation
MAX_VALUES = 100_000  # values in all (a YAML alias counts each time it is used)
_JSON_TYPES = {dict: "an object", list: "a list", str: "text", bool: "true/false", int: "a number", float: "a number"}


@cache
def _schema_text() -> str:
    return resources.files("aftersales.core.journeys").joinpath("schema.json").read_text(encoding="utf-8")


def journey_schema() -> dict[str, Any]:
    """The published JSON Schema of journey documents (a fresh copy: callers may change it)."""
    schema: dict[str, Any] = json.loads(_schema_text())
    return schema


@cache
def _validator() -> Draft202012Validator:
    schema = journey_schema()
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema)


def _size_problem(doc: object) -> str | None:
    """Why ``doc`` is too big to validate (too deep, or too many values once YAML aliases are
    expanded), counted without recursion and stopping at the first limit; ``None`` when it is not."""
    count, stack = 0, [(doc, 1)]
    while stack:
        node, depth = stack.pop()
        count += 1
        if count > MAX_VALUES:
            return f"holds more than {MAX_VALUES} values"
        if isinstance(node, Mapping):
            children: Any = node.values()
        elif isinstance(node, list | tuple):
            children = node
        else:
            continue
        if depth > MAX_NESTING:
            return f"nested deeper than {MAX_NESTING} levels"
        stack.extend((child, depth + 1) for child in children)
    return None


def _kind(value: object) -> str:
    if value is None:
        return "null"
    return next((name for t, name in _JSON_TYPES.items() if type(value) is t), type(value).__name__)


def _shown(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _messages(error: SchemaViolation) -> Iterator[tuple[tuple[str | int, ...], str]]:
    """(location, plain message) pairs for one violation."""
    loc: tuple[str | int, ...] = tuple(error.absolute_path)
    schema = error.schema if isinstance(error.schema, Mapping) else {}
    instance, keyword, expected = error.instance, str(error.validator), cast(Any, error.validator_value)
    hint: str | None = schema.get("x-error")
    if keyword == "required" and isinstance(instance, Mapping):
        for name in expected:
            if name not in instance:
                yield (loc, hint) if hint else ((*loc, name), "required field is missing")
    elif keyword == "additionalProperties" and isinstance(instance, Mapping):
        known = sorted(schema.get("properties", {}))
        for name in instance:
            if name not in known:
                yield (*loc, name), f"unknown field (expected one of: {', '.join(known)})"
    elif keyword == "type":
        wanted = expected if isinstance(expected, list) else [expected]
        names = sorted({_TYPE_NAMES.get(str(t), str(t)) for t in wanted})
        yield loc, f"expected {' or '.join(names)}, got {_kind(instance)}"
    elif keyword in ("enum", "const"):
        options = expected if keyword == "enum" else [expected]
        yield loc, f"{_shown(instance)} is not one of: {', '.join(map(str, options))}"
    elif hint:
        yield loc, f"{_shown(instance)} is not {hint}" if keyword == "pattern" else hint
    elif keyword in _LIMITS:
        yield loc, _LIMITS[keyword].format(expected)
    else:
        yield loc, error.message


_TYPE_NAMES = {
    "object": "an object",
    "array": "a list",
    "string": "text",
    "boolean": "true/false",
    "integer": "a whole number",
    "number": "a number",
    "null": "null",
}
_LIMITS = {
    "minItems": "needs at least {} item(s)",
    "maxItems": "holds at most {} item(s)",
    "uniqueItems": "items must not repeat",
    "minimum": "must be at least {}",
    "maximum": "must be at most {}",
    "exclusiveMinimum": "must be greater than {}",
    "exclusiveMaximum": "must be less than {}",
    "minLength": "needs at least {} character(s)",
    "maxLength": "holds at most {} characters",
}


def schema_errors(doc: object) -> list[FieldError]:
    """Every way ``doc`` breaks the schema, one :class:`FieldError` each, ordered by path."""
    too_big = _size_problem(doc)
    if too_big is not None:
        return [FieldError((), f"the document {too_big}")]
    found: dict[tuple[tuple[str | int, ...], str], None] = {}
    for error in _validator().iter_errors(doc):
        for loc, message in _messages(error):
            found.setdefault((loc, message), None)
    return [FieldError(loc, message) for loc, message in sorted(found, key=lambda item: (by_path(item[0]), item[1]))]


def by_path(loc: tuple[str | int, ...]) -> tuple[tuple[int, str], ...]:
    """A sort key putting locations in path order (indices numerically)."""
    return tuple((0, f"{p:09d}") if isinstance(p, int) else (1, p) for p in loc)
