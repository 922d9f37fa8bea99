"""BG/BB: beta-geometric/beta-binomial model for discrete purchase opportunities
(Fader, Hardie & Shang 2010, *Marketing Science*), e.g. yearly donations or weekly sessions.

At each of n opportunities an alive customer transacts with probability p ~ Beta(α, β) and, after it,
dies with probability θ ~ Beta(γ, δ). A customer is summarised by ``frequency`` x (transactions among
the n opportunities), ``recency`` t_x (the opportunity of the last one, 0 if none) and ``n``:

    L = B(α+x, β+n-x)/B(α,β) · B(γ, δ+n)/B(γ,δ)
        + Σ_{i=0}^{n-t_x-1} B(α+x, β+t_x-x+i)/B(α,β) · B(γ+1, δ+t_x+i)/B(γ,δ)

    P(alive at n+m | x, t_x, n) = B(α+x, β+n-x)/B(α,β) · B(γ, δ+n+m)/B(γ,δ) / L

    E[X(n, n+n*) | x, t_x, n] = B(α+x+1, β+n-x)/B(α,β) / L · Σ_{t=n+1}^{n+n*} B(γ, δ+t)/B(γ,δ)

(the last is FHS 2010 eq. 13 written as the finite sum it comes from, which has no singularity at
γ = 1).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy.special import betaln, digamma

from aftersales.core.clv.base import BaseModel
from aftersales.core.errors import ValidationError

__all__ = ["BetaGeoBetaBinom"]


class BetaGeoBetaBinom(BaseModel):
    """BG/BB model; parameters ``alpha, beta`` (transaction) and ``gamma, delta`` (dropout)."""

    param_names = ("alpha", "beta", "gamma", "delta")
    data_columns = ("frequency", "recency", "n_periods")

    def _validate(self, data: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        data = super()._validate(data)
        x, t_x, n = data["frequency"], data["recency"], data["n_periods"]
        for name, v in (("frequency", x), ("recency", t_x), ("n_periods", n)):
            if np.any(v < 0) or np.any(v != np.floor(v)):
                raise ValidationError(f"{name} must be a whole number >= 0")
        if np.any(x > t_x) or np.any(t_x > n) or np.any((x == 0) & (t_x != 0)) or np.any((x > 0) & (t_x == 0)):
            raise ValidationError("need frequency <= recency <= n_periods, and recency = 0 exactly when frequency = 0")
        return data

    def _terms(self, params: np.ndarray, x: np.ndarray, t_x: np.ndarray, n: np.ndarray) -> tuple[np.ndarray, ...]:
        """Log of each likelihood term (rows × (1 + max gap)) and the Beta arguments of each."""
        alpha, beta, gamma, delta = params
        gap = n - t_x
        i = np.arange(int(gap.max()) if gap.size else 0)[None, :]
        valid = np.concatenate([np.ones((x.size, 1), bool), i < gap[:, None]], axis=1)
        b_pur = np.concatenate([(beta + n - x)[:, None], (beta + t_x - x)[:, None] + i], axis=1)
        g_die = np.concatenate([np.full((x.size, 1), gamma), np.full((x.size, i.shape[1]), gamma + 1.0)], axis=1)
        d_die = np.concatenate([(delta + n)[:, None], (delta + t_x)[:, None] + i], axis=1)
        a_pur = (alpha + x)[:, None]
        log_terms = betaln(a_pur, b_pur) + betaln(g_die, d_die)
        log_terms = np.where(valid, log_terms, -np.inf)
        return log_terms, a_pur, b_pur, g_die, d_die

    def _log_likelihood(self, params: np.ndarray, data: dict[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
        alpha, beta, gamma, delta = params
        x, t_x, n = data["frequency"], data["recency"], data["n_periods"]
        log_terms, a_pur, b_pur, g_die, d_die = self._terms(params, x, t_x, n)
        top = log_terms.max(axis=1, keepdims=True)
        share = np.exp(log_terms - top)
        mass = share.sum(axis=1, keepdims=True)
        share = share / mass
        ll = top[:, 0] + np.log(mass[:, 0]) - betaln(alpha, beta) - betaln(gamma, delta)
        psi_pur = digamma(a_pur + b_pur)
        psi_die = digamma(g_die + d_die)
        g_alpha = (share * (digamma(a_pur) - psi_pur)).sum(1) - (digamma(alpha) - digamma(alpha + beta))
        g_beta = (share * (digamma(b_pur) - psi_pur)).sum(1) - (digamma(beta) - digamma(alpha + beta))
        g_gamma = (share * (digamma(g_die) - psi_die)).sum(1) - (digamma(gamma) - digamma(gamma + delta))
        g_delta = (share * (digamma(d_die) - psi_die)).sum(1) - (digamma(delta) - digamma(gamma + delta))
        return ll, np.column_stack([g_alpha, g_beta, g_gamma, g_delta])

    def _log_l(self, x: np.ndarray, t_x: np.ndarray, n: np.ndarray) -> np.ndarray:
        log_terms = self._terms(self._params(), x, t_x, n)[0]
        top = log_terms.max(axis=1)
        log_l: np.ndarray = top + np.log(np.exp(log_terms - top[:, None]).sum(axis=1))
        return log_l

    def _flat(self, *values: Any) -> list[np.ndarray]:
        return [np.asarray(v, float).reshape(-1) for v in np.broadcast_arrays(*values)]

    def probability_alive(self, frequency: Any, recency: Any, n_periods: Any, future_periods: int = 0) -> np.ndarray:
        """P(alive at opportunity n + future_periods | x, t_x, n)."""
        alpha, beta, gamma, delta = self._params()
        x, t_x, n = self._flat(frequency, recency, n_periods)
        log_alive = betaln(alpha + x, beta + n - x) + betaln(gamma, delta + n + future_periods)
        p_alive: np.ndarray = np.clip(np.exp(log_alive - self._log_l(x, t_x, n)), 0.0, 1.0)
        return p_alive

    def expected_purchases(self, future_periods: int, frequency: Any, recency: Any, n_periods: Any) -> np.ndarray:
        """E[transactions in the next ``future_periods`` opportunities | x, t_x, n]."""
        alpha, beta, gamma, delta = self._params()
        x, t_x, n = self._flat(frequency, recency, n_periods)
        ahead = np.arange(1, int(future_periods) + 1)[None, :]
        log_alive_each = betaln(gamma, delta + n[:, None] + ahead)  # alive at opportunity n + j
        log_lead = betaln(alpha + x + 1.0, beta + n - x) - self._log_l(x, t_x, n)
        expected: np.ndarray = np.exp(log_lead[:, None] + log_alive_each).sum(axis=1)
        return expected

    def expected_population_purchases(self, n_periods: Any) -> np.ndarray:
        """E[X(n)] for a new customer: Σ_{t=1}^{n} α/(α+β) · B(γ, δ+t)/B(γ,δ)."""
        alpha, beta, gamma, delta = self._params()
        n = np.asarray(n_periods, float)
        t = np.arange(1, int(n.max()) + 1 if n.size else 1)
        per = alpha / (alpha + beta) * np.exp(betaln(gamma, delta + t) - betaln(gamma, delta))
        cum = np.concatenate([[0.0], np.cumsum(per)])
        expected: np.ndarray = cum[n.astype(int)]
        return expected
