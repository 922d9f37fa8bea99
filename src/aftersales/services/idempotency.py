"""Idempotent writes: a retried request gets the first response, and nothing is written twice.

A client sends ``Idempotency-Key: <unique string>`` with a write. The first request *claims* the key
(an ``in_progress`` record, inserted with ON CONFLICT DO NOTHING, so exactly one concurrent request
wins), runs, and stores its response. A retry with the same key and the same request (same method,
path, query and body: the *fingerprint*) gets that stored response back; a retry that arrives while
the first still runs waits for it. Reusing a key for a different request is an error (422), as the
IETF ``Idempotency-Key`` draft recommends. Keys are scoped to the API key that sent them.

Server errors (5xx) release the claim so that the retry runs again; a claim whose owner died is
taken over after ``stale_after`` seconds.
"""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from aftersales.core.errors import ConflictError, UnusableInputError, ValidationError
from aftersales.services.ports import IdempotencyRecord, UnitOfWorkFactory

__all__ = ["StoredResponse", "begin", "check_key", "complete", "fingerprint", "release"]

MAX_KEY_LENGTH = 255


@dataclass(frozen=True)
class StoredResponse:
    status_code: int
    content_type: str
    body: bytes


def check_key(key: str) -> str:
    """A usable idempotency key: 1 to 255 printable ASCII characters.

    >>> check_key("order-42-create")
    'order-42-create'
    """
    if not key or len(key) > MAX_KEY_LENGTH or not all(33 <= ord(ch) <= 126 for ch in key):
        raise UnusableInputError("Idempotency-Key must be 1 to 255 printable ASCII characters without spaces")
    return key


def fingerprint(method: str, path: str, query: str, body: bytes) -> str:
    """SHA-256 over the parts of a request that must match for a replay.

    >>> fingerprint("POST", "/v1/events", "", b"{}")[:12]
    '6142ef4ab97a'
    """
    h = hashlib.sha256()
    for part in (method.upper().encode(), path.encode(), query.encode(), body):
        h.update(len(part).to_bytes(8, "big"))
        h.update(part)
    return h.hexdigest()


def begin(
    uow: UnitOfWorkFactory,
    key_id: str,
    key: str,
    print_: str,
    *,
    wait_s: float = 30.0,
    poll_s: float = 0.02,
    stale_after_s: float = 120.0,
) -> StoredResponse | None:
    """Claim ``key``: None when this request should run, else the stored response to replay."""
    deadline = time.monotonic() + wait_s
    while True:
        now = datetime.now(UTC)
        with uow() as u:
            if u.idempotency.claim(IdempotencyRecord(key_id, key, print_, "in_progress", None, None, None, now)):
                return None
        with uow() as u:
            rec = u.idempotency.get(key_id, key)
        if rec is None:  # released between our two statements: try to claim again
            continue
        if rec.fingerprint != print_:
            raise ValidationError("this Idempotency-Key was already used for a different request")
        if rec.state == "completed":
            assert rec.status_code is not None and rec.body is not None
            return StoredResponse(rec.status_code, rec.content_type or "application/json", rec.body)
        with uow() as u:
            if u.idempotency.take_over(key_id, key, now - timedelta(seconds=stale_after_s), now):
                return None
        if time.monotonic() > deadline:
            raise ConflictError("a request with this Idempotency-Key is still in progress; retry later")
        time.sleep(poll_s)


def complete(uow: UnitOfWorkFactory, key_id: str, key: str, response: StoredResponse) -> None:
    with uow() as u:
        u.idempotency.complete(
            key_id, key, response.status_code, response.content_type, response.body, datetime.now(UTC)
        )


def release(uow: UnitOfWorkFactory, key_id: str, key: str) -> None:
    with uow() as u:
        u.idempotency.release(key_id, key)
