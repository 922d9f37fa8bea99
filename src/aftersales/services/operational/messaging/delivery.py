"""Sending the outbox: one round of :func:`send_due` claims due messages, checks them again, paces
them, and sends each exactly once or says that its outcome is unknown.

A round, each numbered step its own short transaction:

1. **Unknown outcomes.** ``sending`` rows whose lease ran out (their worker died mid-attempt) become
   ``unknown``: the transport may have delivered them, so they are reported, never resent.
2. **Claim and check.** Queued messages due now (``not_before <= now``; a paused journey's wait) are
   leased (``FOR UPDATE SKIP LOCKED`` on PostgreSQL, a conditional update on SQLite), e-mail no more
   than the transport's free sending slots. Each e-mail is checked again *now* (``gate``): consent
   (marketing), suppressions, quiet hours in the customer's zone and the frequency cap, so consent
   withdrawn after queueing is honoured. Skipped and suppressed messages end there; deferred ones go
   back to the queue until their ``not_before``. The e-mails to send take their slots in
   ``send_pacing`` (``pacing``); those without one stay queued until the next free slot. A webhook
   step whose URL names a non-public address (unless ``webhook_allow_hosts`` allows it) fails.
3. **One message at a time.** For each leased message: ``sending`` with ``started_at`` is committed
   *before* the attempt (in the same transaction that records the previous message's outcome), then
   the e-mail is sent through the transport, or the webhook through the webhook sender (signed,
   ``Aftersales-Delivery: <message id>`` as its idempotency key). So a worker killed at any instant
   leaves at most one message whose outcome is unknown.
4. **Outcomes.** ``sent``; a permanent failure is ``failed`` (a bounce also suppresses the address:
   ``outcomes.record_bounce``); a temporary failure is retried after ``retry.delay(attempt)`` until
   ``retry.max_attempts`` attempts, then ``failed``; a lost connection after the message's end
   (SMTP's one ambiguous case) is ``unknown``. ``message.sent`` / ``message.bounced`` events and
   webhooks are written with the outcome (the webhook subscriptions are read once per round: one
   query per round instead of one per message; a subscription made during a round gets the next
   round's events).

Two workers never send one message twice: only the holder of a queued row's lease can move it to
``sending`` (a conditional update naming its token), and a ``sending`` row is never claimed again.
"""

from __future__ import annotations

import json
import logging
import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email.message import EmailMessage
from typing import Any
from zoneinfo import ZoneInfo

from aftersales.core.errors import AftersalesError
from aftersales.core.events import MESSAGE_BOUNCED, MESSAGE_SENT
from aftersales.core.journeys.policy import SendPolicy
from aftersales.core.messaging.templates import TemplateCatalog
from aftersales.core.messaging.transport import EmailTransport, SendResult, scrub_addresses
from aftersales.services.clock import Clock
from aftersales.services.operational.messaging.compose import compose_email, rfc_message_id
from aftersales.services.operational.messaging.gate import check_batch
from aftersales.services.operational.messaging.links import LinkSigner, webhook_secret
from aftersales.services.operational.messaging.outcomes import (
    event_row,
    message_data,
    notify,
    record_bounce,
    subscribed,
)
from aftersales.services.operational.messaging.pacing import grant_slots, reserve_slots
from aftersales.services.operational.webhook_destinations import DestinationPolicy
from aftersales.services.operational.webhooks import RetryPolicy, SendOutcome, WebhookSender, retryable
from aftersales.services.ports import UnitOfWork, UnitOfWorkFactory
from aftersales.services.ports_messages import Finished, MessageRecord, Recipient, Starting

__all__ = ["DeliveryConfig", "DeliveryRound", "Transports", "send_due"]

log = logging.getLogger("aftersales.messaging")
UNKNOWN_DETAIL = "the attempt's lease ended before its outcome was recorded: outcome unknown, not resent"
WEBHOOK_EVENT = "journey.step"


@dataclass(frozen=True)
class DeliveryConfig:
    """The settings delivery reads (``from_settings`` takes them from ``aftersales.config.Settings``)."""

    mail_from: str
    public_url: str = "http://127.0.0.1:8000"
    send_rate_per_s: float = 50.0
    default_timezone: str = "UTC"
    default_locale: str = "en"
    webhook_allow_hosts: tuple[str, ...] = ()
    lease_s: float = 300.0
    """How long a claimed message stays with its worker: the whole batch must be sent within it."""
    retry: RetryPolicy = field(default_factory=lambda: RetryPolicy(max_attempts=5, base_s=60.0))

    @classmethod
    def from_settings(cls, settings: Any, **overrides: Any) -> DeliveryConfig:
        names = ("mail_from", "public_url", "send_rate_per_s", "default_timezone", "default_locale")
        values = {n: getattr(settings, n) for n in names}
        values["webhook_allow_hosts"] = tuple(getattr(settings, "webhook_allow_hosts", ()))
        return cls(**{**values, **overrides})


@dataclass(frozen=True)
class Transports:
    """The channels a worker sends through; a channel without one is not claimed."""

    email: EmailTransport | None = None
    webhook: WebhookSender | None = None


@dataclass(frozen=True)
class DeliveryRound:
    """What one :func:`send_due` round did. ``deferred`` counts messages put back by the policy
    (quiet hours, the frequency cap), ``paced`` those put back for want of a sending slot."""

    claimed: int = 0
    sent: int = 0
    failed: int = 0
    retried: int = 0
    deferred: int = 0
    paced: int = 0
    skipped: int = 0
    suppressed: int = 0
    unknown: int = 0
    unknown_ids: tuple[str, ...] = ()

    @property
    def attempted(self) -> int:
        return self.sent + self.failed + self.retried


@dataclass
class _Tally:
    counts: dict[str, int] = field(default_factory=dict)
    unknown_ids: list[str] = field(default_factory=list)

    def add(self, name: str, n: int = 1) -> None:
        self.counts[name] = self.counts.get(name, 0) + n

    def result(self) -> DeliveryRound:
        return DeliveryRound(**self.counts, unknown=len(self.unknown_ids), unknown_ids=tuple(self.unknown_ids))


@dataclass(frozen=True)
class _Job:
    """A message granted for sending, with what sending it needs."""

    message: MessageRecord
    recipient: Recipient | None = None
    trigger: dict[str, Any] | None = None
    product_names: list[str] | None = None


def _pacing_key(transport: EmailTransport) -> str:
    return f"email:{transport.name}"


def send_due(
    uow: UnitOfWorkFactory,
    *,
    transports: Transports,
    clock: Clock,
    policy: SendPolicy,
    signer: LinkSigner,
    config: DeliveryConfig,
    catalog: TemplateCatalog,
    limit: int = 100,
) -> DeliveryRound:
    """One delivery round (see the module): at most ``limit`` messages claimed."""
    tally = _Tally()
    now = clock.now()
    with uow() as u:
        for m in u.messages.expire_sending(now, UNKNOWN_DETAIL):
            log.warning("message %s: %s", m.message_id, UNKNOWN_DETAIL)
            tally.unknown_ids.append(m.message_id)
        hooked = subscribed(u)
    token = secrets.token_hex(8)
    jobs = _claim(uow, transports, policy, config, now, limit, token, tally)
    ctx = _Recording(token, config.retry, hooked, tally)
    secret = webhook_secret(uow, now) if any(j.message.channel == "webhook" for j in jobs) else ""
    pending: tuple[_Job, SendResult | SendOutcome] | None = None
    for job in jobs:
        m, at = job.message, clock.now()
        email, problem = None, None
        if m.channel == "email":
            email, problem = _compose(job, catalog, signer, config, at)
        with uow() as u:
            if problem is not None:
                _settle(u, pending, None, clock.now(), ctx)
                pending = None
                if u.messages.finish_unsent(m.message_id, token, "failed", at, problem):
                    tally.add("failed")
                continue
            rfc_id = rfc_message_id(m, config.mail_from) if m.channel == "email" else None
            starting = Starting(m.message_id, at, at + timedelta(seconds=config.lease_s), rfc_id)
            started = _settle(u, pending, starting, clock.now(), ctx)
            pending = None
            if not started:
                continue  # cancelled, or taken over after our lease ended: not ours to send
        pending = (job, _attempt(job, email, transports, secret, at))
    if pending is not None:
        with uow() as u:
            _settle(u, pending, None, clock.now(), ctx)
    return tally.result()


def _claim(
    uow: UnitOfWorkFactory,
    transports: Transports,
    policy: SendPolicy,
    config: DeliveryConfig,
    now: datetime,
    limit: int,
    token: str,
    tally: _Tally,
) -> list[_Job]:
    """Step 2 of the module: lease, check, pace; returns the messages to send now, in order."""
    until = now + timedelta(seconds=config.lease_s)
    jobs: list[_Job] = []
    with uow() as u:
        mails: list[MessageRecord] = []
        if transports.email is not None:
            free, _ = grant_slots(
                u.messages.pacing_slot(_pacing_key(transports.email)), now, limit, config.send_rate_per_s
            )
            mails = u.messages.claim_due(now, free, token=token, lease_until=until, channels=("email",))
        hooks: list[MessageRecord] = []
        if transports.webhook is not None:
            hooks = u.messages.claim_due(now, limit - len(mails), token=token, lease_until=until, channels=("webhook",))
        tally.add("claimed", len(mails) + len(hooks))
        if mails:
            jobs.extend(_check_mail(u, mails, transports.email, policy, config, now, token, tally))
        destinations = DestinationPolicy.parse(config.webhook_allow_hosts)
        for m in hooks:
            refusal = destinations.refusal(str(m.params.get("url", "")))
            if refusal is None:
                jobs.append(_Job(m))
            elif u.messages.finish_unsent(m.message_id, token, "failed", now, f"webhook URL refused: {refusal}"):
                tally.add("failed")
    return jobs


def _check_mail(
    u: UnitOfWork,
    mails: list[MessageRecord],
    transport: EmailTransport | None,
    policy: SendPolicy,
    config: DeliveryConfig,
    now: datetime,
    token: str,
    tally: _Tally,
) -> list[_Job]:
    assert transport is not None
    customers = {m.customer_id for m in mails}
    recipients = u.messages.recipients(customers)
    verdicts = check_batch(
        mails,
        recipients=recipients,
        suppressions=u.messages.suppressions_of(customers, "email"),
        recent=u.messages.recent_starts(
            customers, channel="email", category="marketing", since=now - policy.cap_window
        ),
        policy=policy,
        default_zone=ZoneInfo(config.default_timezone),
        now=now,
    )
    to_send: list[MessageRecord] = []
    for v in verdicts:
        mid = v.message.message_id
        if v.action == "send":
            to_send.append(v.message)
        elif v.action == "defer" and v.not_before is not None:
            if u.messages.defer(mid, token, v.not_before, v.reason):
                tally.add("deferred")
        elif v.action in ("skip", "suppress"):
            status = "skipped" if v.action == "skip" else "suppressed"
            if u.messages.finish_unsent(mid, token, status, now, v.reason or status):
                tally.add(status)
    granted, next_free = reserve_slots(u.messages, _pacing_key(transport), now, len(to_send), config.send_rate_per_s)
    for m in to_send[granted:]:
        if u.messages.defer(m.message_id, token, next_free, "send rate"):
            tally.add("paced")
    go = to_send[:granted]
    triggers = u.messages.triggers({m.enrollment_id for m in go})
    owned = {p for m in go for p in (recipients[m.customer_id].profile.get("products_registered") or ())}
    names = u.messages.product_names(owned)
    jobs = []
    for m in go:
        r = recipients[m.customer_id]
        registered = list(r.profile.get("products_registered") or ())
        products = [names.get(p, p) for p in registered] if names else None
        jobs.append(_Job(m, r, dict(triggers.get(m.enrollment_id, {})), products))
    return jobs


def _compose(
    job: _Job, catalog: TemplateCatalog, signer: LinkSigner, config: DeliveryConfig, at: datetime
) -> tuple[EmailMessage | None, str | None]:
    """The e-mail, or why it cannot be made (a template error: a permanent failure, nothing sent)."""
    assert job.recipient is not None
    try:
        email = compose_email(
            job.message,
            job.recipient,
            catalog=catalog,
            links=signer,
            mail_from=config.mail_from,
            default_locale=config.default_locale,
            now=at,
            trigger=job.trigger,
            product_names=job.product_names,
        )
    except (AftersalesError, ValueError) as exc:
        return None, scrub_addresses(f"not rendered: {exc}")[:500]
    return email, None


def _attempt(
    job: _Job, email: EmailMessage | None, transports: Transports, secret: str, at: datetime
) -> SendResult | SendOutcome:
    m = job.message
    if m.channel == "email":
        assert email is not None and transports.email is not None
        try:
            return transports.email.send(email)
        except Exception as exc:  # noqa: BLE001 - a transport that raises is a failed attempt, not a crash
            return SendResult("temporary_failure", scrub_addresses(f"transport error: {type(exc).__name__}: {exc}"))
    assert transports.webhook is not None
    extra = m.params.get("payload")
    data = {**(extra if isinstance(extra, dict) else {}), **message_data(m)}
    body = {"id": m.message_id, "type": WEBHOOK_EVENT, "created_at": at.isoformat(), "data": data}
    payload = json.dumps(body, separators=(",", ":"), sort_keys=True, default=str)
    return transports.webhook.send(str(m.params["url"]), secret, payload, m.message_id, WEBHOOK_EVENT)


@dataclass(frozen=True)
class _Recording:
    """What recording an outcome needs: our lease token, the retry policy, the events that have
    webhook subscribers (read once per round), and the round's counts."""

    token: str
    retry: RetryPolicy
    hooked: frozenset[str]
    tally: _Tally


def _settle(
    u: UnitOfWork,
    pending: tuple[_Job, SendResult | SendOutcome] | None,
    starting: Starting | None,
    at: datetime,
    ctx: _Recording,
) -> bool:
    """Record ``pending``'s outcome (at ``at``) and start ``starting``, inside ``u``; whether it
    started. A delivered message and the next start are one repository call (one statement on
    PostgreSQL, ``finish_and_start``); the other outcomes take :func:`_record`'s own statements."""
    finished, data = None, {}
    if pending is not None:
        job, outcome = pending
        if _delivered(outcome):
            m = job.message
            data = message_data(m)
            finished = Finished(
                m.message_id, "sent", at, None, event_row(MESSAGE_SENT, m.message_id, m.customer_id, at, data)
            )
        else:
            _record(u, job, outcome, at, ctx)
    if finished is None and starting is None:
        return False
    done, announced, started = u.messages.finish_and_start(ctx.token, finished, starting)
    if done:
        ctx.tally.add("sent")
        if announced and MESSAGE_SENT in ctx.hooked:
            notify(u, MESSAGE_SENT, at, data)
    return started


def _delivered(outcome: SendResult | SendOutcome) -> bool:
    if isinstance(outcome, SendResult):
        return outcome.ok and not outcome.outcome_unknown
    return outcome.status_code is not None and 200 <= outcome.status_code < 300


def _record(u: UnitOfWork, job: _Job, outcome: SendResult | SendOutcome, at: datetime, ctx: _Recording) -> None:
    """Step 4 of the module for an attempt that did not deliver (unknown, retried, failed), inside ``u``."""
    token, retry, tally = ctx.token, ctx.retry, ctx.tally
    m = job.message
    attempts = m.attempts + 1
    if isinstance(outcome, SendResult):
        again, detail = outcome.status == "temporary_failure", scrub_addresses(outcome.detail)
        if outcome.outcome_unknown:
            if u.messages.finish_attempt(m.message_id, token, "unknown", at, detail or "outcome unknown"):
                log.warning("message %s: connection lost after the message was sent: outcome unknown", m.message_id)
                tally.unknown_ids.append(m.message_id)
            return
    else:
        again = retryable(outcome)
        detail = outcome.error or f"HTTP {outcome.status_code}"
    detail = detail[:500]
    if again and attempts < retry.max_attempts:
        if u.messages.retry_attempt(m.message_id, token, at + timedelta(seconds=retry.delay(attempts)), detail):
            tally.add("retried")
        return
    if again:
        detail = f"gave up after {attempts} attempts: {detail}"
    if u.messages.finish_attempt(m.message_id, token, "failed", at, detail):
        tally.add("failed")
        bounced = isinstance(outcome, SendResult) and outcome.bounce
        if bounced and job.recipient is not None and job.recipient.email:
            record_bounce(u, m, job.recipient.email, at, detail, webhooks=MESSAGE_BOUNCED in ctx.hooked)
