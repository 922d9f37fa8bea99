"""Formulas shared by BG/NBD and MBG/NBD: they differ only in a shift ``k`` of the dropout process.

While alive a customer buys at Poisson rate λ ~ Gamma(r, α); after each purchase they drop out with
probability p ~ Beta(a, b). BG/NBD (Fader, Hardie & Lee 2005) allows dropout only after repeat purchases
(k = 0); MBG/NBD (Batislam, Denizel & Filiztekin 2007) also right after the first purchase (k = 1).
With ``b' = b + x + k`` and ``δ = 1`` when ``x + k > 0``:

    L(x, t_x, T) = Γ(r+x) α^r / Γ(r) · [ B(a, b')/B(a, b) / (α+T)^(r+x)
                                         + δ · B(a+1, b'-1)/B(a, b) / (α+t_x)^(r+x) ]

    P(alive | x, t_x, T) = 1 / (1 + δ · a/(b'-1) · ((α+T)/(α+t_x))^(r+x))

Given alive at T, λ ~ Gamma(r+x, α+T) and p ~ Beta(a, b') independently (the posterior), so with
``z = t/(α+T+t)``:

    E[Y(t) | alive] = (a+b'-1) · [1 - (1-z)^(a-1) 2F1(a+b+k-1-r, a-1; a+b'-1; z)] / (a-1)
    P(alive at T+t | alive at T) = E[e^(-λpt)] = (1-z)^a 2F1(a, a+b+k-r; a+b'; z)

(the first is Fader-Hardie-Lee's eq. 10 after Euler's transformation; it is evaluated exactly at a = 1
by :func:`~aftersales.core.clv._special.bg_bracket`).
"""

from __future__ import annotations

from typing import ClassVar

import numpy as np
from scipy.special import betainc, betaln, digamma, gammaln

from aftersales.core.clv._special import bg_bracket, hyp2f1_safe
from aftersales.core.clv.transactions import TransactionModel

__all__ = ["BetaGeoFamily"]


class BetaGeoFamily(TransactionModel):
    """BG/NBD-type model; ``dropout_shift`` is 0 (BG/NBD) or 1 (MBG/NBD)."""

    param_names = ("r", "alpha", "a", "b")
    dropout_shift: ClassVar[int] = 0

    def _log_likelihood(self, params: np.ndarray, data: dict[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
        r, alpha, a, b = params
        x, t_x, T = data["frequency"], data["recency"], data["T"]
        xu, xi = np.unique(x, return_inverse=True)
        f = {k: v[xi.reshape(-1)] for k, v in self._frequency_terms(params, xu).items()}
        log_aT, log_atx = np.log(alpha + T), np.log(alpha + t_x)
        u1 = f["beta1"] - (r + x) * log_aT
        u2 = f["beta2"] - (r + x) * log_atx
        m = np.maximum(u1, u2)
        e1, e2 = np.exp(u1 - m), np.exp(u2 - m)
        w1 = e1 / (e1 + e2)
        w2 = 1.0 - w1
        ll = f["const"] + r * np.log(alpha) - betaln(a, b) + m + np.log(e1 + e2)
        psi_ab = digamma(a + b)
        g_r = f["psi_r"] + np.log(alpha) - w1 * log_aT - w2 * log_atx
        g_alpha = r / alpha - (r + x) * (w1 / (alpha + T) + w2 / (alpha + t_x))
        g_a = -(digamma(a) - psi_ab) + w1 * f["a1"] + w2 * f["a2"]
        g_b = -(digamma(b) - psi_ab) + w1 * f["b1"] + w2 * f["b2"]
        return ll, np.column_stack([g_r, g_alpha, g_a, g_b])

    def _frequency_terms(self, params: np.ndarray, xu: np.ndarray) -> dict[str, np.ndarray]:
        """Terms that depend on the frequency alone, on the distinct frequencies (a few hundred)."""
        r, _, a, b = params
        bp = b + xu + self.dropout_shift
        has2 = (xu + self.dropout_shift) > 0
        bp1 = np.where(has2, bp - 1.0, 1.0)  # keeps betaln defined where the second term is absent
        psi_abx = digamma(a + bp)
        return {
            "beta1": betaln(a, bp),
            "beta2": np.where(has2, betaln(a + 1.0, bp1), -np.inf),
            "const": gammaln(r + xu) - gammaln(r),
            "psi_r": digamma(r + xu) - digamma(r),
            "a1": digamma(a) - psi_abx,
            "a2": digamma(a + 1.0) - psi_abx,
            "b1": digamma(bp) - psi_abx,
            "b2": digamma(bp1) - psi_abx,
        }

    def _total_log_likelihood(
        self, params: np.ndarray, data: dict[str, np.ndarray], w: np.ndarray
    ) -> tuple[float, np.ndarray]:
        """Weighted form of :meth:`_log_likelihood` for fitting: logs of α+T and α+t_x are taken on the
        distinct ages only, and the frequency-only terms enter through per-frequency weight sums."""
        if "_frequency_index" not in data:
            return super()._total_log_likelihood(params, data, w)
        r, alpha, a, b = params
        x, xi, ti, ri = data["frequency"], data["_frequency_index"], data["_T_index"], data["_recency_index"]
        f = self._frequency_terms(params, data["_frequency_unique"])
        log_aT = np.log(alpha + data["_T_unique"])[ti]
        log_atx = np.log(alpha + data["_recency_unique"])[ri]
        rx = r + x
        u1 = f["beta1"][xi] - rx * log_aT
        u2 = f["beta2"][xi] - rx * log_atx
        mix = np.logaddexp(u1, u2)
        w1 = np.exp(u1 - mix)
        w2 = 1.0 - w1
        n_x = np.bincount(xi, weights=w, minlength=f["const"].size)
        s1 = np.bincount(xi, weights=w * w1, minlength=n_x.size)
        s2 = n_x - s1
        total_w = float(n_x.sum())
        psi_ab = digamma(a + b)
        ll = float(f["const"] @ n_x + w @ mix) + total_w * (r * np.log(alpha) - betaln(a, b))
        ww1, ww2 = w * w1, w * w2
        g_r = float(f["psi_r"] @ n_x) + total_w * np.log(alpha) - float(ww1 @ log_aT + ww2 @ log_atx)
        inv_aT = (1.0 / (alpha + data["_T_unique"]))[ti]
        inv_atx = (1.0 / (alpha + data["_recency_unique"]))[ri]
        g_alpha = total_w * r / alpha - float((ww1 * rx) @ inv_aT + (ww2 * rx) @ inv_atx)
        g_a = -(digamma(a) - psi_ab) * total_w + float(f["a1"] @ s1 + f["a2"] @ s2)
        g_b = -(digamma(b) - psi_ab) * total_w + float(f["b1"] @ s1 + f["b2"] @ s2)
        return ll, np.array([g_r, g_alpha, g_a, g_b])

    def _probability_alive(self, x: np.ndarray, t_x: np.ndarray, T: np.ndarray) -> np.ndarray:
        r, alpha, a, b = self._params()
        bp1 = b + x + self.dropout_shift - 1.0
        has_second = (x + self.dropout_shift) > 0
        log_ratio = (
            np.log(a) - np.log(np.where(has_second, bp1, 1.0)) + (r + x) * (np.log(alpha + T) - np.log(alpha + t_x))
        )
        return np.where(has_second, 1.0 / (1.0 + np.exp(np.minimum(log_ratio, 700.0))), 1.0)

    def _expected_if_alive(self, t: np.ndarray, x: np.ndarray, T: np.ndarray) -> np.ndarray:
        r, alpha, a, b = self._params()
        k = self.dropout_shift
        z = t / (alpha + T + t)
        c = a + b + x + k - 1.0
        return c * bg_bracket(a + b + k - 1.0 - r, np.full_like(z, a), c, z)

    def _survival_if_alive(self, t: np.ndarray, x: np.ndarray, T: np.ndarray) -> np.ndarray:
        r, alpha, a, b = self._params()
        k = self.dropout_shift
        z = t / (alpha + T + t)
        return np.exp(a * np.log1p(-z)) * hyp2f1_safe(a, a + b + k - r, a + b + x + k, z)

    def _pmf_if_alive(self, n: np.ndarray, t: np.ndarray, x: np.ndarray, T: np.ndarray) -> np.ndarray:
        """Alive at T: Y = n ≥ 1 needs survival of the first n-1 purchases and either exactly n Poisson
        events or a dropout at the n-th; Y = 0 needs no event. With λ ~ Gamma(r+x, α+T),
        p ~ Beta(a, b'): P(n) = B(a, b'+n-1)/B(a, b') NBD(n) + B(a+1, b'+n-1)/B(a, b') P(N > n).
        """
        r, alpha, a, b = self._params()
        bp = b + x + self.dropout_shift
        rr, aa = r + x, alpha + T
        log_p0 = np.log(aa) - np.log(aa + t)  # NBD "success" probability α'/(α'+t)
        log_q0 = np.log(t) - np.log(aa + t)
        with np.errstate(divide="ignore", invalid="ignore"):
            log_nbd = gammaln(rr + n) - gammaln(rr) - gammaln(n + 1.0) + rr * log_p0 + np.where(n > 0, n * log_q0, 0.0)
            nbd = np.exp(log_nbd)
            tail = betainc(n + 1.0, rr, np.exp(log_q0))  # P(N > n) for N ~ NBD(rr, p0)
            keep = np.exp(betaln(a, bp + n - 1.0) - betaln(a, bp))
            drop = np.exp(betaln(a + 1.0, bp + n - 1.0) - betaln(a, bp))
        value = np.where(n == 0, np.exp(rr * log_p0), keep * nbd + drop * tail)
        return np.where(t == 0, (n == 0).astype(float), value)
