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

from typing import Any, ClassVar

import numpy as np
import pandas as pd
from scipy.special import betainc, betaln, digamma, gammaln, polygamma

from aftersales.core.clv._rows import factorize
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

    # --- exact Hessian for Newton fitting -------------------------------------------------------
    def _hessian_state(self, data: dict[str, np.ndarray], w: np.ndarray) -> dict[str, Any]:
        """Everything about the rows that does not depend on the parameters, computed once per fit.

        The log-likelihood is split as ``ℓ = ℓ_sep + δ · softplus(D)`` with
        ``ℓ_sep = lnΓ(r+x) − lnΓ(r) + r ln α − lnB(a, b) + lnB(a, b') − (r+x) ln(α+T)`` and
        ``D = ln a − ln(b'−1) + (r+x) ln((α+T)/(α+t_x))`` (the log-odds of "dead", since
        B(a+1, b'−1)/B(a, b') = a/(b'−1)). ``ℓ_sep`` needs only sums of weights per distinct frequency
        and per distinct age; only ``softplus(D)`` is evaluated per row. Rows are sorted by frequency
        so that per-frequency sums are contiguous segment sums.
        """
        x = data["frequency"]
        age_index, ages = pd.factorize(np.concatenate([data["T"], data["recency"]]))  # hashed, unsorted
        ti, ri = age_index[: x.size], age_index[x.size :]
        xi, xu = factorize(x)  # whole-number frequencies are their own codes
        mix = np.flatnonzero((x + self.dropout_shift) > 0)
        small = np.uint16 if xu.size < 2**16 else np.int64  # 16-bit keys: a linear-time radix sort
        order = mix[np.argsort(xi[mix].astype(small), kind="stable")]
        xm, xs = x[order], xi[order]
        starts = np.flatnonzero(np.concatenate([[True], xs[1:] != xs[:-1]])) if xs.size else np.zeros(0, np.int64)
        seg_x = xm[starts]
        return {
            "xu": xu,
            "n_x": np.bincount(xi, weights=w, minlength=xu.size),
            "ages": ages,
            "w_age": np.bincount(ti, weights=w, minlength=ages.size),
            "wx_age": np.bincount(ti, weights=w * x, minlength=ages.size),
            "w": w[order],
            "x": xm,
            "ti": ti[order],
            "ri": ri[order],
            "seg_x": seg_x,
            "seg_starts": starts,
            "seg_counts": np.diff(np.append(starts, xm.size)),
        }

    def _ll_grad_hess(self, params: np.ndarray, st: dict[str, Any]) -> tuple[float, np.ndarray, np.ndarray]:
        """``Σ wᵢ ℓᵢ``, its gradient and its Hessian in the natural parameters (r, α, a, b).

        With s = expit(D) (the posterior probability of "dead"), q = s(1−s) and ∂D/∂θ = (L, (r+x)K,
        1/a, −v), where L = ln((α+T)/(α+t_x)), K = 1/(α+T) − 1/(α+t_x), v = 1/(b'−1):
        ∂ softplus(D) = s ∂D and ∂² softplus(D) = q ∂D ∂Dᵀ + s ∂²D.
        """
        r, alpha, a, b = params
        k = self.dropout_shift
        xu, n_x, ages = st["xu"], st["n_x"], st["ages"]
        total = float(n_x.sum())
        la, ia = np.log(alpha + ages), 1.0 / (alpha + ages)
        w_age, rw_x = st["w_age"], r * st["w_age"] + st["wx_age"]
        bp = b + xu + k
        psi_abp, tri_abp = digamma(a + bp), polygamma(1, a + bp)
        ll = (
            float(n_x @ (gammaln(r + xu) + betaln(a, bp)))
            + total * (r * np.log(alpha) - gammaln(r) - betaln(a, b))
            - float(rw_x @ la)
        )
        g = np.array(
            [
                float(n_x @ digamma(r + xu)) + total * (np.log(alpha) - digamma(r)) - float(w_age @ la),
                total * r / alpha - float(rw_x @ ia),
                total * (digamma(a + b) - digamma(a)) + float(n_x @ (digamma(a) - psi_abp)),
                total * (digamma(a + b) - digamma(b)) + float(n_x @ (digamma(bp) - psi_abp)),
            ]
        )
        h = np.zeros((4, 4))
        h[0, 0] = float(n_x @ polygamma(1, r + xu)) - total * float(polygamma(1, r))
        h[0, 1] = total / alpha - float(w_age @ ia)
        h[1, 1] = -total * r / alpha**2 + float(rw_x @ ia**2)
        tri_ab = float(polygamma(1, a + b))
        h[2, 2] = -total * (float(polygamma(1, a)) - tri_ab) + float(n_x @ (polygamma(1, a) - tri_abp))
        h[2, 3] = total * tri_ab - float(n_x @ tri_abp)
        h[3, 3] = -total * (float(polygamma(1, b)) - tri_ab) + float(n_x @ (polygamma(1, bp) - tri_abp))
        if st["w"].size:
            w, ti, ri, starts = st["w"], st["ti"], st["ri"], st["seg_starts"]
            v = 1.0 / (b + st["seg_x"] + k - 1.0)
            gt, gr = ia[ti], ia[ri]
            lt = la[ti]
            lt -= la[ri]  # L
            rx = st["x"] + r
            d = np.repeat(np.log(a) + np.log(v), st["seg_counts"])
            d += rx * lt
            e = np.abs(d)
            np.negative(e, out=e)
            np.exp(e, out=e)  # e = exp(-|D|)
            inv = 1.0 / (1.0 + e)
            sp = np.log1p(e)
            sp += np.maximum(d, 0.0)  # softplus(D)
            ll += float(w @ sp)
            ws = np.where(d >= 0.0, inv, e * inv)  # s
            q = e * inv
            q *= inv  # s(1-s) = e/(1+e)^2 on both sides of 0
            ws *= w
            q *= w
            kk = gt - gr  # K
            m = rx * kk  # ∂D/∂α
            s1 = np.add.reduceat(ws, starts)
            sum_s, sum_q = float(s1.sum()), float(q.sum())
            ql, qm = q * lt, q * m
            g += [float(ws @ lt), float(ws @ m), sum_s / a, -float(s1 @ v)]
            q_x, ql_x, qm_x = (np.add.reduceat(z, starts) for z in (q, ql, qm))
            gt += gr
            gt *= m
            h[0, 0] += float(ql @ lt)
            h[0, 1] += float(ql @ m) + float(ws @ kk)
            h[1, 1] += float(qm @ m) - float(ws @ gt)
            h[0, 2] += float(ql_x.sum()) / a
            h[0, 3] -= float(ql_x @ v)
            h[1, 2] += float(qm_x.sum()) / a
            h[1, 3] -= float(qm_x @ v)
            h[2, 2] += (sum_q - sum_s) / a**2
            h[2, 3] -= float(q_x @ v) / a
            h[3, 3] += float((q_x + s1) @ v**2)
        h = np.triu(h) + np.triu(h, 1).T
        return ll, g, h

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
        expected: np.ndarray = c * bg_bracket(a + b + k - 1.0 - r, np.full_like(z, a), c, z)
        return expected

    def _survival_if_alive(self, t: np.ndarray, x: np.ndarray, T: np.ndarray) -> np.ndarray:
        r, alpha, a, b = self._params()
        k = self.dropout_shift
        z = t / (alpha + T + t)
        survival: np.ndarray = np.exp(a * np.log1p(-z)) * hyp2f1_safe(a, a + b + k - r, a + b + x + k, z)
        return survival

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
        pmf: np.ndarray = np.where(t == 0, (n == 0).astype(float), value)
        return pmf
