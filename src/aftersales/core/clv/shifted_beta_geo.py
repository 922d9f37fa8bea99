"""Shifted-beta-geometric (sBG) model of subscription retention (Fader & Hardie 2007, *JIM*).

Each subscriber renews at the end of every period with probability 1 - θ, θ ~ Beta(α, β) across
subscribers. For a cohort observed period by period:

    P(T = t) = B(α+1, β+t-1) / B(α, β)          (churn in period t = 1, 2, ...)
    S(t)     = B(α, β+t) / B(α, β)              (still subscribed after t periods)
    r(t)     = S(t)/S(t-1) = (β+t-1)/(α+β+t-1)   (retention rate, rising with t: sorting, not loyalty)

Data rows are ``(period, churned, count)``: ``churned = 1`` for subscribers lost in ``period``,
``churned = 0`` for those still active after ``period`` (right-censored). :func:`cohort_rows` builds them
from a survivor curve. Customer value (Fader & Hardie 2010): the discounted expected lifetime of a new
subscriber is ``DEL(d) = Σ_{t≥0} S(t)/(1+d)^t = 2F1(1, β; α+β; 1/(1+d))`` and the discounted expected
residual lifetime of one who has renewed ``n`` times is
``DERL(d, n) = (β+n)/(α+β+n) · 2F1(1, β+n+1; α+β+n+1; 1/(1+d))`` (the next renewal's payment undiscounted).

>>> rows = cohort_rows([1000, 869, 743, 653, 593, 551, 517, 491])   # "high end" cohort, FH 2007
>>> m = ShiftedBetaGeo().fit(rows, weights="count")
>>> round(m.params_["alpha"], 3), round(m.params_["beta"], 3)
(0.668, 3.806)
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from scipy.special import betaln, digamma, hyp2f1

from aftersales.core.clv.base import BaseModel
from aftersales.core.errors import ValidationError

__all__ = ["ShiftedBetaGeo", "cohort_rows"]


def cohort_rows(survivors: Sequence[float]) -> pd.DataFrame:
    """Rows ``period, churned, count`` from a survivor curve ``[n₀, n₁, ...]`` (n₀ = cohort size).

    >>> cohort_rows([100, 60, 45]).to_dict("list")
    {'period': [1, 2, 2], 'churned': [1, 1, 0], 'count': [40.0, 15.0, 45.0]}
    """
    alive = np.asarray(survivors, dtype=float)
    if alive.size < 2 or np.any(np.diff(alive) > 0) or np.any(alive < 0):
        raise ValidationError("survivors must be a non-increasing curve of at least two counts")
    lost = -np.diff(alive)
    periods = np.arange(1, alive.size)
    return pd.DataFrame(
        {
            "period": np.append(periods, periods[-1]),
            "churned": np.append(np.ones(periods.size, int), 0),
            "count": np.append(lost, alive[-1]),
        }
    )


class ShiftedBetaGeo(BaseModel):
    """sBG model; parameters ``alpha, beta`` of the Beta-distributed churn probability."""

    param_names = ("alpha", "beta")
    data_columns = ("period", "churned")

    def _validate(self, data: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        data = super()._validate(data)
        t, churned = data["period"], data["churned"]
        if np.any(t < 1) or np.any(t != np.floor(t)):
            raise ValidationError("period must be a whole number >= 1")
        if not np.all(np.isin(churned, (0.0, 1.0))):
            raise ValidationError("churned must be 0 or 1")
        return data

    def _log_likelihood(self, params: np.ndarray, data: dict[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
        alpha, beta = params
        t, churned = data["period"], data["churned"] == 1
        a_t = np.where(churned, alpha + 1.0, alpha)
        b_t = np.where(churned, beta + t - 1.0, beta + t)
        ll = betaln(a_t, b_t) - betaln(alpha, beta)
        psi_end, psi_ab = digamma(alpha + beta + t), digamma(alpha + beta)
        g_alpha = digamma(a_t) - psi_end - (digamma(alpha) - psi_ab)
        g_beta = digamma(b_t) - psi_end - (digamma(beta) - psi_ab)
        return ll, np.column_stack([g_alpha, g_beta])

    def survival(self, t: Any) -> np.ndarray:
        """S(t): share of a new cohort still subscribed after ``t`` periods."""
        alpha, beta = self._params()
        surv: np.ndarray = np.exp(betaln(alpha, beta + np.asarray(t, float)) - betaln(alpha, beta))
        return surv

    def retention_rate(self, t: Any) -> np.ndarray:
        """r(t) = S(t)/S(t-1) for t ≥ 1."""
        alpha, beta = self._params()
        t = np.asarray(t, float)
        rate: np.ndarray = (beta + t - 1.0) / (alpha + beta + t - 1.0)
        return rate

    def discounted_expected_residual_lifetime(self, discount: float, renewals: Any = 0) -> np.ndarray:
        """DERL(d, n): discounted expected future payments of a subscriber who has renewed n times.

        Payments are counted from the next renewal on, that one undiscounted (Fader & Hardie 2010:
        the subscriber is about to renew), so ``DERL(d, 0) = (1+d)(DEL(d) - 1)``.
        """
        if discount <= 0:
            raise ValidationError("discount must be > 0 (the sums diverge without discounting when β ≤ 1)")
        alpha, beta = self._params()
        n = np.asarray(renewals, float)
        z = 1.0 / (1.0 + discount)
        residual: np.ndarray = (beta + n) / (alpha + beta + n) * hyp2f1(1.0, beta + n + 1.0, alpha + beta + n + 1.0, z)
        return residual

    def discounted_expected_lifetime(self, discount: float) -> float:
        """DEL(d) = Σ_{t≥0} S(t)/(1+d)^t: discounted payments of a new subscriber (first one now)."""
        if discount <= 0:
            raise ValidationError("discount must be > 0")
        alpha, beta = self._params()
        return float(hyp2f1(1.0, beta, alpha + beta, 1.0 / (1.0 + discount)))
