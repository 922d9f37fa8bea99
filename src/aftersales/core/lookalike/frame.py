"""The per-customer feature frame in Python: tidy columns, the top-tier label, the model matrix.

The engine returns one row per customer (:mod:`.features`); this module turns it into

* a **tidy frame** (:func:`tidy`): counts without a row become 0, money sums are rounded to cents
  (so a parallel engine's summation order cannot change a feature), days are added, the last NPS score
  becomes its class (promoter 9-10, passive 7-8, detractor 0-6, ``no answer``), ``bought_<k>``
  becomes ``bought:<category>``;
* the **label** (:func:`top_tier`): the customer is in the top CLV tier at time t;
* the **matrix** (:class:`Encoder`): numbers as they are (missing stays NaN, which the gradient
  boosting model routes on its own), categories one-hot over the levels seen in training.

**Top CLV tier at t.** Among the customers with at least one counted order before t, rank by
trailing-year revenue (``revenue_365d``, which orders customers exactly as their historical CLV
does: the seed formula multiplies it by one lifespan for everyone); the top tier is the top
``share`` (default 20 %) of them: everyone whose trailing-year revenue is positive and at least the
``ceil(share × N)``-th largest (ties at the threshold all join, so the tier may be a little larger).

>>> import pandas as pd
>>> f = pd.DataFrame({"customer_id": list("abcdefghij"), "orders": [1] * 10,
...                   "revenue_365d": [0, 0, 5, 1, 2, 3, 4, 9, 7, 7]})
>>> sorted(f.customer_id[top_tier(f, 0.2)])
['h', 'i', 'j']
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

import numpy as np
import pandas as pd

from aftersales.core.lookalike.features import add_days

__all__ = ["CATEGORICAL", "NUMERIC", "Encoder", "nps_class", "tidy", "top_tier"]

NUMERIC: tuple[str, ...] = (
    "orders",
    "revenue",
    "aov",
    "orders_365d",
    "revenue_365d",
    "days_since_last_order",
    "tenure_days",
    "first_order_value",
    "registrations",
    "tickets",
    "open_tickets",
    "last_nps_score",
    "active_subscription",
)
"""Numeric features, in the model's order (``bought:<category>`` flags follow them)."""
CATEGORICAL: tuple[str, ...] = ("acquisition_channel", "country", "first_order_channel", "first_category", "nps_class")
"""Categorical features (one-hot over the training levels)."""
_ZERO_WHEN_MISSING: tuple[str, ...] = ("orders", "revenue", "orders_365d", "revenue_365d", "registrations", "tickets")
_ZERO_WHEN_MISSING += ("open_tickets", "active_subscription")
NO_VALUE = "(none)"
MIN_LEVEL_COUNT = 10  # a category level needs this many training customers to get its own column


def nps_class(score: pd.Series) -> pd.Series:
    """NPS class of a 0-10 score: promoter (9-10), passive (7-8), detractor (0-6); ``no answer`` when NaN.

    >>> nps_class(pd.Series([10, 8, 3, None])).tolist()
    ['promoter', 'passive', 'detractor', 'no answer']
    """
    s = pd.to_numeric(score, errors="coerce")
    out = np.select([s >= 9, s >= 7, s >= 0], ["promoter", "passive", "detractor"], default="no answer")
    return pd.Series(out, index=score.index, dtype=object)


def tidy(raw: pd.DataFrame, at: datetime, categories: Sequence[str]) -> pd.DataFrame:
    """The engine's feature rows at ``at`` as the tidy frame described in the module docstring."""
    f = add_days(raw, at)
    for col in _ZERO_WHEN_MISSING:
        f[col] = pd.to_numeric(f[col], errors="coerce").fillna(0.0).astype(float) if col in f else 0.0
    for col in ("revenue", "revenue_365d"):  # money: a parallel engine's sum may differ in its last bits
        f[col] = f[col].round(2)  # from run to run, which could move a tree's split; cents are exact
    f["aov"] = np.where(f["orders"] > 0, f["revenue"] / f["orders"].where(f["orders"] > 0, 1.0), np.nan)
    for col in ("first_order_value", "last_nps_score"):
        f[col] = pd.to_numeric(f[col], errors="coerce").astype(float) if col in f else np.nan
    f["nps_class"] = nps_class(f["last_nps_score"])
    for k, cat in enumerate(categories):
        col = f"bought_{k}"
        f[f"bought:{cat}"] = pd.to_numeric(f[col], errors="coerce").fillna(0.0) if col in f else 0.0
    for col in CATEGORICAL:
        if col not in f:
            f[col] = NO_VALUE
        f[col] = f[col].astype(object).where(f[col].notna(), NO_VALUE).astype(str)
    keep = ["customer_id", *NUMERIC, *(f"bought:{c}" for c in categories), *CATEGORICAL]
    return f[keep].reset_index(drop=True)


def top_tier(frame: pd.DataFrame, share: float) -> pd.Series:
    """Boolean per row: in the top ``share`` tier of trailing-year revenue (module docstring)."""
    active = frame["orders"] > 0
    n = int(active.sum())
    revenue = frame["revenue_365d"].astype(float)
    if n == 0:
        return pd.Series(False, index=frame.index)
    k = max(1, math.ceil(share * n))
    threshold = float(np.sort(revenue[active].to_numpy())[::-1][k - 1])
    return active & (revenue > 0.0) & (revenue >= threshold)


@dataclass
class Encoder:
    """Numbers and flags as they are, categories one-hot over the levels seen when fitted.

    A level needs :data:`MIN_LEVEL_COUNT` customers in the training frame to get a column; rarer and
    unseen levels are all-zero rows (the model treats them as "none of the common levels").
    """

    numeric: list[str] = field(default_factory=list)
    levels: dict[str, list[str]] = field(default_factory=dict)

    def fit(self, frame: pd.DataFrame) -> Encoder:
        self.numeric = [c for c in frame.columns if c in NUMERIC or c.startswith("bought:")]
        self.levels = {}
        for col in CATEGORICAL:
            counts = frame[col].value_counts()
            self.levels[col] = sorted(str(v) for v, n in counts.items() if n >= MIN_LEVEL_COUNT)
        return self

    @property
    def columns(self) -> list[str]:
        return self.numeric + [f"{col}={v}" for col, vs in self.levels.items() for v in vs]

    def transform(self, frame: pd.DataFrame) -> np.ndarray:
        parts = [frame[self.numeric].to_numpy(dtype=np.float64)]
        for col, values in self.levels.items():
            if values:
                parts.append((frame[col].to_numpy()[:, None] == np.array(values, dtype=object)[None, :]).astype(float))
        return np.hstack(parts)
