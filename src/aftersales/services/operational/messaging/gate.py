"""The send-time checks: consent, suppressions, quiet hours and the frequency cap, decided for a
batch of claimed e-mail messages just before they are sent (not only when they were queued).

Suppressions resolve per message before the core policy sees them (``suppressed`` is already "for
this category"; the rules are in ``rules``).

Then :func:`aftersales.core.journeys.policy.decide_send` rules on consent (marketing only), quiet
hours in the customer's own zone (``customers.timezone``, else the business default) and the cap on
marketing e-mail per rolling window, counting the customer's marketing e-mails sent, being sent or of
unknown outcome, plus those this batch has already decided to send.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from aftersales.core.journeys.policy import SendDecision, SendPolicy, decide_send
from aftersales.services.operational.messaging.rules import suppression_reason
from aftersales.services.ports_messages import MessageRecord, Recipient, SuppressionRecord

__all__ = ["Verdict", "check_batch"]


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
