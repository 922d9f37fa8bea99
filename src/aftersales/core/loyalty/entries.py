"""Ledger entries and what is derived from them: lots, balance, locked and available points.

The ledger is append-only. Every row moves two signed counters of one **lot**: ``points`` (the
balance) and ``locked`` (points held back for the return window). A lot is born of a *positive
movement* (``points > 0``: an earn or a positive adjustment; its ``lot_id`` is its own key) and is
named by every later row that draws on it, so

* a lot's ``remaining`` = the sum of ``points`` of its rows, its ``locked`` = the sum of ``locked``;
* the balance = the sum of ``points`` over all rows = the sum of the lots' ``remaining``;
* available = balance - locked; nothing is ever stored as a balance or edited in place.

A lot **expires by its shape**: it has an ``expires_at``, whatever kind or label wrote it. From that
instant its remaining points no longer count, even before the expire row is written (the
``pending_expiry`` of :class:`LedgerState`), so a late processing run never shows points that are
already gone. Rows of one operation share its ``key`` (the idempotency key) and are numbered by
``line``; each ``(key, line)`` is stored once.

==========  ========  ========  ===================================================
kind        points    locked    meaning
==========  ========  ========  ===================================================
earn        > 0       0         points for an order or a bonus (a new lot)
lock        0         > 0       the order's points held for the return window
release     0         < 0       the return window ended: the points become available
redeem      < 0       0         points spent on a reward, drawn from named lots
expire      < 0       <= 0      a lot's remaining points at its expiry date
adjust      != 0      0         a manual award (> 0: a new lot) or correction (< 0: drawn)
reverse     <= 0      <= 0      the order was returned or cancelled
==========  ========  ========  ===================================================

>>> from datetime import UTC, datetime
>>> t = datetime(2024, 1, 1, tzinfo=UTC)
>>> rows = [Entry("m", "order:1", 0, "earn", 100, 0, "order:1", t, datetime(2025, 1, 1, tzinfo=UTC)),
...         Entry("m", "order:1:lock", 0, "lock", 0, 100, "order:1", t)]
>>> s = derive(rows, t)
>>> (s.balance, s.locked, s.available)
(100, 100, 0)
>>> derive(rows, datetime(2025, 1, 1, tzinfo=UTC)).balance  # the lot expired (no row written yet)
0
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from aftersales.core.errors import FieldError, ValidationError

__all__ = ["KINDS", "Entry", "LedgerState", "Lot", "check_shape", "derive", "fifo_order", "lots_of"]

KINDS = ("earn", "lock", "release", "redeem", "expire", "adjust", "reverse")


@dataclass(frozen=True)
class Entry:
    """One ledger row (see the module's table for the signs each kind takes)."""

    member_id: str
    key: str  # the operation's idempotency key (order:<id>, redeem:<key>, expire:<lot>, ...)
    line: int  # position within the operation
    kind: str
    points: int  # moves the balance
    locked: int  # moves the locked points
    lot_id: str  # the lot this row moves (a positive row's own key)
    occurred_at: datetime
    expires_at: datetime | None = None  # positive rows only: when the lot's points stop counting
    source: str | None = None  # order:<id>, reward:<id>, bonus:<kind>:<ref>, manual
    detail: str | None = None  # JSON text: tier and multiplier, reason, unrecovered points

    @property
    def creates_lot(self) -> bool:
        return self.points > 0


_SIGNS = {  # kind -> (points rule, locked rule)
    "earn": (lambda p: p > 0, lambda q: q == 0),
    "lock": (lambda p: p == 0, lambda q: q > 0),
    "release": (lambda p: p == 0, lambda q: q < 0),
    "redeem": (lambda p: p < 0, lambda q: q == 0),
    "expire": (lambda p: p < 0, lambda q: q <= 0),
    "adjust": (lambda p: p != 0, lambda q: q == 0),
    "reverse": (lambda p: p <= 0, lambda q: q <= 0),
}


def check_shape(entry: Entry) -> None:
    """Raise :class:`ValidationError` unless ``entry`` has its kind's signs and a positive row names its own lot."""
    rule = _SIGNS.get(entry.kind)
    problem = None
    if rule is None:
        problem = f"unknown entry kind {entry.kind!r}"
    elif not (rule[0](entry.points) and rule[1](entry.locked)):
        problem = f"a {entry.kind} entry cannot move points by {entry.points} and locked points by {entry.locked}"
    elif entry.creates_lot and (entry.lot_id != entry.key or entry.line != 0):
        problem = "a positive entry starts its own lot (lot_id = key, line 0)"
    elif entry.expires_at is not None and not entry.creates_lot:
        problem = "only a positive entry carries an expiry date"
    if problem:
        raise ValidationError(problem, [FieldError(("entry", entry.key, entry.line), problem)])


@dataclass(frozen=True)
class Lot:
    """Points born of one positive movement, and what is left of them."""

    lot_id: str
    kind: str  # the kind that created it (earn | adjust)
    source: str | None
    occurred_at: datetime
    expires_at: datetime | None
    points: int  # as created
    remaining: int
    locked: int
    expired: int  # points written off by expire rows

    def expired_by(self, at: datetime) -> bool:
        return self.expires_at is not None and self.expires_at <= at

    def available(self, at: datetime) -> int:
        """Points of this lot that can be spent at ``at`` (0 once expired, and before it was created)."""
        return 0 if self.expired_by(at) or self.occurred_at > at else self.remaining - self.locked


def fifo_order(lot: Lot) -> tuple[bool, datetime, datetime, str]:
    """Sort key of redemption order: the soonest expiry first, never-expiring lots last, then oldest."""
    return (lot.expires_at is None, lot.expires_at or lot.occurred_at, lot.occurred_at, lot.lot_id)


@dataclass(frozen=True)
class LedgerState:
    """A member's points at ``at``, derived from the ledger's rows."""

    at: datetime
    balance: int  # points held (locked ones included), expired lots excluded
    locked: int
    available: int
    pending_expiry: int  # points of lots past their expiry date whose expire row is not written yet
    lots: tuple[Lot, ...] = field(default=())  # lots with points left and not expired, FIFO order

    @property
    def lot_sum(self) -> int:
        return sum(lot.remaining for lot in self.lots)


def lots_of(entries: Iterable[Entry]) -> dict[str, Lot]:
    """Every lot the rows name, with its counters summed over the rows."""
    made: dict[str, Entry] = {}
    sums: dict[str, list[int]] = {}
    for e in entries:
        if e.creates_lot:
            made[e.lot_id] = e
        acc = sums.setdefault(e.lot_id, [0, 0, 0])
        acc[0] += e.points
        acc[1] += e.locked
        if e.kind == "expire":
            acc[2] -= e.points
    lots = {}
    for lot_id, (remaining, locked, expired) in sums.items():
        first = made.get(lot_id)
        if first is None:  # rows drawing on a lot that was never created: the ledger is corrupt
            raise ValidationError(f"ledger rows draw on an unknown lot {lot_id!r}")
        lots[lot_id] = Lot(
            lot_id,
            first.kind,
            first.source,
            first.occurred_at,
            first.expires_at,
            first.points,
            remaining,
            locked,
            expired,
        )
    return lots


def derive(entries: Sequence[Entry], at: datetime) -> LedgerState:
    """The state at ``at`` of a member's rows that occurred by then (module docstring)."""
    lots = lots_of(e for e in entries if e.occurred_at <= at)
    live = [lot for lot in lots.values() if not lot.expired_by(at)]
    pending = sum(lot.remaining for lot in lots.values() if lot.expired_by(at))
    balance = sum(lot.remaining for lot in live)
    locked = sum(lot.locked for lot in live)
    open_lots = tuple(sorted((lot for lot in live if lot.remaining > 0), key=fifo_order))
    return LedgerState(at, balance, locked, balance - locked, pending, open_lots)
