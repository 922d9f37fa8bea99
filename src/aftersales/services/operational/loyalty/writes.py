"""Writes of one member: manual awards (adjustments) and redemptions, each idempotent by key.

Both run in one transaction that first locks the member (``LoyaltyRepository.lock_members``: a row
lock on PostgreSQL, the database's write lock on SQLite), then reads the member's rows, decides
with the core (FIFO draws that never overdraw) and appends. Two redemptions of one member therefore
run one after the other, the second seeing the first's rows: 100 at once never spend a point twice.

* A redemption's ``key`` is unique across the store: a retry with the same key (and the same member,
  reward and quantity) returns the first redemption and writes nothing; the same key for anything
  else is a :class:`ConflictError`.
* An award's ``key`` is unique per member: a retry returns the rows first written.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from aftersales.core.errors import ConflictError, FieldError, NotFoundError, ValidationError
from aftersales.core.loyalty import Entry, award, derive, detail_json, qualifying_spans, spend, tier_at
from aftersales.services.clock import Clock, SystemClock
from aftersales.services.operational.loyalty.program import stored_program
from aftersales.services.ports import UnitOfWork, UnitOfWorkFactory
from aftersales.services.ports_loyalty import RedemptionRecord

__all__ = ["MAX_KEY", "Movement", "Redemption", "adjust", "redeem", "redemption_detail"]

MAX_KEY = 255
MAX_POINTS = 10**12


@dataclass(frozen=True)
class Movement:
    """What an award or deduction wrote (or had written, when ``replayed``)."""

    member_id: str
    key: str
    points: int
    lots: tuple[tuple[str, int], ...]  # (lot_id, points moved)
    available: int  # after it
    replayed: bool


@dataclass(frozen=True)
class Redemption:
    redemption_id: str
    key: str
    member_id: str
    reward_id: str
    reward_name: str
    quantity: int
    points: int
    redeemed_at: datetime
    lots: tuple[tuple[str, int], ...]
    available: int  # the member's available points after it
    replayed: bool


def _check_key(key: str) -> str:
    if not key or len(key) > MAX_KEY or any(ord(ch) < 32 or ord(ch) == 127 for ch in key):
        problem = f"must be 1 to {MAX_KEY} printable characters"
        raise ValidationError(f"key {problem}", [FieldError(("key",), problem)])
    return key


def _locked_member(u: UnitOfWork, member_id: str, now: datetime) -> list[Entry]:
    """Lock the member (creating its row) and read its rows; :class:`NotFoundError` for an unknown customer."""
    if not u.loyalty.lock_members([member_id], now):
        raise NotFoundError(f"no customer {member_id!r}")
    return u.loyalty.entries([member_id]).get(member_id, [])


def adjust(
    uow: UnitOfWorkFactory,
    member_id: str,
    points: int,
    *,
    key: str,
    reason: str | None = None,
    expires: bool = True,
    clock: Clock | None = None,
) -> Movement:
    """Award ``points`` (> 0: a new lot, expiring like earned points unless ``expires`` is False) or
    deduct them (< 0: drawn FIFO; :class:`~aftersales.core.loyalty.InsufficientPoints` beyond the
    available points). A retry with the same ``key`` returns what was written."""
    _check_key(key)
    if points == 0 or abs(points) > MAX_POINTS:
        problem = f"must be a whole number of points, not 0, at most {MAX_POINTS:,} either way"
        raise ValidationError(f"points {problem}", [FieldError(("points",), problem)])
    if reason is not None and len(reason) > 500:
        raise ValidationError("reason is too long", [FieldError(("reason",), "at most 500 characters")])
    now = (clock or SystemClock()).now()
    op = f"adjust:{key}"
    with uow() as u:
        program, version = stored_program(u)
        entries = _locked_member(u, member_id, now)
        done = [e for e in entries if e.key == op]
        if done:
            moved = sum(e.points for e in done)
            if moved != points:
                raise ConflictError(f"the key {key!r} was used for an adjustment of {moved} points")
            rows, replayed = done, True
        else:
            rows = award(program, entries, member_id, points, op, now, reason=reason, expires=expires)
            u.loyalty.add_entries(rows, version, now)
            entries = [*entries, *rows]
            replayed = False
    lots = tuple((e.lot_id, e.points) for e in rows)
    return Movement(member_id, key, points, lots, derive(entries, now).available, replayed)


def _reward(u: UnitOfWork, member_id: str, reward_id: str, entries: list[Entry], now: datetime) -> Any:
    program, version = stored_program(u)
    reward = program.reward(reward_id)
    if reward is None:
        raise NotFoundError(f"no reward {reward_id!r} in the loyalty program (version {version})")
    if reward.min_tier is not None:
        tiers = program.tiers
        level = tier_at(tiers, qualifying_spans(entries, tiers.window_days), now)
        if tiers.rank(level.name) < tiers.rank(reward.min_tier):
            raise ConflictError(f"the reward {reward_id!r} is for {reward.min_tier} members and above")
    return reward, version


def redeem(
    uow: UnitOfWorkFactory,
    member_id: str,
    reward_id: str,
    *,
    key: str,
    quantity: int = 1,
    clock: Clock | None = None,
) -> Redemption:
    """Spend the reward's points (x ``quantity``) from the member's available points, oldest expiry
    first (:class:`~aftersales.core.loyalty.InsufficientPoints` when they do not suffice). Idempotent
    by ``key`` (module docstring)."""
    _check_key(key)
    if not 1 <= quantity <= 1000:
        raise ValidationError("quantity must be 1 to 1000", [FieldError(("quantity",), "must be 1 to 1000")])
    now = (clock or SystemClock()).now()
    op = f"redeem:{key}"
    with uow() as u:
        entries = _locked_member(u, member_id, now)
        first = u.loyalty.redemption(key)
        if first is not None:
            if (first.member_id, first.reward_id, first.quantity) != (member_id, reward_id, quantity):
                raise ConflictError(f"the key {key!r} was used for another redemption ({first.redemption_id})")
            rows = [e for e in entries if e.key == op]
            program, _ = stored_program(u)
            found = program.reward(first.reward_id)
            return Redemption(
                first.redemption_id, key, member_id, first.reward_id, found.name if found else first.reward_id,
                first.quantity, first.points, first.redeemed_at, tuple((e.lot_id, -e.points) for e in rows),
                derive(entries, now).available, True,
            )  # fmt: skip
        reward, version = _reward(u, member_id, reward_id, entries, now)
        cost = reward.points * quantity
        detail = detail_json(reward=reward_id, quantity=quantity)
        rows = spend(entries, member_id, cost, op, now, kind="redeem", source=f"reward:{reward_id}", detail=detail)
        u.loyalty.add_entries(rows, version, now)
        record = RedemptionRecord(
            "red_" + secrets.token_hex(8), key, member_id, reward_id, quantity, cost, version, now
        )
        u.loyalty.add_redemption(record)
    lots = tuple((e.lot_id, -e.points) for e in rows)
    after = derive([*entries, *rows], now).available
    return Redemption(
        record.redemption_id, key, member_id, reward_id, reward.name, quantity, cost, now, lots, after, False
    )


def redemption_detail(redemption: Redemption) -> dict[str, Any]:
    """The redemption as a plain mapping (lots as objects), for the CLI and the API."""
    return {
        **{k: v for k, v in redemption.__dict__.items() if k != "lots"},
        "lots": [{"lot_id": lot, "points": n} for lot, n in redemption.lots],
    }
