"""Sending queued webhook deliveries: leases, attempts, concurrency, and a dispatcher that survives the store.

**One lease per delivery, taken just before it is sent.** :func:`claim` leases only as many due
deliveries as can start at once (free sending slots, and room under each destination's cap), so a
lease never waits behind a batch: it runs from the claim to the recorded outcome, which the sender's
deadline bounds, and lasts ``lease_s`` (bootstrap makes it several deadlines long). Two dispatchers
(``serve --workers 2``) therefore never send the same delivery while its lease holds; PostgreSQL skips
rows another dispatcher is claiming (``FOR UPDATE SKIP LOCKED``), and on SQLite the lease is written
only where the row is still due, so one of two racing claims gets it.

**Attempts and counts agree.** :func:`record` increments ``attempt_count`` and inserts the attempt row
in one transaction. The new state (delivered, retry at, failed) is written only by the lease's holder;
an attempt that outlived its lease is still counted and shown, and the state is left to the new holder.

**Deleted subscriptions never send.** A claim finds each due delivery's subscription; deliveries of a
deleted one are failed ("subscription deleted") instead of leased, and an attempt that was in flight
when the subscription was deleted schedules no retry.

**Concurrency.** :class:`DispatchLoop` sends on up to ``concurrency`` threads, at most
``per_destination`` at a time to one destination (scheme, host, port), so one slow receiver holds at
most its own slots for at most a deadline each, and every other subscriber is served meanwhile. The
cap is per dispatcher: N workers allow N x ``per_destination`` to one destination.

**An unreachable store.** A round that fails (the store is down, a network cut) is logged as one
warning line, and the loop backs off: ``poll_s * 2**k`` after the k-th failure in a row, at most
``max_backoff_s``; recovery is logged once more.
"""

from __future__ import annotations

import logging
import secrets
import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta

from aftersales.services.operational.webhook_destinations import DestinationPolicy, destination_key
from aftersales.services.operational.webhooks import RetryPolicy, SendOutcome, WebhookSender, retryable
from aftersales.services.ports import AttemptRecord, DeliveryRecord, SubscriptionRecord, UnitOfWorkFactory

__all__ = ["Claimed", "DispatchLoop", "claim", "dispatch_due", "record"]

SUBSCRIPTION_DELETED = "subscription deleted"
log = logging.getLogger("aftersales.webhooks")


@dataclass(frozen=True)
class Claimed:
    """A leased delivery with what sending it needs."""

    delivery: DeliveryRecord
    subscription: SubscriptionRecord
    token: str

    @property
    def destination(self) -> str:
        return destination_key(self.subscription.url)


def claim(
    uow: UnitOfWorkFactory,
    *,
    slots: int,
    lease_s: float,
    busy: Counter[str] | None = None,
    per_destination: int | None = None,
    skip_subscriptions: frozenset[str] = frozenset(),
) -> list[Claimed]:
    """Lease up to ``slots`` due deliveries, oldest first, leaving out destinations that already have
    ``per_destination`` attempts in ``busy`` (and subscriptions in ``skip_subscriptions``); deliveries
    of deleted subscriptions are failed on the way."""
    if slots <= 0:
        return []
    busy = Counter(busy or {})
    now = datetime.now(UTC)
    token = secrets.token_hex(8)
    with uow() as u:
        # Read more than we need: some candidates may go to saturated destinations or deleted subscriptions.
        due = u.webhooks.due(now, slots * 4, skip_subscriptions=skip_subscriptions)
        dead = [d.delivery_id for d, sub in due if not sub.active]
        if dead:
            u.webhooks.cancel_pending(SUBSCRIPTION_DELETED, delivery_ids=dead)
        picked: list[tuple[DeliveryRecord, SubscriptionRecord]] = []
        for d, sub in due:
            key = destination_key(sub.url)
            if not sub.active or (per_destination is not None and busy[key] >= per_destination):
                continue
            busy[key] += 1
            picked.append((d, sub))
            if len(picked) == slots:
                break
        ids = [d.delivery_id for d, _ in picked]
        leased = set(u.webhooks.lease(ids, now, now + timedelta(seconds=lease_s), token))
    return [Claimed(d, sub, token) for d, sub in picked if d.delivery_id in leased]


def record(
    uow: UnitOfWorkFactory, claimed: Claimed, outcome: SendOutcome, policy: RetryPolicy
) -> DeliveryRecord | None:
    """Count the attempt, store it, and (when the lease still holds) the delivery's new state:
    2xx delivered; retryable and attempts left: pending again after ``policy.delay(n)``; else failed."""
    at = datetime.now(UTC)
    with uow() as u:
        counted = u.webhooks.count_attempt(claimed.delivery.delivery_id)
        if counted is None:
            return None
        current, holder = counted
        number = u.webhooks.next_attempt_number(current.delivery_id)
        error = outcome.error
        u.webhooks.add_attempt(
            AttemptRecord(current.delivery_id, number, at, outcome.status_code, error, outcome.duration_ms)
        )
        if holder != claimed.token:
            log.warning("webhook delivery %s: attempt ended after its lease; recorded, state left", current.delivery_id)
            return current
        sub = u.webhooks.get_subscription(current.subscription_id)
        count = current.attempt_count
        if outcome.status_code is not None and 200 <= outcome.status_code < 300:
            new = replace(current, status="delivered", delivered_at=at, next_attempt_at=None)
        elif sub is None or not sub.active:
            new, error = replace(current, status="failed", next_attempt_at=None), error or SUBSCRIPTION_DELETED
        elif retryable(outcome) and count < policy.max_attempts:
            new = replace(current, status="pending", next_attempt_at=at + timedelta(seconds=policy.delay(count)))
        else:
            new = replace(current, status="failed", next_attempt_at=None)
        new = replace(new, last_status_code=outcome.status_code, last_error=error)
        u.webhooks.finish(new, claimed.token)
    return new


def dispatch_due(
    uow: UnitOfWorkFactory, sender: WebhookSender, policy: RetryPolicy, *, limit: int = 50, lease_s: float = 60.0
) -> int:
    """Send due deliveries one after another, each leased just before it is sent, until none is due
    or ``limit`` were attempted; returns how many attempts were made. (:class:`DispatchLoop` is the
    concurrent, long-running form.)"""
    attempts = 0
    while attempts < limit:
        claimed = claim(uow, slots=1, lease_s=lease_s)
        if not claimed:
            break
        record(uow, claimed[0], _send(sender, claimed[0]), policy)
        attempts += 1
    return attempts


def _send(sender: WebhookSender, c: Claimed) -> SendOutcome:
    d, sub = c.delivery, c.subscription
    return sender.send(sub.url, sub.secret, d.payload, d.delivery_id, d.event_type)


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0][:200]}" if text else type(exc).__name__


class DispatchLoop:
    """Sends due deliveries in the background (see the module) until :meth:`stop`; :meth:`wake` nudges it."""

    def __init__(
        self,
        uow: UnitOfWorkFactory,
        sender: WebhookSender,
        policy: RetryPolicy,
        poll_s: float = 1.0,
        *,
        destinations: DestinationPolicy | None = None,
        concurrency: int = 16,
        per_destination: int = 2,
        lease_s: float | None = None,
        max_backoff_s: float = 60.0,
    ) -> None:
        self._uow, self._sender, self._policy, self._poll_s = uow, sender, policy, poll_s
        self.destinations = destinations or DestinationPolicy()
        """The policy subscriptions are checked against (the sender enforces the same one)."""
        self._concurrency, self._per_destination = concurrency, per_destination
        self._lease_s = lease_s if lease_s is not None else max(60.0, 4 * sender.deadline_s)
        self._max_backoff_s = max_backoff_s
        self._busy: Counter[str] = Counter()
        self._destination_of: dict[str, str] = {}  # subscription -> destination, for skipping full ones
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._pool = ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="webhook-send")
        self._thread = threading.Thread(target=self._run, name="webhook-dispatch", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def wake(self) -> None:
        self._wake.set()

    def stop(self, timeout: float = 10.0) -> None:
        """Stop claiming, and wait up to ``timeout`` s for the attempts in flight (each ends by its deadline)."""
        self._stop.set()
        self._wake.set()
        if self._thread.is_alive():
            self._thread.join(timeout)
        self._pool.shutdown(wait=True, cancel_futures=True)

    def _run(self) -> None:
        failures = 0
        while not self._stop.is_set():
            self._wake.clear()
            try:
                started = self._round()
            except Exception as exc:  # noqa: BLE001 - any failure of a round: log one line, back off
                failures += 1
                delay = min(self._max_backoff_s, self._poll_s * 2**failures)
                if failures == 1:
                    log.warning(
                        "webhook dispatch paused, store unreachable (%s); retrying with backoff", _one_line(exc)
                    )
                self._stop.wait(delay)
                continue
            if failures:
                log.warning("webhook dispatch resumed after %d failed rounds", failures)
                failures = 0
            if not started:
                self._wake.wait(self._poll_s)

    def _round(self) -> int:
        with self._lock:
            slots = self._concurrency - sum(self._busy.values())
            busy = Counter(self._busy)
            full = {k for k, n in busy.items() if n >= self._per_destination}
            skip = frozenset(s for s, k in self._destination_of.items() if k in full)
        # Skipping the subscriptions of full destinations in the query keeps a backlog for one slow
        # receiver from filling every candidate row and starving the others.
        claimed = claim(
            self._uow,
            slots=slots,
            lease_s=self._lease_s,
            busy=busy,
            per_destination=self._per_destination,
            skip_subscriptions=skip,
        )
        for c in claimed:
            with self._lock:
                self._busy[c.destination] += 1
                if len(self._destination_of) > 10_000:
                    self._destination_of.clear()
                self._destination_of[c.subscription.subscription_id] = c.destination
            self._pool.submit(self._attempt, c)
        return len(claimed)

    def _attempt(self, c: Claimed) -> None:
        try:
            record(self._uow, c, _send(self._sender, c), self._policy)
        except Exception as exc:  # noqa: BLE001 - the lease lapses and the delivery is tried again
            log.warning("webhook delivery %s: attempt not recorded (%s)", c.delivery.delivery_id, _one_line(exc))
        finally:
            with self._lock:
                self._busy[c.destination] -= 1
                if self._busy[c.destination] <= 0:
                    del self._busy[c.destination]
            self._wake.set()
