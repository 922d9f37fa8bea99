"""Type rules of the segment language, shared by the text parser, the JSON reader and the compiler.

Each rule returns a message (or ``None`` when the condition is well typed); the caller adds where
the problem is (a line and column with a caret excerpt for text, a JSON path for the JSON form)
and raises :class:`DefinitionError`, a :class:`~aftersales.core.errors.ValidationError` (exit 2 /
HTTP 422). The rules, by field type (see :mod:`.fields`):

* numbers (int, float): every comparison, ``in``, ``between``, with numbers;
* text: ``=``, ``!=``, ``in`` with strings, which must be among the field's ``choices`` if it has any;
* bool: the bare field, or ``=``, ``!=`` with ``true`` / ``false``;
* timestamp: every comparison and ``between``, with timestamps, dates (midnight UTC) or ``now ± d``;
* date: every comparison and ``between``, with dates or ``now ± d`` (its UTC day);
* text_list: ``contains`` with a string;
* every field: ``is null`` / ``is not null``.

>>> compare_problem(FIELDS["orders"], "<", "ten")
"field 'orders' holds numbers: compare it with a number, not 'ten'"
>>> unknown_field_message("clv_teir")
"unknown field 'clv_teir' (did you mean 'clv_tier'?)"
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime

from aftersales.core.errors import FieldError, ValidationError
from aftersales.core.segments.ast import (
    And,
    Between,
    BoolField,
    Compare,
    Condition,
    Contains,
    InList,
    IsNull,
    Not,
    Now,
    Or,
    Value,
)
from aftersales.core.segments.fields import FIELDS, ProfileField, nearest_fields

__all__ = [
    "DefinitionError",
    "between_problem",
    "combined",
    "compare_problem",
    "contains_problem",
    "in_problem",
    "leaf_problem",
    "unknown_field_message",
    "validate",
    "value_text",
]


class DefinitionError(ValidationError):
    """A segment definition that cannot be used: a syntax error, an unknown field or a type mismatch.

    ``errors`` holds one :class:`FieldError` per problem; ``loc`` is ``(source, line, column)`` for the
    text form and the JSON path for the JSON form. ``valid_fields`` lists the catalogue for the caller.
    """

    def __init__(self, message: str, errors: list[FieldError]) -> None:
        super().__init__(message, errors)
        self.valid_fields: tuple[str, ...] = tuple(FIELDS)


def value_text(value: Value) -> str:
    """A value as the text form writes it (``'it''s'``, ``3.5``, ``true``, ``date '2024-03-01'``, ``now - 1 day``)."""
    if isinstance(value, Now):
        return value.text
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return "'" + value.replace("'", "''") + "'"
    if isinstance(value, datetime):
        return f"timestamp '{value.isoformat()}'"
    if isinstance(value, date):
        return f"date '{value.isoformat()}'"
    return repr(value)


def unknown_field_message(name: str) -> str:
    """``unknown field 'x' (did you mean 'y'?)``; :func:`combined` lists the valid fields once."""
    near = nearest_fields(name)
    hint = f" (did you mean {' or '.join(repr(n) for n in near)}?)" if near else ""
    return f"unknown field {name!r}{hint}"


def combined(texts: list[str], errors: list[FieldError]) -> DefinitionError:
    """One error from several problems; when a field was unknown, the message ends with the valid fields."""
    message = "\n".join(texts)
    if any(e.message.startswith("unknown field") for e in errors):
        message += f"\nvalid fields: {', '.join(FIELDS)}"
    return DefinitionError(message, errors)


def _kind(value: Value) -> str:
    if isinstance(value, Now):
        return "now"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "text"
    if isinstance(value, datetime):
        return "timestamp"
    return "date"


_ACCEPTS: dict[str, tuple[frozenset[str], str]] = {
    "int": (frozenset({"number"}), "holds numbers: compare it with a number"),
    "float": (frozenset({"number"}), "holds numbers: compare it with a number"),
    "text": (frozenset({"text"}), "holds text: compare it with a 'quoted string'"),
    "bool": (frozenset({"bool"}), "is true or false: write it bare, or compare it with true / false"),
    "timestamp": (
        frozenset({"timestamp", "date", "now"}),
        "is a time stamp: compare it with timestamp '...', date '...' or now - <duration>",
    ),
    "date": (frozenset({"date", "now"}), "is a date: compare it with date 'YYYY-MM-DD' or now - <duration>"),
    "text_list": (frozenset(), "is a list: test it with contains 'value'"),
}


def _value_problem(field: ProfileField, value: Value) -> str | None:
    accepted, hint = _ACCEPTS[field.type]
    if _kind(value) not in accepted:
        return f"field {field.name!r} {hint}, not {value_text(value)}"
    if field.choices is not None and isinstance(value, str) and value not in field.choices:
        return f"field {field.name!r} is one of {', '.join(map(repr, field.choices))}, not {value_text(value)}"
    return None


def compare_problem(field: ProfileField, op: str, value: Value) -> str | None:
    """What is wrong with ``field op value``, if anything."""
    if field.type == "text_list":
        return _value_problem(field, value)
    if op not in ("=", "!=") and not field.ordered:
        return f"field {field.name!r} is {field.type}: it takes = and != (and in), not {op}"
    return _value_problem(field, value)


def in_problem(field: ProfileField, values: tuple[Value, ...]) -> str | None:
    """What is wrong with ``field in (values)``: only text and number fields take ``in``."""
    if field.type not in ("text", "int", "float"):
        return f"field {field.name!r} is {field.type}: 'in' applies to text and number fields"
    return next((p for v in values if (p := _value_problem(field, v))), None)


def between_problem(field: ProfileField, low: Value, high: Value) -> str | None:
    """What is wrong with ``field between low and high``: numbers and times only."""
    if not field.ordered:
        return f"field {field.name!r} is {field.type}: 'between' applies to numbers, time stamps and dates"
    return _value_problem(field, low) or _value_problem(field, high)


def contains_problem(field: ProfileField) -> str | None:
    """``contains`` applies to list fields only."""
    if field.type != "text_list":
        return f"field {field.name!r} is {field.type}: 'contains' applies to list fields ({_list_fields()})"
    return None


def _list_fields() -> str:
    return ", ".join(f.name for f in FIELDS.values() if f.type == "text_list")


def bool_problem(field: ProfileField) -> str | None:
    """A bare field must be boolean."""
    if field.type != "bool":
        return f"field {field.name!r} is {field.type}, not true/false: compare it with a value ({field.name} = ...)"
    return None


def leaf_problem(node: Condition) -> str | None:
    """The type problem of one field condition (``None`` for combinations, behaviour and correct leaves)."""
    if not isinstance(node, Compare | InList | IsNull | Between | Contains | BoolField):
        return None
    field = FIELDS.get(node.field)
    if field is None:
        return unknown_field_message(node.field)
    if isinstance(node, Compare):
        return compare_problem(field, node.op, node.value)
    if isinstance(node, InList):
        return in_problem(field, node.values)
    if isinstance(node, Between):
        return between_problem(field, node.low, node.high)
    if isinstance(node, Contains):
        return contains_problem(field)
    if isinstance(node, BoolField):
        return bool_problem(field)
    return None  # IsNull applies to every field


def _walk(node: Condition, loc: tuple[str | int, ...]) -> Iterator[tuple[tuple[str | int, ...], Condition]]:
    yield loc, node
    if isinstance(node, And | Or):
        key = "all" if isinstance(node, And) else "any"
        for i, item in enumerate(node.items):
            yield from _walk(item, (*loc, key, i))
    elif isinstance(node, Not):
        yield from _walk(node.item, (*loc, "not"))


def validate(node: Condition, source: str = "definition") -> None:
    """Type-check an AST built in Python; every problem becomes a :class:`FieldError` at its JSON path."""
    errors = [FieldError(loc, p) for loc, n in _walk(node, (source,)) if (p := leaf_problem(n))]
    if errors:
        raise combined([f"{'/'.join(map(str, e.loc))}: {e.message}" for e in errors], errors)
