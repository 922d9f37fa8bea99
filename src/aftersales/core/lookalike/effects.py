"""Effect sizes for "what sets the high-value group apart", and the profile in plain words.

**Numbers** (orders, first-order value, registrations, ...): the standardised mean difference
(Cohen's d with the average of the two variances, Austin 2009, "Balance diagnostics")::

    SMD = (mean_high − mean_rest) / sqrt((s²_high + s²_rest) / 2)

**Shares** (a category bought, a channel, an NPS class): the share in each group with

* the difference p₁ − p₂ and Newcombe's hybrid score interval (Newcombe 1998, method 10), built
  from the two Wilson intervals (l₁, u₁), (l₂, u₂)::

      L = (p₁ − p₂) − sqrt((p₁ − l₁)² + (u₂ − p₂)²),   U = (p₁ − p₂) + sqrt((u₁ − p₁)² + (p₂ − l₂)²)

* the risk ratio p₁ / p₂ with the Katz log interval exp(ln RR ± z·sqrt(1/x₁ − 1/n₁ + 1/x₂ − 1/n₂))
  (undefined when either group has no customer with the trait);
* the SMD of the 0/1 indicator, (p₁ − p₂) / sqrt((p₁(1 − p₁) + p₂(1 − p₂)) / 2), so numbers and
  shares rank on one scale.

Traits are ranked by |SMD|; Cohen's words: below 0.2 negligible, 0.2 small, 0.5 medium, 0.8 large.

>>> round(smd_binary(0.5, 0.3), 4)  # 0.2 / sqrt((0.25 + 0.21) / 2)
0.417
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

__all__ = [
    "TraitEffect",
    "katz_risk_ratio",
    "newcombe_difference",
    "profile",
    "size_word",
    "smd",
    "smd_binary",
    "wilson",
]

Z95 = 1.959963984540054
TRAIT_LABELS: dict[str, tuple[str, str]] = {  # column -> (group, plain label)
    "orders": ("activity", "orders to date"),
    "revenue": ("activity", "revenue to date"),
    "aov": ("activity", "average order value"),
    "days_since_last_order": ("activity", "days since the last order"),
    "tenure_days": ("activity", "days since the first order"),
    "first_order_value": ("first order", "first order value"),
    "registrations": ("registrations", "products registered"),
    "tickets": ("support", "support tickets"),
    "open_tickets": ("support", "open support tickets"),
    "active_subscription": ("subscription", "an active subscription"),
}
LEVEL_GROUPS: dict[str, tuple[str, str]] = {  # categorical column -> (group, how a level reads)
    "acquisition_channel": ("acquisition", "acquired through {}"),
    "country": ("acquisition", "in country {}"),
    "first_order_channel": ("first order", "first order placed via {}"),
    "first_category": ("first order", "first order's main category {}"),
    "nps_class": ("NPS", "last NPS answer: {}"),
}


def wilson(x: float, n: float, z: float = Z95) -> tuple[float, float]:
    """Wilson score interval for a proportion x/n (Wilson 1927; Newcombe 1998a, method 3).

    Newcombe's example, 81 of 263:

    >>> [round(v, 4) for v in wilson(81, 263)]
    [0.2553, 0.3662]
    """
    if n <= 0:
        return (math.nan, math.nan)
    p = x / n
    denom = 1.0 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z / denom * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return (max(0.0, centre - half), min(1.0, centre + half))


def newcombe_difference(x1: float, n1: float, x2: float, n2: float, z: float = Z95) -> tuple[float, float, float]:
    """``(p1 − p2, low, high)`` with Newcombe's hybrid score interval (1998, method 10).

    Newcombe's example (a), 56/70 vs 48/80:

    >>> [round(v, 4) for v in newcombe_difference(56, 70, 48, 80)]
    [0.2, 0.0524, 0.3339]
    """
    p1, p2 = x1 / n1, x2 / n2
    l1, u1 = wilson(x1, n1, z)
    l2, u2 = wilson(x2, n2, z)
    d = p1 - p2
    return (d, d - math.sqrt((p1 - l1) ** 2 + (u2 - p2) ** 2), d + math.sqrt((u1 - p1) ** 2 + (p2 - l2) ** 2))


def katz_risk_ratio(x1: float, n1: float, x2: float, n2: float, z: float = Z95) -> tuple[float, float, float] | None:
    """``(RR, low, high)`` of (x1/n1) / (x2/n2), Katz log interval; None when x1 or x2 is 0.

    >>> [round(v, 3) for v in katz_risk_ratio(20, 100, 10, 100)]
    [2.0, 0.987, 4.054]
    """
    if x1 <= 0 or x2 <= 0:
        return None
    rr = (x1 / n1) / (x2 / n2)
    se = math.sqrt(1 / x1 - 1 / n1 + 1 / x2 - 1 / n2)
    return (rr, rr * math.exp(-z * se), rr * math.exp(z * se))


def smd(a: np.ndarray, b: np.ndarray) -> float:
    """Standardised mean difference of two samples (NaN dropped); 0 when both are constant and equal.

    >>> smd(np.array([1.0, 2.0, 3.0]), np.array([0.0, 1.0, 2.0]))
    1.0
    """
    a, b = a[~np.isnan(a)], b[~np.isnan(b)]
    if a.size < 2 or b.size < 2:
        return math.nan
    diff = float(a.mean() - b.mean())
    sd = math.sqrt((float(a.var(ddof=1)) + float(b.var(ddof=1))) / 2.0)
    if sd == 0.0:
        return 0.0 if diff == 0.0 else math.copysign(math.inf, diff)
    return diff / sd


def smd_binary(p1: float, p2: float) -> float:
    """SMD of a 0/1 indicator with shares p1 and p2 (0 when both shares are 0 or both 1)."""
    sd = math.sqrt((p1 * (1 - p1) + p2 * (1 - p2)) / 2.0)
    return 0.0 if sd == 0.0 else (p1 - p2) / sd


def size_word(d: float) -> str:
    """Cohen's words for |d|: negligible (< 0.2), small, medium (>= 0.5), large (>= 0.8)."""
    a = abs(d)
    return "negligible" if not a >= 0.2 else "small" if a < 0.5 else "medium" if a < 0.8 else "large"


@dataclass(frozen=True)
class TraitEffect:
    """How one trait differs between the high-value group and the rest (see the module docstring).

    ``kind`` is ``number`` (``high``/``rest`` are means) or ``share`` (shares 0-1, with the
    difference, its Newcombe interval and the risk ratio with its Katz interval)."""

    trait: str
    group: str
    kind: str
    high: float
    rest: float
    smd: float
    n_high: int
    n_rest: int
    difference: float | None = None
    difference_low: float | None = None
    difference_high: float | None = None
    risk_ratio: float | None = None
    risk_ratio_low: float | None = None
    risk_ratio_high: float | None = None
    sentence: str = ""


def _number(col: str, values: pd.Series, high: np.ndarray) -> TraitEffect:
    group, label = TRAIT_LABELS[col]
    v = values.to_numpy(dtype=np.float64)
    a, b = v[high], v[~high]
    d = smd(a, b)
    mh, mr = float(np.nanmean(a)) if a.size else math.nan, float(np.nanmean(b)) if b.size else math.nan
    times = f", {mh / mr:.1f}x" if mr > 0 and mh > 0 else ""
    sentence = (
        f"{label.capitalize()}: mean {mh:,.2f} in the high-value group vs {mr:,.2f} in the rest"
        f"{times} (standardised difference {d:+.2f}, {size_word(d)})."
    )
    n_h, n_r = int(np.count_nonzero(~np.isnan(a))), int(np.count_nonzero(~np.isnan(b)))
    return TraitEffect(col, group, "number", mh, mr, d, n_h, n_r, sentence=sentence)


def _share(trait: str, group: str, label: str, flag: np.ndarray, high: np.ndarray) -> TraitEffect:
    n1, n2 = int(high.sum()), int((~high).sum())
    x1, x2 = int(flag[high].sum()), int(flag[~high].sum())
    p1, p2 = x1 / n1, x2 / n2
    diff, lo, hi = newcombe_difference(x1, n1, x2, n2)
    rr = katz_risk_ratio(x1, n1, x2, n2)
    d = smd_binary(p1, p2)
    times = f"{rr[0]:.2f}x as often; " if rr is not None else ""
    sentence = (
        f"{label[:1].upper()}{label[1:]}: {p1:.0%} of the high-value group vs {p2:.0%} of the rest "
        f"({times}difference {100 * diff:+.1f} points, 95% CI {100 * lo:+.1f} to {100 * hi:+.1f}; {size_word(d)})."
    )
    return TraitEffect(
        trait, group, "share", p1, p2, d, n1, n2, diff, lo, hi,
        rr[0] if rr else None, rr[1] if rr else None, rr[2] if rr else None, sentence,
    )  # fmt: skip


def profile(frame: pd.DataFrame, high: np.ndarray, categories: Sequence[str], min_level: int = 10) -> list[TraitEffect]:
    """Every trait of the tidy frame (:func:`.frame.tidy`), high-value group vs the rest, by |SMD| descending.

    Left out: the trailing-year orders and revenue (they define the tier) and the last NPS score
    (its class is shown). Category levels held by fewer than ``min_level`` customers are skipped.
    """
    high = np.asarray(high, dtype=bool)
    out: list[TraitEffect] = []
    for col in TRAIT_LABELS:
        if col == "active_subscription":
            flag = frame[col].to_numpy(dtype=np.float64) > 0
            out.append(_share("active_subscription", "subscription", "has an active subscription", flag, high))
        else:
            out.append(_number(col, frame[col], high))
    for cat in categories:
        flag = frame[f"bought:{cat}"].to_numpy(dtype=np.float64) > 0
        out.append(_share(f"bought:{cat}", "categories", f"bought {cat}", flag, high))
    for col, (group, template) in LEVEL_GROUPS.items():
        values = frame[col].astype(str).to_numpy()
        levels, counts = np.unique(values, return_counts=True)
        for level, count in zip(levels, counts, strict=True):
            if count >= min_level:
                out.append(_share(f"{col}={level}", group, template.format(level), values == level, high))
    return sorted(out, key=lambda t: (-abs(t.smd) if not math.isnan(t.smd) else 0.0, t.trait))
