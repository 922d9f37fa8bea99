"""Segment definitions: one AST, a text and a JSON spelling, type-checked against the profile fields, compiled to Ibis.

See ``docs/segments.md`` for the language. Modules: :mod:`.fields` (the profile-field catalogue),
:mod:`.ast` (the nodes), :mod:`.check` (type rules, :class:`DefinitionError`), :mod:`.lexer` and
:mod:`.text` (the text form), :mod:`.json_form` (the JSON form), :mod:`.compile` (to Ibis).
"""

from aftersales.core.segments.ast import Condition
from aftersales.core.segments.check import DefinitionError, validate
from aftersales.core.segments.compile import BehaviourTables, compile_condition, members, required_tables
from aftersales.core.segments.fields import FIELDS, PROFILE_FIELDS, ProfileField, profile_schema
from aftersales.core.segments.json_form import from_json, to_json
from aftersales.core.segments.text import parse, to_text

__all__ = [
    "FIELDS",
    "PROFILE_FIELDS",
    "BehaviourTables",
    "Condition",
    "DefinitionError",
    "ProfileField",
    "compile_condition",
    "from_json",
    "members",
    "parse",
    "profile_schema",
    "required_tables",
    "to_json",
    "to_text",
    "validate",
]
