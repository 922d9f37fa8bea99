"""The body of ``POST /v1/events``, decoded and validated in one pass by msgspec.

This one route carries the bulk of the traffic, so it does not go through pydantic: msgspec decodes
the JSON straight into typed structs, checking types, lengths, patterns, time-stamp zones and unknown
fields as it goes (several times faster than ``json.loads`` followed by pydantic). The rules are the
ones the other routes apply with pydantic (``schemas.py``); the OpenAPI schema of the route is
generated from these structs (:func:`openapi_components`), so the documentation is the validator.

A msgspec error names the first invalid field as a path (``$.events[3].occurred_at``); it becomes the
same RFC 9457 field error the pydantic routes produce, ``loc`` starting with ``"body"``:

>>> try:
...     decode_batch(b'{"events": [{"event_id": "e1", "name": "x", "occurred_at": "2024-03-01T10:00:00"}]}')
... except ValidationError as exc:
...     print(exc.errors)
[FieldError(loc=('body', 'events', 0, 'occurred_at'), message='Expected `datetime` with a timezone component')]

``properties`` may nest objects and arrays at most :data:`MAX_PROPERTIES_DEPTH` (32) levels deep,
the ``properties`` object itself being level 1: ``{"cart": {"items": [{"sku": "a"}]}}`` is 4 levels.
Deeper values are refused (422) rather than stored, because every reader of the stored JSON (the
canonical encoder, PostgreSQL's ``jsonb``, Python's ``json``) walks them recursively, and a body
nested ~1,000 levels made the decoder itself raise ``RecursionError`` (a 500). A body that is not
UTF-8 is refused the same way (JSON text is UTF-8, RFC 8259 section 8.1).
"""

from __future__ import annotations

import re
from datetime import datetime
from itertools import chain
from operator import attrgetter
from typing import Annotated, Any

import msgspec

from aftersales.core.errors import FieldError, ValidationError
from aftersales.services.operational.ingest import MAX_BATCH

__all__ = [
    "KEY_RE",
    "MAX_PROPERTIES_DEPTH",
    "NO_NUL_RE",
    "EventBatch",
    "EventIn",
    "decode_batch",
    "field_error",
    "openapi_components",
]

MAX_PROPERTIES_DEPTH = 32

# The character rules (keys: no ``/`` and no control characters; names: no NUL) are checked in Python,
# and only for bodies that could break them: JSON forbids raw control characters inside strings, so a
# decoded string can hold one only through an escape (a backslash in the body); a ``/`` or DEL must be
# in the body as such. A body without backslash, ``/`` and DEL bytes satisfies them all, whatever it
# holds; that is most batches, and skipping ~3 regex matches per event halves the decoding time.
# ``\Z``, not ``$``: in Python's ``re`` a ``$`` also matches before a final newline.
KEY_RE = re.compile(r"^[^/\x00-\x1f\x7f]+\Z")
NO_NUL_RE = re.compile(r"^[^\x00]*\Z")
_KEY_SCHEMA = {"pattern": r"^[^/\x00-\x1f\x7f]+$"}  # JSON Schema patterns are ECMA-262: ``$`` ends the input
_NO_NUL_SCHEMA = {"pattern": r"^[^\x00]*$"}
_SUSPECT_BYTES = (b"\\", b"/", b"\x7f")
Key = Annotated[str, msgspec.Meta(min_length=1, max_length=255, extra_json_schema=_KEY_SCHEMA)]


class EventIn(msgspec.Struct, forbid_unknown_fields=True):
    """A touchpoint event; it needs a ``customer_id`` or an ``anonymous_id``."""

    event_id: Annotated[
        str,
        msgspec.Meta(
            min_length=1,
            max_length=255,
            extra_json_schema=_KEY_SCHEMA,
            description="Client event id: an event id is stored once, whatever the retries.",
        ),
    ]
    name: Annotated[str, msgspec.Meta(min_length=1, max_length=200, extra_json_schema=_NO_NUL_SCHEMA)]
    occurred_at: Annotated[
        datetime,
        msgspec.Meta(tz=True, description="When it happened, with a zone (e.g. 2024-03-01T10:00:00+01:00)."),
    ]
    customer_id: Key | None = None
    anonymous_id: Key | None = None
    properties: Annotated[
        dict[str, Any] | None,
        msgspec.Meta(description=f"Free-form JSON object, nested at most {MAX_PROPERTIES_DEPTH} levels deep."),
    ] = None


class EventBatch(msgspec.Struct, forbid_unknown_fields=True):
    """1 to 1,000 events, stored all or nothing."""

    events: Annotated[list[EventIn], msgspec.Meta(min_length=1, max_length=MAX_BATCH)]


_decoder = msgspec.json.Decoder(EventBatch)
_PATH = re.compile(r"^(?P<msg>.*?)(?: - at `\$(?P<path>[^`]*)`)?$", re.DOTALL)
_STEP = re.compile(r"\.([A-Za-z_][A-Za-z0-9_]*)|\[(\d+)\]|\[\.\.\.\]")
_NAMED_FIELD = re.compile(r"^Object (?:missing required|contains unknown) field `([^`]+)`$")


def field_error(message: str) -> FieldError:
    """The field error of a msgspec validation message (its ``$`` path becomes ``loc`` under ``body``;
    a missing or unknown field is named in ``loc``, as pydantic does).

    >>> field_error("Object contains unknown field `x` - at `$.events[2]`")
    FieldError(loc=('body', 'events', 2, 'x'), message='Object contains unknown field `x`')
    >>> field_error("Number out of range - at `$.events[0].properties[...]`").loc
    ('body', 'events', 0, 'properties')
    >>> field_error("Expected `object`, got `array`").loc
    ('body',)
    """
    m = _PATH.match(message)
    assert m is not None  # the pattern matches any text
    text = m["msg"]
    loc: list[str | int] = ["body"]
    for step in _STEP.finditer(m["path"] or ""):
        if step[1] is not None:
            loc.append(step[1])
        elif step[2] is not None:
            loc.append(int(step[2]))
        else:
            break  # a key inside a free-form object: the object is the field
    named = _NAMED_FIELD.match(text)
    if named:
        loc.append(named[1])
    return FieldError(tuple(loc), text)


def decode_batch(body: bytes) -> EventBatch:
    """The validated batch in ``body`` (JSON); a :class:`ValidationError` (422) names the bad field(s).

    >>> ok = b'{"events": [{"event_id": "e1", "name": "x", "occurred_at": "2024-03-01T10:00:00Z"}]}'
    >>> decode_batch(ok).events[0].occurred_at.isoformat()
    '2024-03-01T10:00:00+00:00'
    >>> try:
    ...     decode_batch(ok.replace(b'"e1"', b'"a/b"'))
    ... except ValidationError as exc:
    ...     print(exc.errors[0].loc)
    ('body', 'events', 0, 'event_id')
    """
    try:
        batch: EventBatch = _decoder.decode(body)
    except msgspec.ValidationError as exc:
        error = field_error(str(exc))
    except msgspec.DecodeError as exc:
        error = FieldError(("body",), f"invalid JSON: {exc}")
    except UnicodeDecodeError:
        error = FieldError(("body",), "invalid JSON: the body is not valid UTF-8")
    except RecursionError:  # far deeper than any limit below: msgspec gives up before we can look
        error = FieldError(("body",), f"invalid JSON: nested too deeply ({_DEPTH_MESSAGE})")
    else:
        _check_depth(batch)
        if any(b in body for b in _SUSPECT_BYTES):
            _check_characters(batch)
        return batch
    raise ValidationError("1 invalid field(s)", [error])


_DEPTH_MESSAGE = f"properties may nest objects and arrays at most {MAX_PROPERTIES_DEPTH} levels deep"
_CONTAINERS = frozenset({dict, list})


def _deeper_than(containers: list[Any], levels: int) -> bool:
    """True when a value of ``containers`` (objects and arrays, each 1 level deep) nests more than
    ``levels`` deep. Level by level, in list comprehensions: no recursion, and no Python call per value.

    >>> _deeper_than([{"a": [1, {"b": 2}]}], 3), _deeper_than([{"a": [1, {"b": 2}]}], 2)
    (False, True)
    """
    for _ in range(levels):
        containers = [v for c in containers for v in (c.values() if type(c) is dict else c) if type(v) in _CONTAINERS]
        if not containers:
            return False
    return True


def _check_depth(batch: EventBatch) -> None:
    # Most properties are flat: one look at the types of all their values, in C (no Python call per
    # event: 0.14 ms per 1,000 events of 3 properties, a third of the decoding time), finds no
    # container and skips the walk.
    properties = list(filter(None, map(_PROPERTIES, batch.events)))
    if _CONTAINERS.isdisjoint(map(type, chain.from_iterable(map(dict.values, properties)))):
        return
    if not _deeper_than(properties, MAX_PROPERTIES_DEPTH):
        return
    errors = [
        FieldError(("body", "events", i, "properties"), _DEPTH_MESSAGE)
        for i, e in enumerate(batch.events)
        if e.properties and _deeper_than([e.properties], MAX_PROPERTIES_DEPTH)
    ]
    raise ValidationError(f"{len(errors)} invalid field(s)", errors)


_PROPERTIES = attrgetter("properties")


def _check_characters(batch: EventBatch) -> None:
    errors = []
    for i, e in enumerate(batch.events):
        for field in ("event_id", "customer_id", "anonymous_id"):
            value = getattr(e, field)
            if value is not None and not KEY_RE.match(value):
                errors.append(FieldError(("body", "events", i, field), _KEY_MESSAGE))
        if not NO_NUL_RE.match(e.name):
            errors.append(FieldError(("body", "events", i, "name"), "must not contain NUL characters"))
    if errors:
        raise ValidationError(f"{len(errors)} invalid field(s)", errors)


_KEY_MESSAGE = "must not contain '/' or control characters"


def openapi_components() -> dict[str, Any]:
    """JSON schemas of :class:`EventBatch` and :class:`EventIn` for ``components/schemas``."""
    _, defs = msgspec.json.schema_components([EventBatch], ref_template="#/components/schemas/{name}")
    return dict(defs)
