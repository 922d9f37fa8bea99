"""Program metrics from ledger totals: points liability, redemption rate, breakage, tier distribution.

With the ledger's totals over all members (points, each a sum of one kind of row):

* issued = earned + awarded - reversed (points that reached members and stayed theirs);
* outstanding = the sum of every row's points - pending expiry (lots past their date not yet
  written off) = what members hold now, locked points included;
* **liability** = outstanding x cost per point (money the program owes if every point were spent);
  the part members can spend today is (outstanding - locked) x cost per point;
* **redemption rate** = redeemed / issued (None before anything is issued);
* **breakage** = expired / issued: the share of issued points that lapsed unspent (realised breakage;
  points still outstanding may lapse later, so it only grows as the program ages).

>>> t = LedgerTotals(earned=10_000, awarded=500, deducted=0, redeemed=4_000, expired=1_500, reversed=500,
...                  outstanding=4_600, locked=300, pending_expiry=100, members=3)
>>> t.issued, liability(t, Decimal("0.01")), redemption_rate(t), breakage(t)
(10000, Decimal('45.00'), 0.4, 0.15)
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

__all__ = ["LedgerTotals", "breakage", "liability", "redemption_rate"]


@dataclass(frozen=True)
class LedgerTotals:
    """Points by kind of movement over all members (deductions as positive numbers)."""

    earned: int  # earn rows: orders and bonuses
    awarded: int  # positive adjustments
    deducted: int  # negative adjustments
    redeemed: int
    expired: int
    reversed: int
    outstanding: int  # the sum of every row's points (expired lots not yet written off included)
    locked: int
    pending_expiry: int  # remaining points of lots past their expiry date, not yet written off
    members: int

    @property
    def issued(self) -> int:
        return self.earned + self.awarded - self.reversed

    @property
    def held(self) -> int:
        """Points members hold now (outstanding less pending expiry)."""
        return self.outstanding - self.pending_expiry


def liability(t: LedgerTotals, cost_per_point: Decimal) -> Decimal:
    """Held points x cost per point, in the program's currency (rounded to cents)."""
    return (Decimal(t.held) * cost_per_point).quantize(Decimal("0.01"))


def redemption_rate(t: LedgerTotals) -> float | None:
    """Redeemed / issued points."""
    return t.redeemed / t.issued if t.issued > 0 else None


def breakage(t: LedgerTotals) -> float | None:
    """Expired / issued points."""
    return t.expired / t.issued if t.issued > 0 else None
