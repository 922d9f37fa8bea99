"""Customer value from a fitted purchase model: discounted expected purchases, CLV and risk tiers.

CLV over a horizon H (in the model's time unit) with margin μ, expected spend E[M] and annual
discount rate d is the discounted cash flow

    CLV = μ · E[M | x, m] · Σ_{i=1}^{K} (E[Y(tᵢ)] - E[Y(tᵢ₋₁)]) · (1+d)^(-tᵢ/P),    tᵢ = i·H/K,

where P is the number of time units per year (52.18 weeks, 365.25 days) and the purchases of each
step are discounted at its end (K = ⌈H⌉ steps, at most 120). Because every purchase model factors as
``E[Y(t) | x, t_x, T] = P(alive | x, t_x, T) · E[Y(t) | alive, x, T]``, the sum is computed once per
distinct (x, T) and multiplied by P(alive): scoring costs the number of distinct (x, T) pairs.

>>> from aftersales.core.clv.beta_geo import BetaGeo
>>> m = BetaGeo.from_params(r=0.243, alpha=4.414, a=0.793, b=2.426)
>>> s = score(m, [2], [30.43], [38.86], horizon=39, annual_discount=0.0, periods_per_year=52.18)
>>> round(float(s["expected_purchases"][0]), 3), round(float(s["discounted_purchases"][0]), 3)
(1.226, 1.226)
"""

from __future__ import annotations

import math
from typing import Any, Literal, get_args

import numpy as np

from aftersales.core.clv.transactions import TransactionModel
from aftersales.core.errors import FieldError, ValidationError

__all__ = ["PERIODS_PER_YEAR", "RISK_BOUNDS", "RISK_TIERS", "RiskTier", "risk_tier", "score"]

PERIODS_PER_YEAR = {"D": 365.25, "W": 365.25 / 7.0}
RiskTier = Literal["high", "medium", "low"]
"""Churn-risk tiers on P(alive), riskiest first (the API's literal and the CLI's choices derive from it)."""
RISK_TIERS: tuple[RiskTier, ...] = get_args(RiskTier)
# Upper bounds on P(alive) of the first two tiers: high below 0.3, medium below 0.7, low otherwise.
RISK_BOUNDS = (0.3, 0.7)
_MAX_STEPS = 120


def score(
    model: TransactionModel,
    frequency: Any,
    recency: Any,
    T: Any,
    *,
    horizon: float,
    annual_discount: float,
    periods_per_year: float,
) -> dict[str, np.ndarray]:
    """Per row: ``p_alive``, ``expected_purchases`` in the horizon and ``discounted_purchases``."""
    if horizon <= 0:
        raise ValidationError("horizon must be > 0", [FieldError(("horizon",), "must be > 0")])
    if annual_discount < 0 or annual_discount >= 10:
        msg = "the annual discount rate must be in [0, 10) (0.10 means 10% a year)"
        raise ValidationError(msg, [FieldError(("discount",), msg)])
    x, t_x, T_ = (np.asarray(v, float).reshape(-1) for v in np.broadcast_arrays(frequency, recency, T))
    model._validate({"frequency": x, "recency": t_x, "T": T_})
    p_alive = model.probability_alive(x, t_x, T_)
    pairs, inverse = np.unique(np.column_stack([x, T_]), axis=0, return_inverse=True)
    steps = min(max(math.ceil(horizon), 1), _MAX_STEPS)
    grid = np.linspace(0.0, horizon, steps + 1)
    with np.errstate(under="ignore"):
        alive_curve = model._expected_if_alive(grid[None, :], pairs[:, :1], pairs[:, 1:])
    increments = np.diff(alive_curve, axis=1)
    factors = (1.0 + annual_discount) ** (-grid[1:] / periods_per_year)
    inverse = inverse.reshape(-1)
    return {
        "p_alive": p_alive,
        "expected_purchases": p_alive * alive_curve[inverse, -1],
        "discounted_purchases": p_alive * (increments @ factors)[inverse],
    }


def risk_tier(p_alive: Any, bounds: tuple[float, float] = RISK_BOUNDS) -> np.ndarray:
    """Churn-risk tier from P(alive): ``"high"`` (< 0.3), ``"medium"`` (< 0.7) or ``"low"``.

    >>> risk_tier([0.1, 0.5, 0.95]).tolist()
    ['high', 'medium', 'low']
    """
    p = np.asarray(p_alive, float)
    high, medium, low = RISK_TIERS
    return np.where(p < bounds[0], high, np.where(p < bounds[1], medium, low))
