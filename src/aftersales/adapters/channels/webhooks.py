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

import httpx

from aftersales.services.webhooks import SendOutcome

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
    """POSTs signed JSON; network errors and timeouts become outcomes, never exceptions."""

    def __init__(self, timeout_s: float = 10.0, client: httpx.Client | None = None) -> None:
        self._client = client or httpx.Client(timeout=timeout_s, follow_redirects=False)

    def send(self, url: str, secret: str, payload: str, delivery_id: str, event_type: str) -> SendOutcome:
        headers = {
            "Content-Type": "application/json",
            "User-Agent": "aftersales-webhooks/1",
            "Aftersales-Delivery": delivery_id,
            "Aftersales-Event": event_type,
            SIGNATURE_HEADER: sign(secret, payload),
        }
        start = time.perf_counter()
        try:
            response = self._client.post(url, content=payload.encode("utf-8"), headers=headers)
        except httpx.TimeoutException as exc:
            return SendOutcome(None, f"timeout: {type(exc).__name__}", _ms(start))
        except httpx.HTTPError as exc:
            return SendOutcome(None, f"network error: {type(exc).__name__}: {exc}"[:500], _ms(start))
        return SendOutcome(response.status_code, None, _ms(start))

    def close(self) -> None:
        self._client.close()


def _ms(start: float) -> int:
    return int((time.perf_counter() - start) * 1000)
