"""Opaque list cursors, one format for every list of the API (resources, scores, webhook subscriptions
and deliveries).

A list in key order continues *after* the key of the last row it returned, which stays correct while
rows are added (an offset would skip or repeat rows). The cursor is that key as a JSON array,
base64url-encoded without padding, so clients treat it as opaque:

>>> encode_cursor(["c-17", 3])
'WyJjLTE3IiwzXQ'
>>> decode_cursor("WyJjLTE3IiwzXQ", (str, int))
['c-17', 3]

A cursor comes back from the client, so it is input like any other: it must be an array with one
value per key column of *the list it is given to*, each of that column's type, before it reaches a
query. Otherwise a value the database cannot compare with the column (an object, an array, a float,
``true``, an integer beyond 64 bits, NaN, a string with NUL or a lone surrogate) would fail inside the
query, as a 500 instead of a 400:

>>> for value in ('[{"a":1}]', "[5]", "[true]", "[1.5]", "[NaN]", '["a","b"]'):
...     try:
...         decode_cursor(encode_text(value), (str,))
...     except UnusableInputError:
...         print("refused", value)
refused [{"a":1}]
refused [5]
refused [true]
refused [1.5]
refused [NaN]
refused ["a","b"]
>>> decode_cursor(encode_text(str(2**70).join("[]")), (int,))
Traceback (most recent call last):
aftersales.core.errors.UnusableInputError: invalid cursor: pass back next_cursor exactly as received
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Sequence
from typing import Any

from aftersales.core.errors import UnusableInputError

__all__ = ["CursorValue", "decode_cursor", "encode_cursor", "encode_text"]

CursorValue = str | int
"""The types a key column of a list may have (the contract's ``string`` and ``int`` keys)."""

INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1
_MESSAGE = "invalid cursor: pass back next_cursor exactly as received"


def encode_text(text: str) -> str:
    """base64url of ``text`` without padding (the outer form of a cursor)."""
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def encode_cursor(key: Sequence[CursorValue]) -> str:
    """The cursor that continues a list after the row whose key is ``key``."""
    return encode_text(json.dumps(list(key), separators=(",", ":")))


def _refuse_constant(name: str) -> Any:
    raise ValueError(name)  # NaN, Infinity, -Infinity: not JSON, but json.loads accepts them by default


def _fits(value: object, kind: type[CursorValue]) -> bool:
    if kind is int:  # bool is a subclass of int in Python; a cursor never holds one
        return type(value) is int and INT64_MIN <= value <= INT64_MAX
    if type(value) is not str or "\x00" in value:
        return False
    try:
        value.encode()  # a lone surrogate (from a "\ud800" escape) cannot be sent to the database
    except UnicodeEncodeError:
        return False
    return True


def decode_cursor(cursor: str, kinds: Sequence[type[CursorValue]]) -> list[CursorValue]:
    """The key a cursor continues after, checked against the list's key column types ``kinds``
    (``str`` or ``int``, in key order); anything else is an :class:`UnusableInputError` (400)."""
    try:
        value = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)), parse_constant=_refuse_constant)
    except (ValueError, binascii.Error, UnicodeDecodeError, RecursionError):
        raise UnusableInputError(_MESSAGE) from None
    if type(value) is not list or len(value) != len(kinds) or not all(map(_fits, value, kinds)):
        raise UnusableInputError(_MESSAGE)
    return value
