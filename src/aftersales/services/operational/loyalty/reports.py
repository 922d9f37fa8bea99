"""Whether the program pays, in points and money: liability, redemption rate, breakage, tiers.

Formulas in :mod:`aftersales.core.loyalty.metrics` (docs/loyalty.md, "Metrics"). The totals are
sums over the whole ledger in the database (one grouped scan), the pending expiry only over lots
due since the last processing run; tiers are those the last run recorded per member, and tier
movements the changes recorded in the last ``days`` days.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from aftersales.core.loyalty import LedgerTotals, breakage, liability, redemption_rate
from aftersales.services.clock import Clock, SystemClock
from aftersales.services.operational.loyalty.program import stored_program
from aftersales.services.ports import UnitOfWorkFactory

__all__ = ["LiabilityReport", "report"]


@dataclass(frozen=True)
class LiabilityReport:
    as_of: datetime
    currency: str
    cost_per_point: Decimal
    members: int
    points_held: int  # what members hold now, locked points included
    points_locked: int
    points_available: int
    pending_expiry: int  # past their date since the last run, written off at the next
    liability: Decimal  # points_held x cost_per_point
    liability_available: Decimal  # points_available x cost_per_point
    points_issued: int  # earned + awarded - reversed
    points_earned: int
    points_awarded: int
    points_redeemed: int
    points_expired: int
    points_reversed: int
    redemption_rate: float | None  # redeemed / issued
    breakage: float | None  # expired / issued
    tiers: dict[str, int]  # members per tier, as of the last processing run
    tier_movements: list[dict[str, object]]  # changes recorded in the last ``days`` days
    redemptions: list[dict[str, object]]  # per reward: count and points
    last_run_at: datetime | None


def report(uow: UnitOfWorkFactory, *, clock: Clock | None = None, days: int = 30) -> LiabilityReport:
    """The program's metrics as of the clock's now (module docstring)."""
    now = (clock or SystemClock()).now()
    with uow() as u:
        program, _ = stored_program(u)
        run = u.loyalty.last_run()
        t: LedgerTotals = u.loyalty.totals(now, run.run_at if run else None)
        raw_tiers = u.loyalty.tier_distribution()
        moves = u.loyalty.tier_movements(now - timedelta(days=days), now)
        by_reward = u.loyalty.redemptions_by_reward()
    base = program.tiers.levels[0].name
    tiers: dict[str, int] = {level.name: 0 for level in program.tiers.levels}
    for name, n in raw_tiers.items():
        tiers[name or base] = tiers.get(name or base, 0) + n
    available = t.held - t.locked
    cost = program.cost_per_point
    return LiabilityReport(
        as_of=now,
        currency=program.currency,
        cost_per_point=cost,
        members=t.members,
        points_held=t.held,
        points_locked=t.locked,
        points_available=available,
        pending_expiry=t.pending_expiry,
        liability=liability(t, cost),
        liability_available=(Decimal(available) * cost).quantize(Decimal("0.01")),
        points_issued=t.issued,
        points_earned=t.earned,
        points_awarded=t.awarded,
        points_redeemed=t.redeemed,
        points_expired=t.expired,
        points_reversed=t.reversed,
        redemption_rate=redemption_rate(t),
        breakage=breakage(t),
        tiers=tiers,
        tier_movements=[{"from": a, "to": b, "members": n} for a, b, n in moves],
        redemptions=[{"reward_id": r, "redemptions": n, "points": p} for r, n, p in by_reward],
        last_run_at=run.run_at if run else None,
    )
