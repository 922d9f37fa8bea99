"""The one signer of every token that leaves the system (unsubscribe, preference and survey links).

A token binds a **purpose** (``unsubscribe``, ``preferences``, ``survey``...), a **subject** (whom
it is about: a customer id), optional small **data** (``{"topic": "win_back"}``) and an **expiry**,
and is signed with HMAC-SHA256 under the instance's key::

    token   = b64url(payload) "." b64url(mac)
    payload = compact JSON [version, purpose, subject, expires (Unix seconds), data]
    mac     = HMAC-SHA256(key, "aftersales-token|" + b64url(payload))[:16]

``b64url`` is URL-safe base64 without padding, so a token goes into a URL path or query unquoted.
The MAC is truncated to 128 bits, half the hash's output, the shortest RFC 2104 (section 5)
recommends; forging one still takes 2^128 guesses on average. The payload is readable by whoever
holds the token (it is signed, not encrypted): put ids in it, never an address or a name.

:func:`verify_token` checks, in this order, and raises :class:`~aftersales.core.errors.TokenError`
with ``reason`` set to the first failure: ``malformed`` (not two base64 parts, not the payload's
shape), ``bad_signature`` (compared in constant time), ``wrong_purpose``, ``expired``
(``now >= expires_at``). Time comes in as an argument: the core never reads the clock.

>>> from datetime import datetime, timezone
>>> key = b"k" * 32
>>> t = sign_token(key, "unsubscribe", "c_42", expires_at=datetime(2030, 1, 1, tzinfo=timezone.utc),
...                data={"topic": "win_back"})
>>> t
'WzEsInVuc3Vic2NyaWJlIiwiY180MiIsMTg5MzQ1NjAwMCx7InRvcGljIjoid2luX2JhY2sifV0.tvSgKD6jXAMxvi_IA1kacw'
>>> v = verify_token(key, t, "unsubscribe", now=datetime(2029, 6, 1, tzinfo=timezone.utc))
>>> v.subject, dict(v.data)
('c_42', {'topic': 'win_back'})
>>> verify_token(key, t, "survey", now=datetime(2029, 6, 1, tzinfo=timezone.utc))
Traceback (most recent call last):
aftersales.core.errors.TokenError: the token was made for another purpose
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from types import MappingProxyType

from aftersales.core.errors import TokenError

__all__ = [
    "MAX_PAYLOAD_BYTES",
    "MIN_KEY_BYTES",
    "TOKEN_ERROR_REASONS",
    "VerifiedToken",
    "sign_token",
    "verify_token",
]

#: Why a token was refused (``TokenError.reason``), in the order :func:`verify_token` checks.
TOKEN_ERROR_REASONS = ("malformed", "bad_signature", "wrong_purpose", "expired")

#: Keys shorter than this are refused: HMAC's strength is capped by its key.
MIN_KEY_BYTES = 16
#: Largest JSON payload signed: tokens travel in URLs, and data is meant to be a few ids.
MAX_PAYLOAD_BYTES = 512

_VERSION = 1
_MAC_BYTES = 16
_DOMAIN = b"aftersales-token|"


@dataclass(frozen=True)
class VerifiedToken:
    """What a valid token says: its purpose, subject, data and expiry (UTC)."""

    purpose: str
    subject: str
    expires_at: datetime
    data: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    """Decode canonical unpadded base64url only: the last character's unused bits must be zero, so
    exactly one spelling of a token verifies (no variant of it can pass as another token)."""
    if not text or not text.isascii():
        raise ValueError("empty or not ASCII")
    raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    if _b64(raw) != text:
        raise ValueError("not canonical base64url")
    return raw


def _mac(key: bytes, payload_b64: str) -> bytes:
    return hmac.new(key, _DOMAIN + payload_b64.encode("ascii"), hashlib.sha256).digest()[:_MAC_BYTES]


def _check_key(key: bytes) -> None:
    if not isinstance(key, bytes) or len(key) < MIN_KEY_BYTES:
        raise ValueError(f"the signing key must be at least {MIN_KEY_BYTES} bytes")


def _aware(moment: datetime, name: str) -> datetime:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware")
    return moment.astimezone(UTC)


def sign_token(
    key: bytes, purpose: str, subject: str, *, expires_at: datetime, data: Mapping[str, str] | None = None
) -> str:
    """A URL-safe token binding ``purpose``, ``subject`` and ``data`` until ``expires_at`` (aware).

    Expiry is kept to the whole second (rounded down). Raises ``ValueError`` for a short key, an
    empty purpose, non-string data or a payload over :data:`MAX_PAYLOAD_BYTES` (programming errors,
    not user input)."""
    _check_key(key)
    if not purpose:
        raise ValueError("a token needs a purpose")
    items = dict(data or {})
    if not all(isinstance(k, str) and isinstance(v, str) for k, v in items.items()):
        raise ValueError("token data maps strings to strings")
    expires = int(_aware(expires_at, "expires_at").timestamp())
    payload = json.dumps(
        [_VERSION, purpose, subject, expires, items], separators=(",", ":"), ensure_ascii=False, sort_keys=True
    ).encode("utf-8")
    if len(payload) > MAX_PAYLOAD_BYTES:
        raise ValueError(f"token payload is {len(payload)} bytes; at most {MAX_PAYLOAD_BYTES}")
    body = _b64(payload)
    return f"{body}.{_b64(_mac(key, body))}"


def _malformed() -> TokenError:
    return TokenError("the token is malformed", "malformed")


def verify_token(key: bytes, token: str, purpose: str, *, now: datetime) -> VerifiedToken:
    """The token's contents when it is well formed, signed with ``key``, made for ``purpose`` and
    not expired at ``now`` (aware); else :class:`TokenError` naming the first failed check."""
    _check_key(key)
    current = _aware(now, "now")
    if not isinstance(token, str) or token.count(".") != 1:
        raise _malformed()
    body, mac_text = token.split(".")
    try:
        mac = _unb64(mac_text)
        raw = _unb64(body)
    except (ValueError, binascii.Error):
        raise _malformed() from None
    if len(mac) != _MAC_BYTES:
        raise _malformed()
    if not hmac.compare_digest(mac, _mac(key, body)):
        raise TokenError("the token's signature does not match (altered, or from another instance)", "bad_signature")
    try:
        version, made_for, subject, expires, data = json.loads(raw)
    except (ValueError, TypeError):  # signed by us, so only a future format lands here
        raise _malformed() from None
    if version != _VERSION or not isinstance(expires, int) or not isinstance(data, dict):
        raise _malformed()
    if not hmac.compare_digest(str(made_for).encode(), purpose.encode()):
        raise TokenError("the token was made for another purpose", "wrong_purpose")
    expires_at = datetime.fromtimestamp(expires, UTC)
    if current >= expires_at:
        raise TokenError("the token has expired", "expired")
    return VerifiedToken(str(made_for), str(subject), expires_at, MappingProxyType(dict(data)))
