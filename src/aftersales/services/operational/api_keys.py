"""API keys: created with a scope, shown once, stored only as a hash, compared in constant time.

A key reads ``as_<key_id>_<secret>``: ``key_id`` (12 hex digits) finds the stored record, and the
SHA-256 of the whole key is compared with :func:`hmac.compare_digest`. The secret carries 256 bits
of randomness, so a fast hash is enough (no password stretching needed; that is for low-entropy
secrets).

Scopes: ``ingest`` writes (events and resources), ``read`` reads (resources, metrics, scores),
``admin`` does everything, including managing webhooks.

>>> allows("admin", "read"), allows("read", "ingest"), allows("ingest", "ingest")
(True, False, True)
>>> parse_key("as_0123456789ab_secret")
('0123456789ab', 'secret')
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal

from aftersales.core.errors import AftersalesError, NotFoundError, ValidationError
from aftersales.services.ports import ApiKeyRecord, UnitOfWorkFactory

__all__ = [
    "SCOPES",
    "AuthenticationError",
    "CreatedKey",
    "PermissionDeniedError",
    "Principal",
    "Scope",
    "allows",
    "authenticate",
    "create_key",
    "hash_key",
    "list_keys",
    "new_key",
    "parse_key",
    "revoke_key",
]

Scope = Literal["ingest", "read", "admin"]
SCOPES: tuple[str, ...] = ("ingest", "read", "admin")
_PREFIX = "as"
_DUMMY_HASH = hashlib.sha256(b"no such key").hexdigest()


class AuthenticationError(AftersalesError):
    """No API key, or one that is unknown, malformed or revoked (HTTP 401)."""

    exit_code = 2
    http_status = 401
    title = "Unauthorized"


class PermissionDeniedError(AftersalesError):
    """The key is valid but its scope does not allow the operation (HTTP 403)."""

    exit_code = 2
    http_status = 403
    title = "Forbidden"


@dataclass(frozen=True)
class Principal:
    """Who is calling: the key's id (safe to log) and scope."""

    key_id: str
    scope: str


@dataclass(frozen=True)
class CreatedKey:
    key_id: str
    scope: str
    name: str | None
    created_at: datetime
    key: str  # the plaintext key: returned once, never stored

    @property
    def record(self) -> ApiKeyRecord:
        """What the store keeps of this key: its hash, never the key."""
        return ApiKeyRecord(self.key_id, self.name, self.scope, hash_key(self.key), self.created_at)


def allows(granted: str, required: str) -> bool:
    """Whether a key with scope ``granted`` may do what needs ``required`` (admin may do all)."""
    return granted == "admin" or granted == required


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def parse_key(key: str) -> tuple[str, str] | None:
    """``(key_id, secret)`` of a well-formed key, else None."""
    parts = key.split("_", 2)
    if len(parts) != 3 or parts[0] != _PREFIX or not parts[1] or not parts[2]:
        return None
    return parts[1], parts[2]


def new_key(scope: str, name: str | None = None) -> CreatedKey:
    """A fresh key with ``scope`` (:class:`ValidationError` for an unknown one), created now and not
    yet stored: ``as_`` + 12 hex digits (48 random bits) + ``_`` + 43 URL-safe characters (256 bits).
    :func:`create_key` stores it; ``aftersales keys create`` on a store at the head stores its
    :attr:`CreatedKey.record` with the plain database driver (``bootstrap.keys``)."""
    if scope not in SCOPES:
        raise ValidationError(f"unknown scope {scope!r}; use one of {', '.join(SCOPES)}")
    key_id = secrets.token_hex(6)
    key = f"{_PREFIX}_{key_id}_{secrets.token_urlsafe(32)}"
    return CreatedKey(key_id, scope, name, datetime.now(UTC), key)


def create_key(uow: UnitOfWorkFactory, scope: str, name: str | None = None) -> CreatedKey:
    """A :func:`new_key`, stored (its hash) in one unit of work."""
    created = new_key(scope, name)
    with uow() as u:
        u.api_keys.add(created.record)
    return created


def list_keys(uow: UnitOfWorkFactory) -> list[ApiKeyRecord]:
    with uow() as u:
        return u.api_keys.list()


def revoke_key(uow: UnitOfWorkFactory, key_id: str) -> ApiKeyRecord:
    with uow() as u:
        if not u.api_keys.revoke(key_id, datetime.now(UTC)):
            raise NotFoundError(f"no active API key {key_id!r}")
        record = u.api_keys.get(key_id)
    assert record is not None
    return record


def authenticate(uow: UnitOfWorkFactory, presented: str | None) -> Principal:
    """The principal of a presented key; :class:`AuthenticationError` when missing, unknown or revoked."""
    if not presented:
        raise AuthenticationError("an API key is required (Authorization: Bearer <key>)")
    parsed = parse_key(presented)
    record = None
    if parsed is not None:
        with uow() as u:
            record = u.api_keys.get(parsed[0])
    stored = record.secret_hash if record is not None else _DUMMY_HASH
    # compare_digest runs even for unknown ids, so timing does not tell known ids from unknown ones.
    matches = hmac.compare_digest(stored, hash_key(presented))
    if record is None or not matches or record.revoked_at is not None:
        raise AuthenticationError("invalid or revoked API key")
    return Principal(record.key_id, record.scope)


def require(principal: Principal, scope: str) -> None:
    """Raise :class:`PermissionDeniedError` unless ``principal`` may act with ``scope``."""
    if not allows(principal.scope, scope):
        raise PermissionDeniedError(f"this API key has scope {principal.scope!r}; this operation needs {scope!r}")
