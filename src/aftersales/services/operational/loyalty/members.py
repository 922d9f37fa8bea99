"""A member's points and tier, derived from the ledger on read, and their history page by page.

Nothing here is stored as a balance: :func:`member` reads the member's rows and derives, as of the
clock's ``now``, the balance, locked and available points, the open lots (FIFO order: the next
redemption draws from the first), the points expiring within the program's warning period, and the
tier on the rolling window of points earned (with the points still needed for the next one).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from aftersales.core.errors import NotFoundError
from aftersales.core.loyalty import Entry, Program, derive, qualifying_points, qualifying_spans, tier_at
from aftersales.services.clock import Clock, SystemClock
from aftersales.services.operational.cursors import decode_cursor, encode_cursor
from aftersales.services.operational.loyalty.program import stored_program
from aftersales.services.ports import UnitOfWorkFactory

__all__ = ["LotView", "MemberView", "TierView", "history_page", "member", "tier_view"]


@dataclass(frozen=True)
class LotView:
    lot_id: str
    source: str | None
    earned_at: datetime
    expires_at: datetime | None
    points: int  # as earned
    remaining: int
    locked: int
    available: int


@dataclass(frozen=True)
class TierView:
    name: str
    earn_multiplier: str
    qualifying_points: int  # the best window total of the retention period (what the tier rests on)
    window_points: int  # points earned in the window now
    next_tier: str | None
    points_to_next: int | None


@dataclass(frozen=True)
class MemberView:
    member_id: str
    as_of: datetime
    joined_at: datetime
    balance: int
    available: int
    locked: int
    expiring_soon: int  # available points of lots expiring within the program's warning period
    tier: TierView
    lots: tuple[LotView, ...]
    program_version: int


def tier_view(program: Program, entries: list[Entry], now: datetime) -> TierView:
    """The member's tier at ``now`` and how far the next one is (``docs/loyalty.md``, Tiers)."""
    tiers = program.tiers
    spans = qualifying_spans(entries, tiers.window_days)
    level = tier_at(tiers, spans, now)
    window = sum(s.points for s in spans if s.start <= now < s.end)
    rank = tiers.rank(level.name)
    nxt = tiers.levels[rank + 1] if rank + 1 < len(tiers.levels) else None
    return TierView(
        level.name,
        str(level.earn_multiplier),
        qualifying_points(tiers, spans, now),
        window,
        nxt.name if nxt else None,
        max(nxt.min_points - window, 0) if nxt else None,
    )


def member(uow: UnitOfWorkFactory, member_id: str, *, clock: Clock | None = None) -> MemberView:
    """The member's points, lots and tier now (:class:`NotFoundError` for one who never had points)."""
    now = (clock or SystemClock()).now()
    with uow() as u:
        program, version = stored_program(u)
        record = u.loyalty.member(member_id)
        if record is None:
            raise NotFoundError(f"no loyalty member {member_id!r}")
        entries = u.loyalty.entries([member_id]).get(member_id, [])
    state = derive(entries, now)
    soon = now + timedelta(days=program.expiry_warning_days)
    lots = tuple(
        LotView(x.lot_id, x.source, x.occurred_at, x.expires_at, x.points, x.remaining, x.locked, x.available(now))
        for x in state.lots
    )
    expiring = sum(x.available for x in lots if x.expires_at is not None and x.expires_at <= soon)
    return MemberView(
        member_id,
        now,
        record.joined_at,
        state.balance,
        state.available,
        state.locked,
        expiring,
        tier_view(program, entries, now),
        lots,
        version,
    )


def history_page(
    uow: UnitOfWorkFactory, member_id: str, *, limit: int = 100, cursor: str | None = None
) -> dict[str, Any]:
    """The member's rows, newest first: ``{"items": [...], "next_cursor": ...}`` (each row's kind,
    points, locked points, lot, times, source and detail)."""
    after = int(decode_cursor(cursor, (int,))[0]) if cursor else None
    with uow() as u:
        if u.loyalty.member(member_id) is None:
            raise NotFoundError(f"no loyalty member {member_id!r}")
        rows = u.loyalty.history(member_id, after=after, limit=limit + 1)
    more = len(rows) > limit
    rows = rows[:limit]
    items = [
        {
            "entry_id": r.entry_id,
            "kind": r.entry.kind,
            "points": r.entry.points,
            "locked": r.entry.locked,
            "lot_id": r.entry.lot_id,
            "occurred_at": r.entry.occurred_at,
            "expires_at": r.entry.expires_at,
            "key": r.entry.key,
            "line": r.entry.line,
            "source": r.entry.source,
            "detail": json.loads(r.entry.detail) if r.entry.detail else None,
            "program_version": r.program_version,
            "recorded_at": r.recorded_at,
        }
        for r in rows
    ]
    return {"items": items, "next_cursor": encode_cursor([rows[-1].entry_id]) if more else None}
