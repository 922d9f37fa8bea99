"""The tokenizer of the segment text form, and the located error every text problem raises.

Tokens: identifiers (``[A-Za-z_][A-Za-z0-9_]*``; field and function names are case-sensitive),
keywords (``and or not in is null between contains true false date timestamp now``, any case),
strings in single quotes (a quote inside is doubled: ``'O''Brien'``; they may span lines),
unsigned numbers (``12``, ``0.5``, ``1e-05``), and the symbols ``= != < <= > >= ( ) , + -``.
Whitespace separates tokens; nothing else is allowed.

>>> [t.text for t in tokenize("clv_tier = 'it''s' AND orders>=2")]
['clv_tier', '=', "'it''s'", 'and', 'orders', '>=', '2', '']
>>> tokenize("orders ~ 2")
Traceback (most recent call last):
aftersales.core.segments.check.DefinitionError: line 1, column 8: unexpected character '~'
  orders ~ 2
         ^
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from aftersales.core.errors import FieldError
from aftersales.core.segments.check import DefinitionError

__all__ = ["KEYWORDS", "Token", "TokenKind", "located_error", "tokenize"]

KEYWORDS = frozenset(
    {"and", "or", "not", "in", "is", "null", "between", "contains", "true", "false", "date", "timestamp", "now"}
)
TokenKind = Literal["ident", "keyword", "string", "number", "symbol", "eof"]

_NUMBER = re.compile(r"\d+(?:\.\d+)?(?:[eE][+-]?\d+)?")
_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_SYMBOLS = ("!=", "<=", ">=", "=", "<", ">", "(", ")", ",", "+", "-")


@dataclass(frozen=True)
class Token:
    """One token: its kind, its text (keywords lower-cased), its value and where it starts (0-based offset)."""

    kind: TokenKind
    text: str
    value: str | int | float
    offset: int
    length: int


def located_error(source: str, offset: int, length: int, message: str, name: str = "where") -> DefinitionError:
    """A :class:`DefinitionError` at ``offset`` of ``source``: ``line L, column C: message`` and a caret excerpt.

    The :class:`FieldError`'s ``loc`` is ``(name, line, column)`` (both 1-based).
    """
    line = source.count("\n", 0, offset) + 1
    start = source.rfind("\n", 0, offset) + 1
    end = source.find("\n", offset)
    text_line = source[start : end if end >= 0 else len(source)]
    column = offset - start + 1
    carets = "^" * max(1, min(length, len(text_line) - (column - 1)))
    excerpt = f"  {text_line}\n  {' ' * (column - 1)}{carets}"
    full = f"line {line}, column {column}: {message}"
    return DefinitionError(f"{full}\n{excerpt}", [FieldError((name, line, column), message)])


def _string(source: str, start: int, name: str) -> tuple[str, int]:
    """The string literal opening at ``start``: its value and the offset after its closing quote."""
    parts: list[str] = []
    i = start + 1
    while True:
        j = source.find("'", i)
        if j < 0:
            raise located_error(source, start, 1, "string not closed: add a closing quote (')", name)
        parts.append(source[i:j])
        if source.startswith("''", j):
            parts.append("'")
            i = j + 2
            continue
        return "".join(parts), j + 1


def tokenize(source: str, name: str = "where") -> list[Token]:
    """The tokens of ``source``, ending with an ``eof`` token; a bad character is a located error."""
    tokens: list[Token] = []
    i, n = 0, len(source)
    while i < n:
        ch = source[i]
        if ch.isspace():
            i += 1
            continue
        if ch == "'":
            value, end = _string(source, i, name)
            tokens.append(Token("string", source[i:end], value, i, end - i))
            i = end
            continue
        if m := _NUMBER.match(source, i):
            text = m.group()
            number: int | float = int(text) if text.isdigit() else float(text)
            if isinstance(number, float) and number == float("inf"):
                raise located_error(source, i, len(text), f"number {text} is too large", name)
            tokens.append(Token("number", text, number, i, len(text)))
            i = m.end()
            continue
        if m := _IDENT.match(source, i):
            text = m.group()
            if text.lower() in KEYWORDS:
                tokens.append(Token("keyword", text.lower(), text.lower(), i, len(text)))
            else:
                tokens.append(Token("ident", text, text, i, len(text)))
            i = m.end()
            continue
        sym = next((s for s in _SYMBOLS if source.startswith(s, i)), None)
        if sym is None:
            raise located_error(source, i, 1, f"unexpected character {ch!r}", name)
        tokens.append(Token("symbol", sym, sym, i, len(sym)))
        i += len(sym)
    tokens.append(Token("eof", "", "", n, 1))
    return tokens
