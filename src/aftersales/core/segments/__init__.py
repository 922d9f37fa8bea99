"""Segment definitions: one AST, a text and a JSON spelling, type-checked against the profile fields, compiled to Ibis.

See ``docs/segments.md`` for the language. Modules: :mod:`.fields` (the profile-field catalogue),
:mod:`.ast` (the nodes), :mod:`.check` (type rules, :class:`DefinitionError`), :mod:`.lexer` and
:mod:`.text` (the text form), :mod:`.json_form` (the JSON form), :mod:`.compile` (to Ibis).
"""
