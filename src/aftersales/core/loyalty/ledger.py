"""Writing to the ledger: drawing points from named lots, redemptions and manual adjustments.

Every negative movement draws from **named lots** in FIFO order of expiry (:func:`~.entries.fifo_order`:
the soonest expiry first, lots that never expire last), taking only what a lot has available at that
moment (its remaining points, less locked ones, and nothing once it has expired). A later expiry
therefore writes off only what is left in its own lot, never points already spent elsewhere: the
"balance collapse" of ledgers that subtract all-time debits from unexpired credits cannot happen.

>>> from datetime import UTC, datetime
>>> t = datetime(2024, 1, 1, tzinfo=UTC)
>>> later, sooner = (Entry("m", k, 0, "earn", 50, 0, k, t, datetime(y, 1, 1, tzinfo=UTC)) for k, y in
...                  (("a", 2026), ("b", 2025)))
>>> [(e.lot_id, e.points) for e in spend([later, sooner], "m", 70, "redeem:r1", t, kind="redeem")]
[('b', -50), ('a', -20)]
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from typing import Any

from aftersales.core.errors import ConflictError, ValidationError
from aftersales.core.loyalty.entries import Entry, Lot, derive, fifo_order
from aftersales.core.loyalty.program import Program

__all__ = ["InsufficientPoints", "award", "detail_json", "draw", "spend"]


class InsufficientPoints(ConflictError):
    """A redemption or deduction asks for more points than the member has available (HTTP 409, exit 2)."""

    title = "Not enough points"

    def __init__(self, wanted: int, available: int) -> None:
        super().__init__(f"not enough points: {available} available, {wanted} needed")
        self.wanted, self.available = wanted, available


def detail_json(**values: Any) -> str | None:
    """The ``detail`` text of a row (sorted keys, no spaces; ``None`` when there is nothing to say)."""
    kept = {k: v for k, v in values.items() if v is not None}
    return json.dumps(kept, sort_keys=True, separators=(",", ":")) if kept else None


def draw(lots: Iterable[Lot], points: int, at: datetime, *, skip: str | None = None) -> list[tuple[str, int]]:
    """``(lot_id, points)`` taken FIFO from what the lots have available at ``at`` (lot ``skip`` left
    out), up to ``points``; fewer when they hold less."""
    taken: list[tuple[str, int]] = []
    left = points
    for lot in sorted(lots, key=fifo_order):
        if left <= 0:
            break
        free = lot.available(at)
        if lot.lot_id == skip or free <= 0:
            continue
        n = min(free, left)
        taken.append((lot.lot_id, n))
        left -= n
    return taken


def spend(
    entries: Sequence[Entry],
    member_id: str,
    points: int,
    key: str,
    at: datetime,
    *,
    kind: str,
    source: str | None = None,
    detail: str | None = None,
) -> list[Entry]:
    """The rows that take ``points`` from a member's available points at ``at`` (a redemption, or a
    negative adjustment), one per lot drawn; :class:`InsufficientPoints` when fewer are available."""
    if points <= 0:
        raise ValidationError(f"points to take must be above 0, got {points}")
    state = derive(entries, at)
    if state.available < points:
        raise InsufficientPoints(points, state.available)
    taken = draw(state.lots, points, at)
    return [
        Entry(member_id, key, i, kind, -n, 0, lot_id, at, source=source, detail=detail if i == 0 else None)
        for i, (lot_id, n) in enumerate(taken)
    ]


def award(
    program: Program,
    entries: Sequence[Entry],
    member_id: str,
    points: int,
    key: str,
    at: datetime,
    *,
    reason: str | None = None,
    expires: bool = True,
) -> list[Entry]:
    """A manual adjustment: ``points > 0`` is a new lot (expiring like earned points unless
    ``expires`` is False); ``points < 0`` draws FIFO like a redemption."""
    detail = detail_json(reason=reason)
    if points > 0:
        until = at + timedelta(days=program.expiry_days) if expires and program.expiry_days else None
        return [Entry(member_id, key, 0, "adjust", points, 0, key, at, until, "manual", detail)]
    if points < 0:
        return spend(entries, member_id, -points, key, at, kind="adjust", source="manual", detail=detail)
    raise ValidationError("an adjustment moves at least one point")
