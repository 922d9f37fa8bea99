"""The send-time checks: consent, suppressions, quiet hours and the frequency cap, decided for a
batch of claimed e-mail messages just before they are sent (not only when they were queued).

Suppressions resolve per message before the core policy sees them (``suppressed`` is already "for
this category"):

* an unsubscribe or a manual entry on the message's topic, or on ``*``, blocks **marketing** e-mail;
* a hard bounce or a complaint (topic ``!hard_bounce`` / ``!complaint``) blocks **every** e-mail to
  the address it was recorded for (``address_hash``: SHA-256 of the trimmed, lower-cased address;
  none recorded: any address), so a customer who fixes a bouncing address is mailed again.

Then :func:`aftersales.core.journeys.policy.decide_send` rules on consent (marketing only), quiet
hours in the customer's own zone (``customers.timezone``, else the business default) and the cap on
marketing e-mail per rolling window, counting the customer's marketing e-mails sent, being sent or of
unknown outcome, plus those this batch has already decided to send.

>>> address_hash(" Jane@Example.com ") == address_hash("jane@example.com")
True
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from aftersales.core.journeys.policy import SendDecision, SendPolicy, decide_send
from aftersales.services.ports_messages import (
    DELIVERABILITY_REASONS,
    MessageRecord,
    Recipient,
    SuppressionRecord,
)

__all__ = ["Verdict", "address_hash", "check_batch", "deliverability_topic", "suppression_reason"]


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


@dataclass(frozen=True)
class Verdict:
    """What to do with one claimed message: ``send``, ``defer`` (until ``not_before``), ``skip`` or
    ``suppress``, with the reason."""

    message: MessageRecord
    action: str
    reason: str | None = None
    not_before: datetime | None = None


def check_batch(
    messages: Sequence[MessageRecord],
    *,
    recipients: Mapping[str, Recipient],
    suppressions: Sequence[SuppressionRecord],
    recent: Mapping[str, Sequence[datetime]],
    policy: SendPolicy,
    default_zone: ZoneInfo,
    now: datetime,
) -> list[Verdict]:
    """One verdict per e-mail message, in order (see the module); a customer who no longer exists or
    has no address is skipped."""
    by_customer: dict[str, list[SuppressionRecord]] = {}
    for s in suppressions:
        by_customer.setdefault(s.customer_id, []).append(s)
    sent_now: dict[str, list[datetime]] = {c: list(v) for c, v in recent.items()}
    out = []
    for m in messages:
        r = recipients.get(m.customer_id)
        if r is None:
            out.append(Verdict(m, "skip", "customer not found"))
            continue
        if not r.email:
            out.append(Verdict(m, "skip", "no e-mail address"))
            continue
        reason = suppression_reason(
            by_customer.get(m.customer_id, ()), category=m.category, topic=m.topic, address=r.email
        )
        decision: SendDecision = decide_send(
            policy,
            category=m.category,
            now=now,
            zone=_zone(r.timezone, default_zone),
            recent_marketing_sends=sent_now.get(m.customer_id, ()),
            consent=r.email_consent,
            suppressed=reason is not None,
            queued_at=m.created_at,
        )
        why = f"suppressed: {reason}" if decision.action == "suppress" else decision.reason
        out.append(Verdict(m, decision.action, why, decision.not_before))
        if decision.action == "send" and m.category == "marketing":
            sent_now.setdefault(m.customer_id, []).append(now)
    return out


def _zone(name: str | None, default: ZoneInfo) -> ZoneInfo:
    if not name:
        return default
    try:
        return ZoneInfo(name)
    except (KeyError, ValueError):  # stored values are checked on the way in; an old row falls back
        return default
