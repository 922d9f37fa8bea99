"""Settling a member's orders and bonuses into the ledger as of ``now``: the rows still missing.

:func:`settle` looks at what the store says now (orders with their delivery, return and cancellation
times; bonus facts) and at the rows already written, and returns the rows that are due and not yet
written, each under a key that is a function of what it records:

==========================  ==============  =========================================================
key                         when            what
==========================  ==============  =========================================================
``order:<id>``              ordered_at      earn: the order's points (a lot, expiring ``active_days`` later)
``order:<id>:lock``         ordered_at      lock them for the return window
``order:<id>:release``      window's end    release them, if the order was not reversed before
``order:<id>:reverse``      returned_at /   take the order's points back: its own lot first (locked or
                            cancelled_at    not), then what was already spent of it from other lots
                                            (FIFO), never below zero (the rest is ``unrecovered``)
``bonus:<kind>:<ref>``      its time        earn: a bonus (no lock)
``expire:<lot>``            expires_at      what is left of a lot at its expiry date
==========================  ==============  =========================================================

Rows are produced in time order (earn, then release, reverse and expire at equal times), each seeing
the rows before it, so an order's tier multiplier is the tier just before it, and settling once after
a year writes the same rows as settling every day. Settling again returns nothing (every key is
written), so re-processing the same orders changes nothing.
"""

from __future__ import annotations

import heapq
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

from aftersales.core.errors import ValidationError
from aftersales.core.loyalty.earning import BonusFact, OrderFacts, order_points
from aftersales.core.loyalty.entries import Entry, Lot
from aftersales.core.loyalty.ledger import detail_json, draw
from aftersales.core.loyalty.program import Program
from aftersales.core.loyalty.tiers import Span, tier_at

__all__ = ["settle"]

_EARN, _RELEASE, _REVERSE, _EXPIRE = range(4)  # order of rows due at the same instant


class _Acc:
    """A lot's running counters while settling (mutable: rows are added one by one)."""

    __slots__ = ("expired", "expires_at", "kind", "locked", "lot_id", "occurred_at", "points", "remaining", "source")

    def __init__(self, first: Entry) -> None:
        self.lot_id, self.kind, self.source = first.lot_id, first.kind, first.source
        self.occurred_at, self.expires_at, self.points = first.occurred_at, first.expires_at, first.points
        self.remaining = self.locked = self.expired = 0

    def frozen(self) -> Lot:
        return Lot(self.lot_id, self.kind, self.source, self.occurred_at, self.expires_at, self.points,
                   self.remaining, self.locked, self.expired)  # fmt: skip

    def expired_by(self, at: datetime) -> bool:
        return self.expires_at is not None and self.expires_at <= at


@dataclass
class _Work:
    """The ledger being extended: new rows, the keys written, the lots, the qualifying spans."""

    program: Program
    member_id: str
    new: list[Entry] = field(default_factory=list)
    keys: set[str] = field(default_factory=set)
    lots: dict[str, _Acc] = field(default_factory=dict)
    spans: list[Span] = field(default_factory=list)
    earned: dict[str, int] = field(default_factory=dict)  # source -> index of its span
    details: dict[str, str | None] = field(default_factory=dict)  # tier -> the earn rows' detail

    def add(self, rows: Sequence[Entry], *, new: bool = True) -> None:
        window = self.program.window
        for r in rows:
            if r.creates_lot:
                self.lots[r.lot_id] = _Acc(r)
            acc = self.lots.get(r.lot_id)
            if acc is None:  # rows drawing on a lot that was never created: the ledger is corrupt
                raise ValidationError(f"ledger rows draw on an unknown lot {r.lot_id!r}")
            acc.remaining += r.points
            acc.locked += r.locked
            if r.kind == "expire":
                acc.expired -= r.points
            elif r.kind == "earn":  # the tier window's spans (tiers.qualifying_spans, kept as rows arrive)
                self.earned[r.source or r.key] = len(self.spans)
                self.spans.append(Span(r.occurred_at, r.occurred_at + window, r.points))
            elif r.kind == "reverse" and r.source in self.earned:
                i = self.earned[r.source]
                self.spans[i] = replace(self.spans[i], end=min(self.spans[i].end, r.occurred_at))
        if new:
            self.new.extend(rows)
        self.keys.update(r.key for r in rows)


def _earn(w: _Work, order: OrderFacts, due: list[Any]) -> None:
    p = w.program
    level = tier_at(p.tiers, w.spans, order.ordered_at, before=True)
    points = order_points(p, order, level.earn_multiplier)
    if points <= 0:
        return
    at = order.ordered_at
    until = at + timedelta(days=p.expiry_days) if p.expiry_days else None
    if level.name not in w.details:
        w.details[level.name] = detail_json(tier=level.name, multiplier=str(level.earn_multiplier))
    rows = [Entry(w.member_id, order.key, 0, "earn", points, 0, order.key, at, until, order.key, w.details[level.name])]
    if p.return_window_days > 0:
        release = f'{{"until":"{order.release_at(p.return_window_days).isoformat()}"}}'  # detail_json's form
        rows.append(
            Entry(w.member_id, f"{order.key}:lock", 0, "lock", 0, points, order.key, at, None, order.key, release)
        )
    w.add(rows)
    if until is not None:
        heapq.heappush(due, (until, _EXPIRE, order.key, 0, "expire", order.key))


def _release(w: _Work, order: OrderFacts, at: datetime) -> None:
    lot = w.lots.get(order.key)
    if lot is None or lot.locked <= 0 or lot.expired_by(at):
        return
    w.add([Entry(w.member_id, f"{order.key}:release", 0, "release", 0, -lot.locked, order.key, at, None, order.key)])


def _reverse(w: _Work, order: OrderFacts, at: datetime) -> None:
    lot = w.lots.get(order.key)
    if lot is None:
        return  # it never earned (no points, another currency)
    spent = lot.points - lot.remaining - lot.expired  # what was redeemed from this lot: take it elsewhere
    taken = draw([x.frozen() for x in w.lots.values()], spent, at, skip=lot.lot_id) if spent > 0 else []
    unrecovered = spent - sum(n for _, n in taken) or None
    key = f"{order.key}:reverse"
    rows = [
        Entry(w.member_id, key, 0, "reverse", -lot.remaining, -lot.locked, lot.lot_id, at, None, order.key,
              detail_json(unrecovered=unrecovered)),
        *(Entry(w.member_id, key, i, "reverse", -n, 0, lot_id, at, None, order.key)
          for i, (lot_id, n) in enumerate(taken, start=1)),
    ]  # fmt: skip
    w.add(rows)


def _bonus(w: _Work, fact: BonusFact, due: list[Any]) -> None:
    points = getattr(w.program.bonuses, fact.kind, 0)
    if points <= 0:
        return
    until = fact.at + timedelta(days=w.program.expiry_days) if w.program.expiry_days else None
    w.add([Entry(w.member_id, fact.key, 0, "earn", points, 0, fact.key, fact.at, until, fact.key)])
    if until is not None:
        heapq.heappush(due, (until, _EXPIRE, fact.key, 0, "expire", fact.key))


def _expire(w: _Work, lot_id: str, at: datetime) -> None:
    lot = w.lots.get(lot_id)
    key = f"expire:{lot_id}"
    if lot is None or lot.remaining <= 0 or key in w.keys:
        return
    w.add([Entry(w.member_id, key, 0, "expire", -lot.remaining, -lot.locked, lot_id, at, None, lot.source)])


def settle(
    program: Program,
    member_id: str,
    entries: Sequence[Entry],
    orders: Sequence[OrderFacts],
    bonuses: Sequence[BonusFact],
    now: datetime,
) -> list[Entry]:
    """The rows due by ``now`` and not yet written (module docstring), in time order."""
    w = _Work(program, member_id)
    w.add(entries, new=False)
    due: list[Any] = []  # (time, order of kinds, key, 0, action, subject): keys break ties, never subjects
    for o in {o.order_id: o for o in orders}.values():  # an order listed twice is one order
        if o.ordered_at > now:
            continue
        if o.key not in w.keys:
            due.append((o.ordered_at, _EARN, o.key, 0, "earn", o))
        gone = o.reversed_at()
        if gone is not None and gone <= now and f"{o.key}:reverse" not in w.keys:
            due.append((gone, _REVERSE, o.key, 0, "reverse", o))
        release = o.release_at(program.return_window_days)
        if program.return_window_days > 0 and release <= now and f"{o.key}:release" not in w.keys:
            due.append((release, _RELEASE, o.key, 0, "release", o))
    for b in bonuses:
        if b.at <= now and b.key not in w.keys:
            due.append((b.at, _EARN, b.key, 1, "bonus", b))
    for lot in list(w.lots.values()):
        if lot.expires_at is not None and lot.expires_at <= now and f"expire:{lot.lot_id}" not in w.keys:
            due.append((lot.expires_at, _EXPIRE, lot.lot_id, 0, "expire", lot.lot_id))
    heapq.heapify(due)
    while due:
        at, _, _, _, action, subject = heapq.heappop(due)
        if at > now:
            continue
        if action == "earn":
            _earn(w, subject, due)
        elif action == "bonus":
            _bonus(w, subject, due)
        elif action == "release":
            _release(w, subject, at)
        elif action == "reverse":
            _reverse(w, subject, at)
        else:
            _expire(w, subject, at)
    return w.new
