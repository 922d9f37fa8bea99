"""Gamma-Gamma spend model (Fader, Hardie & Lee 2005, "RFM and CLV"; Fader & Hardie 2013 note).

Each transaction value of a customer is Gamma(p, ν) with ν ~ Gamma(q, γ) across customers, independent
of the purchase process. For a customer with x ≥ 1 repeat transactions of mean value m:

    L(p, q, γ | x, m) = Γ(px+q) / (Γ(px) Γ(q)) · γ^q m^(px-1) x^(px) / (γ + m x)^(px+q)

    E[M | x, m] = (q-1)/(px+q-1) · γp/(q-1) + px/(px+q-1) · m = p(γ + m x)/(px + q - 1)

a weighted average of the population mean γp/(q-1) and the customer's own mean (needs q > 1).
Customers with x = 0 carry no spend information and get the population mean; rows with m ≤ 0 cannot
come from a Gamma distribution and are left out of the fit (see docs/clv.md).

>>> gg = GammaGamma.from_params(p=6.25, q=3.74, gamma=15.44)     # CDNOW (FHL 2005)
>>> round(float(gg.expected_spend(2, 22.35)), 2)                 # Hardie's spreadsheet: 24.65
24.66
"""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy.special import digamma, gammaln

from aftersales.core.clv.base import BaseModel
from aftersales.core.errors import ValidationError

__all__ = ["GammaGamma"]


class GammaGamma(BaseModel):
    """Gamma-Gamma model of mean transaction value; parameters ``p, q, gamma``."""

    param_names = ("p", "q", "gamma")
    data_columns = ("frequency", "monetary_value")

    def _validate(self, data: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        data = super()._validate(data)
        keep = (data["frequency"] > 0) & (data["monetary_value"] > 0)
        return {k: v[keep] for k, v in data.items()}

    def _initial_params(self, data: dict[str, np.ndarray], weights: np.ndarray) -> np.ndarray:
        mean_m = float(weights @ data["monetary_value"] / weights.sum())
        return np.array([1.0, 2.0, max(mean_m, 1e-3)])

    def _log_likelihood(self, params: np.ndarray, data: dict[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
        p, q, gamma = params
        x, m = data["frequency"], data["monetary_value"]
        px = p * x
        log_gm = np.log(gamma + m * x)
        ll = (
            gammaln(px + q)
            - gammaln(px)
            - gammaln(q)
            + q * np.log(gamma)
            + (px - 1.0) * np.log(m)
            + px * np.log(x)
            - (px + q) * log_gm
        )
        psi = digamma(px + q)
        g_p = x * (psi - digamma(px) + np.log(m) + np.log(x) - log_gm)
        g_q = psi - digamma(q) + np.log(gamma) - log_gm
        g_gamma = q / gamma - (px + q) / (gamma + m * x)
        return ll, np.column_stack(np.broadcast_arrays(g_p, g_q, g_gamma))

    def population_mean_spend(self) -> float:
        """E[M] = γp/(q-1), the mean transaction value across customers (infinite when q ≤ 1)."""
        p, q, gamma = self._params()
        if q <= 1:
            raise ValidationError(f"Gamma-Gamma q = {q:.3g} ≤ 1: the mean spend is infinite")
        return float(gamma * p / (q - 1.0))

    def expected_spend(self, frequency: Any, monetary_value: Any) -> np.ndarray:
        """E[M | x, m]; customers with x = 0 (or m ≤ 0) get the population mean."""
        p, q, gamma = self._params()
        population = self.population_mean_spend()
        x, m = (np.asarray(v, dtype=float) for v in np.broadcast_arrays(frequency, monetary_value))
        usable = (x > 0) & (m > 0)
        xs, ms = np.where(usable, x, 1.0), np.where(usable, m, 1.0)
        return np.where(usable, p * (gamma + ms * xs) / (p * xs + q - 1.0), population)

    def spend_shrinkage(self, frequency: Any) -> np.ndarray:
        """Weight ``px/(px+q-1)`` that the customer's own mean gets in :meth:`expected_spend`."""
        p, q, _ = self._params()
        x = np.asarray(frequency, dtype=float)
        weight: np.ndarray = p * x / (p * x + q - 1.0)
        return weight
