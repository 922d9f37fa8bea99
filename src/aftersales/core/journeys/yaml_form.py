"""Journey YAML files: safe loading, YAML 1.2 scalars, and errors that name file, line and column.

The loader is PyYAML's ``SafeLoader`` (no Python objects are ever built) with three changes that
keep a journey file meaning what it says:

* scalars follow YAML 1.2's core schema: only ``true``/``false`` are booleans (``on``, ``no``,
  ``yes`` stay text: a variant may be named ``no``), integers are decimal (``010`` is 10, and
  ``10:30`` is the text "10:30", not the sexagesimal 630), dates stay text (``2026-03-01``);
* a key repeated in one mapping is an error (YAML 1.1 silently keeps the last);
* every problem, whether YAML syntax, schema or semantic, is reported as
  ``<source>:<line>:<column>: <path>: <message>`` (1-based line and column of the offending key or
  item; the nearest enclosing one when the field is missing), so an editor can jump to it.

>>> load_journey_yaml("name: j\\ntrigger: {event: order.placed}\\nsteps:\\n  - {id: a, type: wait, duration: 2x}\\n",
...                   "j.yaml")
Traceback (most recent call last):
aftersales.core.errors.ValidationError: j.yaml: invalid journey: line 4, column 25: steps/0/duration: '2x' is not a \
positive duration: a whole number above 0 and a unit m, h, d or w (30m, 12h, 2d, 3w)
"""

from __future__ import annotations

import re
from collections.abc import Callable, Hashable
from typing import Any, TypeVar

import yaml
from yaml.constructor import ConstructorError
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from aftersales.core.errors import FieldError, ValidationError
from aftersales.core.journeys.model import Journey
from aftersales.core.journeys.parse import SHOWN, parse_journey, path_text

__all__ = ["load_journey_yaml", "load_yaml_as", "load_yaml_document"]

T = TypeVar("T")

_REPLACED = {
    "tag:yaml.org,2002:bool",
    "tag:yaml.org,2002:int",
    "tag:yaml.org,2002:float",
    "tag:yaml.org,2002:timestamp",
}


class _Loader(yaml.SafeLoader):
    """SafeLoader with YAML 1.2 core-schema scalars and duplicate keys refused."""

    def construct_mapping(self, node: MappingNode, deep: bool = False) -> dict[Hashable, Any]:
        seen: set[object] = set()
        for key_node, _ in node.value:
            if isinstance(key_node, ScalarNode):
                key = self.construct_object(key_node, deep=deep)
                if key in seen:
                    raise ConstructorError(
                        "while reading a mapping", node.start_mark, f"the key {key!r} is repeated", key_node.start_mark
                    )
                seen.add(key)
        return super().construct_mapping(node, deep=deep)


_Loader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag not in _REPLACED]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)
_Loader.add_implicit_resolver("tag:yaml.org,2002:int", re.compile(r"^[-+]?[0-9]+$"), list("-+0123456789"))
_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(r"^[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?$"),
    list("-+0123456789."),
)


def _int(loader: yaml.SafeLoader, node: ScalarNode) -> int:
    return int(loader.construct_scalar(node), 10)


def _float(loader: yaml.SafeLoader, node: ScalarNode) -> float:
    return float(loader.construct_scalar(node))


_Loader.add_constructor("tag:yaml.org,2002:int", _int)
_Loader.add_constructor("tag:yaml.org,2002:float", _float)


def _where(mark: Any) -> tuple[int, int]:
    return (mark.line + 1, mark.column + 1) if mark is not None else (1, 1)


def _yaml_error(exc: yaml.YAMLError, source: str) -> ValidationError:
    mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
    line, column = _where(mark)
    problem = getattr(exc, "problem", None) or str(exc)
    context = getattr(exc, "context", None)
    what = f"{context}: {problem}" if context else problem
    message = f"{source}:{line}:{column}: not valid YAML ({what})"
    return ValidationError(message, [FieldError((), message)])


def load_yaml_document(text: str, source: str = "<string>") -> tuple[Any, Node | None]:
    """The one YAML document in ``text`` as plain data, with its node tree (for locating paths)."""
    loader = _Loader(text)
    try:
        node = loader.get_single_node()
        data = None if node is None else loader.construct_document(node)
    except yaml.YAMLError as exc:
        raise _yaml_error(exc, source) from None
    except RecursionError:  # PyYAML composes recursively: a document nested thousands deep
        message = f"{source}:1:1: the document is nested too deeply"
        raise ValidationError(message, [FieldError((), message)]) from None
    finally:
        loader.dispose()
    return data, node


def _locate(node: Node | None, loc: tuple[str | int, ...]) -> tuple[int, int]:
    """Line and column of the deepest node along ``loc`` (keys point at the key, items at the item)."""
    mark = node.start_mark if node is not None else None
    for part in loc:
        if isinstance(node, MappingNode):
            match = next((pair for pair in node.value if getattr(pair[0], "value", None) == part), None)
            if match is None:
                break
            mark, node = match[0].start_mark, match[1]
        elif isinstance(node, SequenceNode) and isinstance(part, int) and 0 <= part < len(node.value):
            node = node.value[part]
            mark = node.start_mark
        else:
            break
    return _where(mark)


def load_yaml_as(text: str, source: str, parse: Callable[[Any], T], what: str, expected: str) -> T:
    """``parse`` of the document a YAML file holds, every problem located by ``source``, line and
    column (``surveys/nps.yaml:7:5: dimensions/0/id: ...``); ``what`` names the document in messages
    (``journey``, ``survey``), ``expected`` says what an empty file lacks. Journeys, surveys and the
    loyalty program read their files through it."""
    data, node = load_yaml_document(text, source)
    if data is None:
        message = f"{source}:1:1: the file holds no {what} (expected {expected})"
        raise ValidationError(message, [FieldError((), message)])
    try:
        return parse(data)
    except ValidationError as exc:
        placed = [(e, _locate(node, e.loc)) for e in exc.errors]
        errors = [FieldError(e.loc, f"{source}:{line}:{column}: {e.message}") for e, (line, column) in placed]
        shown = "; ".join(
            f"line {line}, column {column}: {path_text(e.loc)}: {e.message}" for e, (line, column) in placed[:SHOWN]
        )
        more = f" (and {len(placed) - SHOWN} more)" if len(placed) > SHOWN else ""
        raise ValidationError(f"{source}: invalid {what}: {shown}{more}", errors) from None


def load_journey_yaml(text: str, source: str = "<string>") -> Journey:
    """The journey a YAML file describes; :class:`ValidationError` naming ``source``, line and column
    of every problem (module docstring)."""
    return load_yaml_as(text, source, parse_journey, "journey", "name, trigger and steps")
