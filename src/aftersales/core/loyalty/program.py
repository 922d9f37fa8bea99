"""The loyalty program document: earn rules, the return-window lock, expiry, tiers and rewards.

A program is written as YAML (``aftersales loyalty apply program.yaml``) or sent as the same JSON
(``PUT /v1/loyalty/program``); :func:`parse_program` turns either into a frozen :class:`Program` and
reports every problem at its path (``tiers/levels/1/min_points: must be above the previous level's
0``), so nothing half-valid is ever stored. :func:`program_document` is the canonical document
(defaults filled in, numbers normalised), whose digest tells an unchanged re-apply from a new version.

>>> p = parse_program({"earn": {"points_per_unit": 2, "category_multipliers": {"bikes": 1.5}},
...                    "tiers": {"levels": [{"name": "member", "min_points": 0},
...                                         {"name": "gold", "min_points": 1000, "earn_multiplier": 1.25}]}})
>>> p.return_window_days, p.expiry_days, [t.name for t in p.tiers.levels], p.multiplier("bikes")
(30, 365, ['member', 'gold'], Decimal('1.5'))
>>> parse_program({"tiers": {"levels": [{"name": "a", "min_points": 5}]}})
Traceback (most recent call last):
aftersales.core.errors.ValidationError: invalid loyalty program: tiers/levels/0/min_points: the first level \
must start at 0 points (every member is in it)
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal, InvalidOperation
from functools import cached_property
from typing import Any

from aftersales.core.errors import FieldError, ValidationError

__all__ = [
    "BONUS_KINDS",
    "REWARD_KINDS",
    "Bonuses",
    "Program",
    "Reward",
    "TierLevel",
    "Tiers",
    "parse_program",
    "program_digest",
    "program_document",
]

Loc = tuple[str | int, ...]
BONUS_KINDS = ("review_written", "survey_answered", "product_registered")
REWARD_KINDS = ("amount_off", "percent_off", "free_product")
SHOWN = 10  # problems named in the message (all are in ``errors``)
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
_CURRENCY = re.compile(r"^[A-Z]{3}$")
MAX_DAYS = 36_500
_ONE = Decimal(1)


@dataclass(frozen=True)
class TierLevel:
    """A tier: reached with ``min_points`` qualifying points in the window; multiplies order points."""

    name: str
    min_points: int
    earn_multiplier: Decimal = Decimal(1)


@dataclass(frozen=True)
class Tiers:
    """Tiers qualified by points *earned* (never the balance) in a rolling window of ``window_days``.

    ``retain_days`` is the downgrade rule: a member keeps the highest tier qualified for at any moment
    of the last ``retain_days`` (0: the tier follows the window at once)."""

    levels: tuple[TierLevel, ...] = (TierLevel("member", 0),)
    window_days: int = 365
    retain_days: int = 0

    def rank(self, name: str) -> int:
        return next(i for i, level in enumerate(self.levels) if level.name == name)


@dataclass(frozen=True)
class Bonuses:
    """Points for things a customer does besides buying (0: no bonus)."""

    review_written: int = 0
    survey_answered: int = 0
    product_registered: int = 0
    review_event: str = "review_written"  # the events table's name for a written review


@dataclass(frozen=True)
class Reward:
    """A catalogue item: what it costs in points and what it gives (the coupon comes later)."""

    reward_id: str
    name: str
    points: int
    kind: str  # amount_off | percent_off | free_product
    value: Decimal | None = None  # money for amount_off, percent for percent_off
    product_id: str | None = None  # free_product
    min_tier: str | None = None  # a member-only offer: this tier or above


@dataclass(frozen=True)
class Program:
    name: str = "loyalty"
    currency: str = "USD"
    points_per_unit: Decimal = Decimal(1)
    category_multipliers: tuple[tuple[str, Decimal], ...] = ()
    bonuses: Bonuses = field(default_factory=Bonuses)
    return_window_days: int = 30
    expiry_days: int | None = 365
    expiry_warning_days: int = 30
    cost_per_point: Decimal = Decimal("0.01")
    tiers: Tiers = field(default_factory=Tiers)
    rewards: tuple[Reward, ...] = ()

    @cached_property
    def window(self) -> timedelta:
        """The tier window as a duration."""
        return timedelta(days=self.tiers.window_days)

    @cached_property
    def _multipliers(self) -> dict[str, Decimal]:
        return dict(self.category_multipliers)

    def multiplier(self, category: str | None) -> Decimal:
        """The earn multiplier of a product category (1 when the program names none)."""
        return self._multipliers.get(category or "", _ONE)

    def reward(self, reward_id: str) -> Reward | None:
        return next((r for r in self.rewards if r.reward_id == reward_id), None)


class _Reader:
    """Reads a parsed document field by field, collecting every problem with its path."""

    def __init__(self) -> None:
        self.errors: list[FieldError] = []

    def fail(self, loc: Loc, message: str) -> None:
        self.errors.append(FieldError(loc, message))

    def mapping(self, value: Any, loc: Loc, known: Sequence[str]) -> Mapping[str, Any]:
        if value is None:
            return {}
        if not isinstance(value, Mapping):
            self.fail(loc, f"expected an object, got {type(value).__name__}")
            return {}
        for key in value:
            if key not in known:
                self.fail((*loc, str(key)), f"unknown field (expected one of: {', '.join(known)})")
        return value

    def integer(self, m: Mapping[str, Any], key: str, loc: Loc, default: int, low: int, high: int = 10**12) -> int:
        value = m.get(key, default)
        if isinstance(value, bool) or not isinstance(value, int):
            self.fail((*loc, key), f"expected a whole number, got {value!r}")
            return default
        if not low <= value <= high:
            self.fail((*loc, key), f"must be between {low} and {high}")
            return default
        return value

    def decimal(self, value: Any, loc: Loc, *, positive: bool) -> Decimal | None:
        if isinstance(value, bool) or not isinstance(value, int | float | str):
            self.fail(loc, f"expected a number, got {value!r}")
            return None
        try:
            number = Decimal(str(value))
        except InvalidOperation:
            number = Decimal("NaN")
        if not number.is_finite() or number < 0 or (positive and number == 0) or number > 10**9:
            self.fail(loc, f"expected a {'positive' if positive else 'non-negative'} number, got {value!r}")
            return None
        return Decimal(int(number)) if number == number.to_integral_value() else number

    def text(self, m: Mapping[str, Any], key: str, loc: Loc, default: str | None, pattern: re.Pattern[str]) -> str:
        value = m.get(key, default)
        if not isinstance(value, str) or not pattern.match(value):
            self.fail((*loc, key), f"expected a name of letters, digits, '_', '.' or '-', got {value!r}")
            return default or ""
        return value


def _bonuses(r: _Reader, doc: Mapping[str, Any]) -> Bonuses:
    raw = r.mapping(doc.get("bonuses"), ("earn", "bonuses"), BONUS_KINDS)
    points = {k: r.integer(raw, k, ("earn", "bonuses"), 0, 0, 10**9) for k in BONUS_KINDS}
    event = r.text(doc, "review_event", ("earn",), "review_written", _NAME)
    return Bonuses(**points, review_event=event)


def _earn(r: _Reader, doc: Mapping[str, Any]) -> tuple[Decimal, tuple[tuple[str, Decimal], ...], Bonuses]:
    earn = r.mapping(doc.get("earn"), ("earn",), ("points_per_unit", "category_multipliers", "bonuses", "review_event"))
    per_unit = r.decimal(earn.get("points_per_unit", 1), ("earn", "points_per_unit"), positive=False) or Decimal(0)
    multipliers = []
    raw = earn.get("category_multipliers") or {}
    if not isinstance(raw, Mapping):
        r.fail(("earn", "category_multipliers"), "expected an object of category: multiplier")
        raw = {}
    for category, value in raw.items():
        number = r.decimal(value, ("earn", "category_multipliers", str(category)), positive=False)
        if number is not None:
            multipliers.append((str(category), number))
    return per_unit, tuple(sorted(multipliers)), _bonuses(r, earn)


def _tiers(r: _Reader, doc: Mapping[str, Any]) -> Tiers:
    loc: Loc = ("tiers",)
    raw = r.mapping(doc.get("tiers"), loc, ("window_days", "retain_days", "levels"))
    window = r.integer(raw, "window_days", loc, 365, 1, MAX_DAYS)
    retain = r.integer(raw, "retain_days", loc, 0, 0, MAX_DAYS)
    items = raw.get("levels", [{"name": "member", "min_points": 0}])
    if not isinstance(items, list) or not items:
        r.fail((*loc, "levels"), "expected a non-empty list of levels")
        return Tiers(window_days=window, retain_days=retain)
    levels: list[TierLevel] = []
    for i, item in enumerate(items):
        at: Loc = (*loc, "levels", i)
        level = r.mapping(item, at, ("name", "min_points", "earn_multiplier"))
        name = r.text(level, "name", at, None, _NAME)
        low = r.integer(level, "min_points", at, 0, 0)
        mult = r.decimal(level.get("earn_multiplier", 1), (*at, "earn_multiplier"), positive=True) or Decimal(1)
        if i == 0 and low != 0:
            r.fail((*at, "min_points"), "the first level must start at 0 points (every member is in it)")
        elif levels and low <= levels[-1].min_points:
            r.fail((*at, "min_points"), f"must be above the previous level's {levels[-1].min_points}")
        if name and any(t.name == name for t in levels):
            r.fail((*at, "name"), f"the level name {name!r} is used twice")
        levels.append(TierLevel(name, low, mult))
    return Tiers(tuple(levels), window, retain)


def _rewards(r: _Reader, doc: Mapping[str, Any], tiers: Tiers) -> tuple[Reward, ...]:
    items = doc.get("rewards", [])
    if not isinstance(items, list):
        r.fail(("rewards",), "expected a list of rewards")
        return ()
    rewards: list[Reward] = []
    for i, item in enumerate(items):
        at: Loc = ("rewards", i)
        raw = r.mapping(item, at, ("id", "name", "points", "kind", "value", "product_id", "min_tier"))
        reward_id = r.text(raw, "id", at, None, _NAME)
        name = raw.get("name", reward_id)
        if not isinstance(name, str) or not name.strip() or len(name) > 200:
            r.fail((*at, "name"), "expected a text of 1 to 200 characters")
        points = r.integer(raw, "points", at, 0, 1)
        kind = raw.get("kind")
        value, product = None, raw.get("product_id")
        if kind not in REWARD_KINDS:
            r.fail((*at, "kind"), f"{kind!r} is not one of: {', '.join(REWARD_KINDS)}")
        elif kind == "free_product":
            if not isinstance(product, str) or not product:
                r.fail((*at, "product_id"), "a free_product reward names its product_id")
        else:
            value = r.decimal(raw.get("value"), (*at, "value"), positive=True)
            if kind == "percent_off" and value is not None and value > 100:
                r.fail((*at, "value"), "a percentage is at most 100")
        min_tier = raw.get("min_tier")
        if min_tier is not None and min_tier not in [t.name for t in tiers.levels]:
            r.fail((*at, "min_tier"), f"{min_tier!r} is not a tier of this program")
        if reward_id and any(x.reward_id == reward_id for x in rewards):
            r.fail((*at, "id"), f"the reward id {reward_id!r} is used twice")
        rewards.append(Reward(reward_id, str(name), points, str(kind), value, product, min_tier))
    return tuple(rewards)


def parse_program(doc: Any) -> Program:
    """The :class:`Program` a parsed JSON or YAML document describes; :class:`ValidationError` naming
    every problem at its path otherwise (module docstring). Absent sections take their defaults."""
    r = _Reader()
    top = ("name", "currency", "earn", "lock", "expiry", "value", "tiers", "rewards")
    if not isinstance(doc, Mapping):
        r.fail((), "a loyalty program is an object (name, currency, earn, lock, expiry, value, tiers, rewards)")
        doc = {}
    doc = r.mapping(doc, (), top)
    name = r.text(doc, "name", (), "loyalty", _NAME)
    currency = doc.get("currency", "USD")
    if not isinstance(currency, str) or not _CURRENCY.match(currency):
        r.fail(("currency",), f"expected an ISO 4217 code such as USD, got {currency!r}")
    per_unit, multipliers, bonuses = _earn(r, doc)
    lock = r.mapping(doc.get("lock"), ("lock",), ("return_window_days",))
    window = r.integer(lock, "return_window_days", ("lock",), 30, 0, MAX_DAYS)
    expiry = r.mapping(doc.get("expiry"), ("expiry",), ("active_days", "warning_days"))
    active: int | None = None
    if expiry.get("active_days", 365) is not None:
        active = r.integer(expiry, "active_days", ("expiry",), 365, 1, MAX_DAYS)
        if active <= window:
            r.fail(("expiry", "active_days"), f"points must stay active longer than the return window ({window} days)")
    warning = r.integer(expiry, "warning_days", ("expiry",), 30, 0, MAX_DAYS)
    value = r.mapping(doc.get("value"), ("value",), ("cost_per_point",))
    cost = r.decimal(value.get("cost_per_point", "0.01"), ("value", "cost_per_point"), positive=False)
    tiers = _tiers(r, doc)
    rewards = _rewards(r, doc, tiers)
    if r.errors:
        shown = "; ".join(f"{'/'.join(map(str, e.loc)) or '(document)'}: {e.message}" for e in r.errors[:SHOWN])
        more = f" (and {len(r.errors) - SHOWN} more)" if len(r.errors) > SHOWN else ""
        raise ValidationError(f"invalid loyalty program: {shown}{more}", r.errors)
    return Program(
        name, str(currency), per_unit, multipliers, bonuses, window, active, warning, cost or Decimal(0), tiers, rewards
    )


def _number(value: Decimal) -> int | float:
    """A JSON number that reads back as the same decimal (``Decimal(str(float("1.25")))``)."""
    return int(value) if value == value.to_integral_value() else float(value)


def program_document(p: Program) -> dict[str, Any]:
    """The canonical document of ``p``: every field spelled out, in one order (what is stored and shown)."""
    rewards = []
    for w in p.rewards:
        item: dict[str, Any] = {"id": w.reward_id, "name": w.name, "points": w.points, "kind": w.kind}
        if w.value is not None:
            item["value"] = _number(w.value)
        if w.product_id is not None:
            item["product_id"] = w.product_id
        if w.min_tier is not None:
            item["min_tier"] = w.min_tier
        rewards.append(item)
    b = p.bonuses
    return {
        "name": p.name,
        "currency": p.currency,
        "earn": {
            "points_per_unit": _number(p.points_per_unit),
            "category_multipliers": {c: _number(m) for c, m in p.category_multipliers},
            "bonuses": {k: getattr(b, k) for k in BONUS_KINDS},
            "review_event": b.review_event,
        },
        "lock": {"return_window_days": p.return_window_days},
        "expiry": {"active_days": p.expiry_days, "warning_days": p.expiry_warning_days},
        "value": {"cost_per_point": _number(p.cost_per_point)},
        "tiers": {
            "window_days": p.tiers.window_days,
            "retain_days": p.tiers.retain_days,
            "levels": [
                {"name": t.name, "min_points": t.min_points, "earn_multiplier": _number(t.earn_multiplier)}
                for t in p.tiers.levels
            ],
        },
        "rewards": rewards,
    }


def program_digest(p: Program) -> str:
    """SHA-256 of the canonical document's JSON: equal digests, equal programs."""
    text = json.dumps(program_document(p), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()
