"""Tiers: qualified by points *earned* in a rolling window, never by the balance.

Each earn row (order points and bonuses; not manual adjustments) qualifies its points from the
moment it occurred until the window has passed over it, or until its order is reversed, whichever
comes first. With ``W(s)`` the qualifying points at instant ``s``::

    W(s) = sum of p_i  over earn rows i with  e_i <= s < min(e_i + window, r_i)

(``e_i`` when it was earned, ``r_i`` when its order was returned or cancelled). The downgrade rule
keeps the best tier of the last ``retain_days``::

    M(t) = max of W(s) over s in [t - retain, t]        tier(t) = the highest level with min_points <= M(t)

``W`` only rises at some ``e_i``, so the maximum is reached at ``t - retain`` or at an ``e_i`` inside
the interval; the tier can change only at ``e_i``, ``e_i + window``, ``r_i`` and those ends plus
``retain``, which :func:`tier_changes` visits in order. Spending or losing points to expiry never
moves a tier (Open Loyalty promoted on balance), and the first order earns at the base level: an
order's multiplier comes from the tier just before it (``before=True``), and a level is reached only
with at least its ``min_points`` (ERPNext put first orders in the second tier).

>>> from datetime import UTC, datetime, timedelta
>>> from aftersales.core.loyalty.program import TierLevel, Tiers
>>> tiers = Tiers((TierLevel("member", 0), TierLevel("silver", 1000)), window_days=365)
>>> day = lambda n: datetime(2024, 1, 1, tzinfo=UTC) + timedelta(days=n)
>>> spans = [Span(day(0), day(365), 600), Span(day(100), day(465), 500)]
>>> [tier_at(tiers, spans, day(n)).name for n in (50, 100, 364, 365)]
['member', 'silver', 'silver', 'member']
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from aftersales.core.loyalty.entries import Entry
from aftersales.core.loyalty.program import TierLevel, Tiers

__all__ = ["Span", "TierChange", "qualifying_points", "qualifying_spans", "tier_at", "tier_changes"]


@dataclass(frozen=True)
class Span:
    """Points that qualify from ``start`` (inclusive) to ``end`` (exclusive)."""

    start: datetime
    end: datetime
    points: int


@dataclass(frozen=True)
class TierChange:
    at: datetime
    tier: str
    previous: str
    qualifying_points: int


def qualifying_spans(entries: Sequence[Entry], window_days: int) -> list[Span]:
    """The spans of the earn rows: from when each was earned until the window passes or its order is reversed."""
    reversed_at: dict[str, datetime] = {}
    for e in entries:
        if e.kind == "reverse" and e.source is not None:
            seen = reversed_at.get(e.source)
            reversed_at[e.source] = e.occurred_at if seen is None else min(seen, e.occurred_at)
    window = timedelta(days=window_days)
    spans = []
    for e in entries:
        if e.kind == "earn":
            end = e.occurred_at + window
            cut = reversed_at.get(e.source) if e.source is not None else None
            spans.append(Span(e.occurred_at, min(end, cut) if cut is not None else end, e.points))
    return spans


def _w(spans: Sequence[Span], s: datetime) -> int:
    return sum(x.points for x in spans if x.start <= s < x.end)


def qualifying_points(tiers: Tiers, spans: Sequence[Span], t: datetime, *, before: bool = False) -> int:
    """``M(t)`` (module docstring); ``before``: leave out points earned at ``t`` itself."""
    if before:
        spans = [x for x in spans if x.start < t]
    low = t - timedelta(days=tiers.retain_days)
    candidates = [low, *(x.start for x in spans if low < x.start <= t)]
    return max(_w(spans, s) for s in candidates)


def _level(tiers: Tiers, points: int) -> TierLevel:
    return [level for level in tiers.levels if level.min_points <= points][-1]


def tier_at(tiers: Tiers, spans: Sequence[Span], t: datetime, *, before: bool = False) -> TierLevel:
    """The tier at ``t`` (``before``: just before ``t``, for the multiplier of an order placed at ``t``)."""
    return _level(tiers, qualifying_points(tiers, spans, t, before=before))


def tier_changes(tiers: Tiers, spans: Sequence[Span], until: datetime) -> list[TierChange]:
    """Every change of tier up to ``until``, in time order, starting from the base level."""
    retain = timedelta(days=tiers.retain_days)
    moments = sorted({m for x in spans for m in (x.start, x.end, x.end + retain) if m <= until})
    changes: list[TierChange] = []
    current = tiers.levels[0].name
    for m in moments:
        points = qualifying_points(tiers, spans, m)
        level = _level(tiers, points).name
        if level != current:
            changes.append(TierChange(m, level, current, points))
            current = level
    return changes
