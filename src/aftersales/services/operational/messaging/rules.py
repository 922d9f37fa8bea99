"""Which suppressions stop which e-mail (checked at send time by ``gate``; written by ``outcomes`` and
``suppressions``):

* an unsubscribe or a manual entry on the message's topic, or on ``*``, blocks **marketing** e-mail;
* a hard bounce or a complaint (topic ``!hard_bounce`` / ``!complaint``) blocks **every** e-mail to
  the address it was recorded for (``address_hash``: SHA-256 of the trimmed, lower-cased address;
  none recorded: any address), so a customer who fixes a bouncing address is mailed again.

>>> address_hash(" Jane@Example.com ") == address_hash("jane@example.com")
True
>>> s = [SuppressionRecord("c1", "email", "*", "unsubscribed", datetime(2026, 1, 1, tzinfo=UTC))]
>>> suppression_reason(s, category="marketing", topic="tips", address="a@b.c")
'unsubscribed'
>>> suppression_reason(s, category="transactional", topic="tips", address="a@b.c") is None
True
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from datetime import UTC, datetime  # noqa: F401 - the doctest's

from aftersales.services.ports_messages import DELIVERABILITY_REASONS, SuppressionRecord

__all__ = ["address_hash", "deliverability_topic", "suppression_reason"]


def address_hash(address: str) -> str:
    """The hash a bounce is scoped by: SHA-256 of the trimmed, lower-cased address (hex)."""
    return hashlib.sha256(address.strip().lower().encode("utf-8")).hexdigest()


def deliverability_topic(reason: str) -> str:
    """The topic a hard bounce or complaint is stored under (``!hard_bounce``, ``!complaint``)."""
    return "!" + reason


def suppression_reason(
    suppressions: Sequence[SuppressionRecord], *, category: str, topic: str, address: str | None
) -> str | None:
    """Why the message may not be sent (the suppression's reason), or None (rules in the module)."""
    hashed = address_hash(address) if address else None
    for s in suppressions:
        if s.reason in DELIVERABILITY_REASONS:
            if s.address_hash is None or s.address_hash == hashed:
                return s.reason
        elif category == "marketing" and s.topic in (topic, "*"):
            return s.reason
    return None
