"""Webhook sender over HTTP (httpx), signed like Stripe's webhooks.

Header ``Aftersales-Signature: t=<unix seconds>,v1=<hex>`` where

    v1 = HMAC-SHA256(key = subscription secret, message = f"{t}.{raw body}")

A receiver recomputes v1 over the raw body it got and the ``t`` in the header, compares in
constant time, and rejects time stamps older than a tolerance (5 minutes) against replays:
:func:`verify_signature` does exactly that.

>>> header = sign("whsec_test", '{"a":1}', timestamp=1700000000)
>>> header
't=1700000000,v1=38877139021993b830af32feea6e18a8da83eb2f6e49ee50bd9e4cf4ca4d3789'
>>> verify_signature("whsec_test", header, '{"a":1}', now=1700000100)
True
>>> verify_signature("whsec_test", header, '{"a":2}', now=1700000100)
False
"""

from __future__ import annotations

import hashlib
import hmac
import time

import httpcore
import httpx

from aftersales.adapters.channels.guarded_network import (
    DestinationRefused,
    GuardedBackend,
    Resolver,
    deadline,
    system_resolver,
)
from aftersales.services.operational.webhook_destinations import REFUSED, DestinationPolicy
from aftersales.services.operational.webhooks import SendOutcome

__all__ = ["SIGNATURE_HEADER", "HttpWebhookSender", "sign", "verify_signature"]

SIGNATURE_HEADER = "Aftersales-Signature"


def _mac(secret: str, timestamp: int, payload: str) -> str:
    message = f"{timestamp}.".encode() + payload.encode("utf-8")
    return hmac.new(secret.encode("utf-8"), message, hashlib.sha256).hexdigest()


def sign(secret: str, payload: str, *, timestamp: int | None = None) -> str:
    """The signature header value for ``payload`` at ``timestamp`` (default: now)."""
    t = int(time.time()) if timestamp is None else timestamp
    return f"t={t},v1={_mac(secret, t, payload)}"


def verify_signature(
    secret: str, header: str, payload: str, *, now: float | None = None, tolerance_s: int = 300
) -> bool:
    """Whether ``header`` signs ``payload`` with ``secret`` and is at most ``tolerance_s`` old."""
    try:
        parts = dict(p.split("=", 1) for p in header.split(","))
        t = int(parts["t"])
    except (ValueError, KeyError):
        return False
    current = time.time() if now is None else now
    if abs(current - t) > tolerance_s:
        return False
    return hmac.compare_digest(parts.get("v1", ""), _mac(secret, t, payload))


class HttpWebhookSender:
    """POSTs signed JSON; network errors, timeouts and refusals become outcomes, never exceptions.

    ``deadline_s`` bounds the whole attempt (resolving, connecting, sending, reading the answer), not
    each read. Connections go only where ``policy`` allows, checked on the resolved address
    (:mod:`aftersales.adapters.channels.guarded_network`); a refused destination is recorded with a
    neutral reason, never with what the network said. The answer's status is what counts: at most
    64 KiB of its body is read (so the connection can be kept alive), and a body cut by the deadline
    does not undo the status. Redirects are not followed and no proxy from the environment is used.
    """

    def __init__(
        self,
        deadline_s: float = 10.0,
        policy: DestinationPolicy | None = None,
        *,
        resolve: Resolver = system_resolver,
        max_connections: int = 100,
    ) -> None:
        self.deadline_s = deadline_s
        backend = GuardedBackend(policy or DestinationPolicy(), resolve)
        self._pool = httpcore.ConnectionPool(
            network_backend=backend, max_connections=max_connections, keepalive_expiry=30.0
        )

    def send(self, url: str, secret: str, payload: str, delivery_id: str, event_type: str) -> SendOutcome:
        start = time.perf_counter()
        try:
            target = httpx.URL(url)
        except httpx.InvalidURL:
            return SendOutcome(None, "refused: invalid URL", 0, refused=True)
        if target.scheme not in ("http", "https") or target.userinfo:
            return SendOutcome(None, "refused: invalid URL", 0, refused=True)
        headers: dict[bytes | str, bytes | str] = {
            "Host": target.netloc.decode("ascii"),
            "Content-Type": "application/json",
            "User-Agent": "aftersales-webhooks/1",
            "Aftersales-Delivery": delivery_id,
            "Idempotency-Key": delivery_id,  # the common name for it: the same on every retry
            "Aftersales-Event": event_type,
            SIGNATURE_HEADER: sign(secret, payload),
        }
        core_url = httpcore.URL(
            scheme=target.raw_scheme, host=target.raw_host, port=target.port, target=target.raw_path
        )
        timeouts = dict.fromkeys(("connect", "read", "write", "pool"), self.deadline_s)
        status: int | None = None
        try:
            with (
                deadline(self.deadline_s),
                self._pool.stream(
                    "POST", core_url, headers=headers, content=payload.encode("utf-8"), extensions={"timeout": timeouts}
                ) as response,
            ):
                status = response.status
                _drain(response)
        except DestinationRefused:
            return SendOutcome(None, f"refused: {REFUSED}", _ms(start), refused=True)
        except httpcore.TimeoutException as exc:
            if status is None:
                return SendOutcome(None, f"timeout: {type(exc).__name__}", _ms(start))
        except (httpcore.NetworkError, httpcore.ProtocolError, httpcore.UnsupportedProtocol) as exc:
            if status is None:
                return SendOutcome(None, f"network error: {type(exc).__name__}: {exc}"[:500], _ms(start))
        return SendOutcome(status, None, _ms(start))

    def close(self) -> None:
        self._pool.close()


def _drain(response: httpcore.Response, limit: int = 64 * 1024) -> None:
    """Read up to ``limit`` bytes of the body: a short body read to its end lets the pool reuse the
    connection; a longer one is left unread and the connection closed."""
    seen = 0
    for chunk in response.iter_stream():
        seen += len(chunk)
        if seen > limit:
            break


def _ms(start: float) -> int:
    return int((time.perf_counter() - start) * 1000)
