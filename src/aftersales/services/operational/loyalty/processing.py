"""Processing: settle every member's orders and bonuses into the ledger as of the clock's ``now``.

Members are taken in id order, ``batch`` at a time, one transaction per batch: lock the batch's
members (in id order, as every writer does), read their rows and the store's facts (orders placed
by ``now`` with their lines' categories; reviews, survey answers and product registrations for the
bonuses the program pays), let :func:`aftersales.core.loyalty.settle` decide the missing rows, and
append them. Then each member's tier is derived on the rolling window; changes since the last
recorded one are written (``loyalty_tier_changes``) and announced on the event bus as
``loyalty.tier_changed``; lots that will expire within the program's warning period with points
still available are announced once each as ``loyalty.points_expiring`` (journey triggers). Event ids
are functions of what they record (``loyalty:tier:<member>:<time>``, ``loyalty:expiring:<member>:<lot>``),
so a retried run announces nothing twice. Re-processing the same orders writes nothing.

A finished run is recorded (``loyalty_runs``) with the ``now`` it settled: every lot due by then has
its expire row, which the liability report relies on.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from aftersales.core.events import LOYALTY_POINTS_EXPIRING, LOYALTY_TIER_CHANGED
from aftersales.core.loyalty import BONUS_KINDS, Entry, Program, derive, qualifying_spans, settle, tier_changes
from aftersales.services.clock import Clock, SystemClock
from aftersales.services.operational.loyalty.program import stored_program
from aftersales.services.ports import EventRow, UnitOfWork, UnitOfWorkFactory
from aftersales.services.ports_loyalty import MemberRecord, RunRecord, TierChangeRecord

__all__ = ["ProcessReport", "process"]

BATCH = 1000


@dataclass(frozen=True)
class ProcessReport:
    now: datetime
    program_version: int
    members: int
    entries: int  # rows written
    by_kind: dict[str, int] = field(default_factory=dict)  # rows written per kind
    tier_changes: int = 0
    events: int = 0  # events announced (tier changes, points expiring)


def _props(**values: object) -> str:
    return json.dumps(values, sort_keys=True, separators=(",", ":"), default=str)


def _tiers(
    program: Program, record: MemberRecord | None, member_id: str, rows: list[Entry], now: datetime
) -> tuple[str, list[TierChangeRecord]]:
    """The member's tier now and its changes since the last recorded one (the stored tier first)."""
    base = program.tiers.levels[0].name
    current = record.tier if record is not None and record.tier is not None else base
    since = record.tier_since if record is not None else None
    changes: list[TierChangeRecord] = []
    for c in tier_changes(program.tiers, qualifying_spans(rows, program.tiers.window_days), now):
        if (since is not None and c.at <= since) or c.tier == current:
            continue
        changes.append(TierChangeRecord(member_id, c.at, c.tier, current, c.qualifying_points))
        current = c.tier
    if not changes and current not in [t.name for t in program.tiers.levels]:  # a tier the program dropped
        changes.append(TierChangeRecord(member_id, now, base, current, 0))
        current = base
    return current, changes


def _expiring(program: Program, member_id: str, rows: list[Entry], now: datetime) -> list[EventRow]:
    if program.expiry_warning_days <= 0:
        return []
    horizon = now + timedelta(days=program.expiry_warning_days)
    events: list[EventRow] = []
    for lot in derive(rows, now).lots:
        if lot.expires_at is not None and lot.expires_at <= horizon and lot.available(now) > 0:
            props = _props(lot_id=lot.lot_id, points=lot.available(now), expires_at=lot.expires_at.isoformat())
            event_id = f"loyalty:expiring:{member_id}:{lot.lot_id}"
            events.append((event_id, member_id, None, LOYALTY_POINTS_EXPIRING, now, props))
    return events


def _batch(
    u: UnitOfWork, program: Program, version: int, ids: list[str], now: datetime, written: datetime
) -> tuple[int, list[Entry], int, int]:
    kinds = [k for k in BONUS_KINDS if getattr(program.bonuses, k) > 0]
    ids = sorted(u.loyalty.lock_members(ids, now))  # a review event may name an unknown customer
    members = u.loyalty.members(ids)
    ledgers = u.loyalty.entries(ids)
    facts = u.loyalty.facts(ids, now, bonuses=kinds, review_event=program.bonuses.review_event)
    new: list[Entry] = []
    changes: list[TierChangeRecord] = []
    tiers: dict[str, str] = {}
    events: list[EventRow] = []
    for m in ids:
        rows = ledgers.get(m, [])
        f = facts[m]
        added = settle(program, m, rows, f.orders, f.bonuses, now)
        new.extend(added)
        rows = [*rows, *added]
        tiers[m], moved = _tiers(program, members.get(m), m, rows, now)
        changes.extend(moved)
        for c in moved:
            props = _props(tier=c.tier, previous_tier=c.previous_tier, qualifying_points=c.qualifying_points)
            at = c.changed_at.astimezone(UTC)
            events.append((f"loyalty:tier:{m}:{at.isoformat()}", m, None, LOYALTY_TIER_CHANGED, at, props))
        events.extend(_expiring(program, m, rows, now))
    u.loyalty.add_entries(new, version, written)
    u.loyalty.record_tiers(changes, tiers, written)
    announced = u.events.insert_new(events) if events else 0
    return len(ids), new, len(changes), announced


def process(
    uow: UnitOfWorkFactory,
    *,
    clock: Clock | None = None,
    batch: int = BATCH,
    on_batch: Callable[[int], None] | None = None,
) -> ProcessReport:
    """Settle every member as of the clock's now (module docstring); ``on_batch(members)`` after each batch."""
    clock = clock or SystemClock()
    now = clock.now()
    started = datetime.now(UTC)
    with uow() as u:
        program, version = stored_program(u)
    after: str | None = None
    members = rows = tier_moves = announced = 0
    by_kind: Counter[str] = Counter()
    review = program.bonuses.review_event if program.bonuses.review_written > 0 else None
    while True:
        with uow() as u:
            ids = u.loyalty.member_ids(now, after=after, limit=batch, review_event=review)
            if not ids:
                break
            after = ids[-1]
            settled, new, moved, told = _batch(u, program, version, ids, now, datetime.now(UTC))
        members += settled
        rows += len(new)
        by_kind.update(e.kind for e in new)
        tier_moves += moved
        announced += told
        if on_batch is not None:
            on_batch(settled)
    with uow() as u:
        u.loyalty.add_run(RunRecord(now, started, datetime.now(UTC), members, rows))
    return ProcessReport(now, version, members, rows, dict(by_kind), tier_moves, announced)
