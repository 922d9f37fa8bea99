"""Shared interface of the non-contractual purchase models (BG/NBD, MBG/NBD, Pareto/NBD).

Every such model reads one row per customer (or per distinct tuple, with a count):

* ``frequency`` x — repeat purchase periods (distinct purchase days minus one),
* ``recency`` t_x — age of the customer at the last purchase (0 when x = 0),
* ``T`` — age of the customer at the end of the calibration period,

all in the same time unit. Each model provides three formulas; everything else is built from them
because every prediction factors through "is the customer still alive at T":

* :meth:`probability_alive` — P(alive at T | x, t_x, T);
* ``_expected_if_alive(t, x, T)`` — E[Y(t) | alive at T, x, T], the purchases in (T, T + t];
* ``_survival_if_alive(t, x, T)`` — P(still alive at T + t | alive at T, x, T);
* ``_pmf_if_alive(n, t, x, T)`` — P(Y(t) = n | alive at T, x, T).

so ``E[Y(t) | x, t_x, T] = P(alive) · E[Y(t) | alive]``. The population quantities (the tracking curve
E[X(t)] of a new customer, P(X(t) = n)) are the same formulas at x = t_x = T = 0.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from aftersales.core.clv.base import BaseModel
from aftersales.core.errors import ValidationError

__all__ = ["TransactionModel"]

ArrayLike = Any


def _arrays(*values: ArrayLike) -> list[np.ndarray]:
    return [np.asarray(v, dtype=float) for v in np.broadcast_arrays(*values)]


class TransactionModel(BaseModel):
    """Base of the (x, t_x, T) models; subclasses implement the four formulas named above."""

    data_columns = ("frequency", "recency", "T")

    def _validate(self, data: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        data = super()._validate(data)
        x, t_x, T = data["frequency"], data["recency"], data["T"]
        if np.any(x < 0) or np.any(x != np.floor(x)):
            raise ValidationError("frequency must be a whole number >= 0")
        if np.any(T < 0):
            # T = 0 (first purchase at the very end) is allowed: such a row has likelihood 1 and so
            # contributes nothing to the fit, and its predictions are those of a new customer.
            raise ValidationError("T (customer age) must be >= 0")
        if np.any(t_x < 0) or np.any(t_x > T * (1 + 1e-12)):
            raise ValidationError("recency must lie in [0, T]")
        if np.any((x == 0) & (t_x != 0)):
            raise ValidationError("recency must be 0 for customers with frequency 0")
        return data

    def _prepare(self, data: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        # Terms that depend on the frequency alone are computed once per distinct frequency.
        out = dict(data)
        for name in ("frequency", "recency", "T"):
            unique, index = np.unique(data[name], return_inverse=True)
            out[f"_{name}_unique"], out[f"_{name}_index"] = unique, index.reshape(-1)
        return out

    # --- formulas each model provides ---------------------------------------------------------
    def _probability_alive(self, x: np.ndarray, t_x: np.ndarray, T: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def _expected_if_alive(self, t: np.ndarray, x: np.ndarray, T: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def _survival_if_alive(self, t: np.ndarray, x: np.ndarray, T: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def _pmf_if_alive(self, n: np.ndarray, t: np.ndarray, x: np.ndarray, T: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    # --- per-customer predictions -------------------------------------------------------------
    def probability_alive(
        self, frequency: ArrayLike, recency: ArrayLike, T: ArrayLike, future_t: ArrayLike = 0.0
    ) -> np.ndarray:
        """P(the customer is alive at T + future_t | x, t_x, T); ``future_t = 0`` is "now"."""
        x, t_x, T_, t = _arrays(frequency, recency, T, future_t)
        if np.any(t < 0):
            raise ValidationError("future_t must be >= 0")
        with np.errstate(under="ignore"):
            alive = self._probability_alive(x, t_x, T_)
            prob: np.ndarray = np.clip(alive * self._survival_if_alive(t, x, T_), 0.0, 1.0)
            return prob

    def expected_purchases(self, t: ArrayLike, frequency: ArrayLike, recency: ArrayLike, T: ArrayLike) -> np.ndarray:
        """E[Y(t) | x, t_x, T]: expected purchases in the next ``t`` time units."""
        t_, x, t_x, T_ = _arrays(t, frequency, recency, T)
        if np.any(t_ < 0):
            raise ValidationError("t must be >= 0")
        with np.errstate(under="ignore"):
            expected: np.ndarray = self._probability_alive(x, t_x, T_) * self._expected_if_alive(t_, x, T_)
            return expected

    def probability_of_purchases(
        self, n: ArrayLike, t: ArrayLike, frequency: ArrayLike, recency: ArrayLike, T: ArrayLike
    ) -> np.ndarray:
        """P(Y(t) = n | x, t_x, T): probability of exactly ``n`` purchases in the next ``t``."""
        n_, t_, x, t_x, T_ = _arrays(n, t, frequency, recency, T)
        if np.any(n_ < 0) or np.any(n_ != np.floor(n_)):
            raise ValidationError("n must be a whole number >= 0")
        with np.errstate(under="ignore"):
            alive = self._probability_alive(x, t_x, T_)
            pmf: np.ndarray = np.clip(
                np.where(n_ == 0, 1.0 - alive, 0.0) + alive * self._pmf_if_alive(n_, t_, x, T_), 0.0, 1.0
            )
            return pmf

    # --- population predictions ---------------------------------------------------------------
    def expected_population_purchases(self, t: ArrayLike) -> np.ndarray:
        """E[X(t)]: expected repeat purchases of a new customer in their first ``t`` time units."""
        t_ = np.asarray(t, dtype=float)
        zero = np.zeros_like(t_)
        return self.expected_purchases(t_, zero, zero, zero)

    def population_pmf(self, n: ArrayLike, t: ArrayLike) -> np.ndarray:
        """P(X(t) = n) for a new customer (the expected frequency histogram of a cohort)."""
        n_, t_ = _arrays(n, t)
        zero = np.zeros_like(t_)
        return self.probability_of_purchases(n_, t_, zero, zero, zero)

    def _initial_params(self, data: dict[str, np.ndarray], weights: np.ndarray) -> np.ndarray:
        # Purchase rate ≈ mean repeat purchases per unit of age: r/α at r = 1 gives α = T̄ / (x̄ + 1).
        mean_x = float(weights @ data["frequency"] / weights.sum())
        mean_T = float(weights @ data["T"] / weights.sum())
        start = np.ones(len(self.param_names))
        start[1] = max(mean_T / (mean_x + 1.0), 1e-3)
        return start
