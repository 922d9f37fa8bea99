"""Idempotent writes: a retried request gets the first response, and nothing is written twice.

A client sends ``Idempotency-Key: <unique string>`` with a write. The first request *claims* the key
(an ``in_progress`` record, inserted with ON CONFLICT DO NOTHING, so exactly one concurrent request
wins), runs, and stores its response. A retry with the same key and the same request (same method,
path, query and body: the *fingerprint*) gets that stored response back; a retry that arrives while
the first still runs waits for it. Reusing a key for a different request is an error (422), as the
IETF ``Idempotency-Key`` draft recommends. Keys are scoped to the API key that sent them.

Server errors (5xx) release the claim so that the retry runs again.

A claim whose holder died (its process killed mid-request) would block the key for good; it is
taken over once it is *stale*. The holder proves it is alive by renewing its claim (:func:`renew`,
which moves the claim's time stamp to now) every :data:`HEARTBEAT_S` seconds while it runs, so a
claim not renewed for :data:`STALE_AFTER_S` seconds has no living holder. A retry that waits for a
dead holder runs after at most ``STALE_AFTER_S`` (15 s), inside the 30 s it waits, instead of being
told 409 for 120 s, and a request that runs longer than 15 s is still never run twice. The one way
a living holder can be taken over: its process stalls (or the store is unreachable for its renewals)
for ``STALE_AFTER_S - HEARTBEAT_S`` seconds or more; and the API processes' clocks must agree to a
few seconds, since a claim's age is measured by the waiter's clock against the holder's.
"""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from aftersales.core.errors import ConflictError, UnusableInputError, ValidationError
from aftersales.services.ports import IdempotencyRecord, UnitOfWorkFactory

__all__ = [
    "HEARTBEAT_S",
    "STALE_AFTER_S",
    "StoredResponse",
    "begin",
    "check_key",
    "complete",
    "fingerprint",
    "release",
    "renew",
]

MAX_KEY_LENGTH = 255
HEARTBEAT_S = 5.0
STALE_AFTER_S = 15.0


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
    stale_after_s: float = STALE_AFTER_S,
) -> StoredResponse | None:
    """Claim ``key``: None when this request should run, else the stored response to replay. A claim
    not renewed for ``stale_after_s`` seconds is taken over (its holder is gone); a live one is waited
    for up to ``wait_s`` seconds, then :class:`ConflictError` (409)."""
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


def renew(uow: UnitOfWorkFactory, key_id: str, key: str) -> None:
    """The holder's heartbeat: stamp its ``in_progress`` claim with the current time, so that waiters
    do not take it for abandoned. (``take_over`` of a claim stamped before now moves the stamp to now;
    a completed or released claim is left alone.)"""
    now = datetime.now(UTC)
    with uow() as u:
        u.idempotency.take_over(key_id, key, now, now)


def release(uow: UnitOfWorkFactory, key_id: str, key: str) -> None:
    with uow() as u:
        u.idempotency.release(key_id, key)
