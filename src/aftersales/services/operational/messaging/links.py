"""Signed links in e-mails (unsubscribe, preferences) and the instance's generated secrets.

**The signing key** is ``AFTERSALES_SECRET_KEY`` when set; otherwise 32 random bytes generated at
first use and kept in ``instance_secrets`` (``token_signing_key``), so links keep working across
restarts and every worker signs with the same key. Two processes using it for the first time at once
both try to insert theirs; the insert does nothing when a row exists, and both then read the row that
won (:meth:`MessageRepository.add_secret_if_absent`).

**Links** are ``<public_url>/v1/unsubscribe?token=...`` (purpose ``unsubscribe``; data: the channel,
the topic and the message) and ``<public_url>/preferences?token=...`` (purpose ``preferences``),
signed by ``core.tokens`` for the customer id, valid for a year by default. They hold ids only, never
an address. A link stays valid after use: unsubscribing twice is harmless.
"""

from __future__ import annotations

import base64
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import quote

from aftersales.core.tokens import VerifiedToken, sign_token, verify_token
from aftersales.services.ports import UnitOfWorkFactory

__all__ = [
    "LINK_TTL",
    "PREFERENCES",
    "PREFERENCES_PATH",
    "SIGNING_KEY_SECRET",
    "UNSUBSCRIBE",
    "UNSUBSCRIBE_PATH",
    "WEBHOOK_SECRET",
    "LinkSigner",
    "instance_secret",
    "signing_key",
    "webhook_secret",
]

UNSUBSCRIBE, PREFERENCES = "unsubscribe", "preferences"
UNSUBSCRIBE_PATH, PREFERENCES_PATH = "/v1/unsubscribe", "/preferences"
LINK_TTL = timedelta(days=365)
SIGNING_KEY_SECRET = "token_signing_key"
WEBHOOK_SECRET = "journey_webhook_secret"


def instance_secret(uow: UnitOfWorkFactory, name: str, make: str, now: datetime) -> str:
    """The secret stored as ``name``; ``make`` is stored first when there is none (race-safe)."""
    with uow() as u:
        stored = u.messages.secret(name)
        if stored is not None:
            return stored
        return u.messages.add_secret_if_absent(name, make, now)


def signing_key(uow: UnitOfWorkFactory, configured: bytes | None, now: datetime) -> bytes:
    """The key that signs every token: ``configured`` (the settings' ``secret_key``) when given, else
    the instance's generated one (see the module)."""
    if configured:
        return configured
    made = base64.urlsafe_b64encode(secrets.token_bytes(32)).decode("ascii")
    return base64.urlsafe_b64decode(instance_secret(uow, SIGNING_KEY_SECRET, made, now))


def webhook_secret(uow: UnitOfWorkFactory, now: datetime) -> str:
    """The secret that signs journeys' webhook steps (``Aftersales-Signature``), generated at first use."""
    return instance_secret(uow, WEBHOOK_SECRET, "whsec_" + secrets.token_urlsafe(32), now)


@dataclass(frozen=True)
class LinkSigner:
    """Makes and checks the signed links of e-mails (see the module)."""

    key: bytes
    public_url: str
    ttl: timedelta = LINK_TTL

    def _url(self, path: str, token: str) -> str:
        return f"{self.public_url.rstrip('/')}{path}?token={quote(token, safe='')}"

    def unsubscribe_url(self, customer_id: str, topic: str, now: datetime, *, message_id: str = "") -> str:
        data = {"channel": "email", "topic": topic, **({"message": message_id} if message_id else {})}
        return self._url(UNSUBSCRIBE_PATH, self.token(UNSUBSCRIBE, customer_id, now, data))

    def preferences_url(self, customer_id: str, now: datetime) -> str:
        return self._url(PREFERENCES_PATH, self.token(PREFERENCES, customer_id, now, {"channel": "email"}))

    def token(self, purpose: str, customer_id: str, now: datetime, data: Mapping[str, str]) -> str:
        return sign_token(self.key, purpose, customer_id, expires_at=now + self.ttl, data=data)

    def verify(self, token: str, purpose: str, now: datetime) -> VerifiedToken:
        """The token's contents; ``TokenError`` (400) when tampered with, expired or for another purpose."""
        return verify_token(self.key, token, purpose, now=now)
