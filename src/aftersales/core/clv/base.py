"""The one model template (lifelines style) behind every CLV model.

A model declares its parameter names, the data columns it reads and one method,
``_log_likelihood(params, data) -> (ll, grad)``: the log-likelihood of each row of *distinct*
sufficient statistics and its gradient with respect to the (natural) parameters. This class does
everything else:

* **weighted sufficient statistics** — rows carry counts (``weights``); without counts, identical rows
  are grouped first, so fitting costs the number of distinct tuples, not customers;
* **maximum likelihood in log-parameter space** (all parameters are positive); objective
  ``-Σ wᵢ ℓᵢ / Σ wᵢ + penalizer · Σ θ²``, where θ are the natural parameters (the L2 penalty of
  lifetimes, so penalised fits are comparable). Models that also give the exact Hessian
  (``_hessian_state`` / ``_ll_grad_hess``: BG/NBD, MBG/NBD) are fitted by Newton's method
  (:mod:`._newton`), 3-4 passes over the rows after a warm start on a 5% subsample; the others (and a
  Newton fit that fails) by scipy's L-BFGS-B with the model's analytic gradient (the optimiser lives
  in :mod:`._optimise`; this class sets the fitted attributes from its result);
* **convergence is always checked** — a fit whose gradient is not ~0 raises
  :class:`~aftersales.core.errors.ConvergenceError` instead of returning nonsense;
* **standard errors** from the inverse Hessian of the total negative log-likelihood (exact where the
  model gives it, else the forward difference of the analytic gradient), log-likelihood, AIC and BIC.

``fit()`` returns ``self``; fitted attributes end in ``_``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar, Self

import numpy as np

from aftersales.core.clv._optimise import _WARM_START_ROWS, Fit, optimise
from aftersales.core.clv._rows import as_columns, group_rows
from aftersales.core.errors import ConvergenceError, ValidationError

__all__ = ["BaseModel", "FitSummaryRow", "as_columns", "group_rows"]

FitSummaryRow = dict[str, Any]


class BaseModel:
    """Template: subclasses set ``param_names``, ``data_columns`` and implement ``_log_likelihood``."""

    param_names: ClassVar[tuple[str, ...]] = ()
    data_columns: ClassVar[tuple[str, ...]] = ()
    # Distinct rows from which the quasi-Newton path first fits a subsample (_optimise.warm_start); models
    # with an expensive likelihood lower it.
    warm_start_rows: ClassVar[int] = _WARM_START_ROWS

    def __init__(self, penalizer: float = 0.0) -> None:
        if penalizer < 0:
            raise ValidationError("penalizer must be >= 0")
        self.penalizer = float(penalizer)
        self.params_: dict[str, float] = {}

    # --- what each model provides -------------------------------------------------------------
    def _log_likelihood(self, params: np.ndarray, data: dict[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
        """Per-row log-likelihood (n,) and its gradient w.r.t. the natural parameters (n, k)."""
        raise NotImplementedError

    def _total_log_likelihood(
        self, params: np.ndarray, data: dict[str, np.ndarray], w: np.ndarray
    ) -> tuple[float, np.ndarray]:
        """``Σ wᵢ ℓᵢ`` and its gradient; models may override it with a faster weighted form."""
        ll, grad = self._log_likelihood(params, data)
        return float(w @ ll), w @ grad

    def _validate(self, data: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        """Check (and possibly filter) the data; return the rows that enter the likelihood."""
        for name, values in data.items():
            if not np.all(np.isfinite(values)):
                raise ValidationError(f"{name} has missing or infinite values")
        return data

    def _initial_params(self, data: dict[str, np.ndarray], weights: np.ndarray) -> np.ndarray:
        return np.ones(len(self.param_names))

    def _prepare(self, data: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        """Precompute whatever does not depend on the parameters (once per fit)."""
        return data

    def _hessian_state(self, data: dict[str, np.ndarray], w: np.ndarray) -> Any:
        """Models with an exact Hessian return their per-fit precomputation here; None: no Hessian."""
        return None

    def _ll_grad_hess(self, params: np.ndarray, state: Any) -> tuple[float, np.ndarray, np.ndarray]:
        """``Σ wᵢ ℓᵢ``, its gradient and Hessian in the natural parameters (with :meth:`_hessian_state`)."""
        raise NotImplementedError

    # --- fitting ------------------------------------------------------------------------------
    def fit(
        self,
        data: Any,
        *,
        weights: str | np.ndarray | None = None,
        initial_params: Mapping[str, float] | None = None,
        maxiter: int = 2000,
    ) -> Self:
        """Fit by maximum likelihood on ``data`` (DataFrame, Arrow table or mapping of columns).

        ``weights`` names a column (or gives an array) of counts: each row then stands for that many
        customers with identical sufficient statistics. Without it, identical rows are grouped here.
        """
        cols = as_columns(data, self.data_columns)
        if weights is None:
            cols, w = group_rows(cols)  # the checks below are per row, so they run on distinct rows
        else:
            w_values = as_columns(data, (weights,))[weights] if isinstance(weights, str) else weights
            w = np.asarray(w_values, dtype=float).reshape(-1)
            if w.shape[0] != next(iter(cols.values())).shape[0]:
                raise ValidationError("weights and data differ in length")
            if np.any(~np.isfinite(w)) or np.any(w < 0):
                raise ValidationError("weights must be finite and >= 0")
        cols["__w"] = w
        cols = self._validate(cols)
        w = cols.pop("__w")
        keep = w > 0
        cols, w = {k: v[keep] for k, v in cols.items()}, w[keep]
        if w.sum() == 0:
            raise ValidationError(f"{type(self).__name__}: no customers to fit")
        start = (
            np.array([float(initial_params[n]) for n in self.param_names])
            if initial_params
            else self._initial_params(cols, w)
        )
        self._set_fit(optimise(self, cols, w, start, maxiter), w)
        self._data, self._weights = cols, w
        return self

    def _set_fit(self, fit: Fit, w: np.ndarray) -> None:
        name = type(self).__name__
        total = w.sum()
        params = fit.params
        self.params_ = dict(zip(self.param_names, params.tolist(), strict=True))
        # The objective is -LL/W + penalty: the log-likelihood comes back without another pass.
        self.log_likelihood_ = -(fit.value - self.penalizer * float(params @ params)) * float(total)
        self.n_customers_ = float(total)
        self.n_rows_ = int(w.size)
        self.converged_ = True
        self.iterations_ = int(fit.iterations)
        self.gradient_norm_ = fit.gradient_norm
        self.covariance_ = fit.covariance
        if not np.all(np.isfinite(self.covariance_)):
            raise ConvergenceError(
                f"{name}: the likelihood has no unique maximum (Hessian not positive definite at "
                f"{', '.join(f'{k}={v:.3g}' for k, v in self.params_.items())}); the data cannot identify the model"
            )
        self.standard_errors_ = dict(
            zip(self.param_names, np.sqrt(np.clip(np.diag(self.covariance_), 0, None)).tolist(), strict=True)
        )

    # --- fitted results -----------------------------------------------------------------------
    @classmethod
    def from_params(cls, **params: float) -> Self:
        """A model with given parameters (e.g. published ones), ready to predict."""
        missing = set(cls.param_names) - set(params)
        if missing or set(params) - set(cls.param_names):
            raise ValidationError(f"{cls.__name__} takes parameters {', '.join(cls.param_names)}")
        model = cls()
        model.params_ = {n: float(params[n]) for n in cls.param_names}
        return model

    def _params(self) -> np.ndarray:
        if not self.params_:
            raise ValidationError(f"{type(self).__name__} is not fitted: call fit() or from_params()")
        return np.array([self.params_[n] for n in self.param_names])

    def log_likelihood(self, data: Any, *, weights: str | np.ndarray | None = None) -> float:
        """Total log-likelihood of ``data`` at the fitted parameters (e.g. on a holdout)."""
        cols = self._validate(as_columns(data, self.data_columns))
        w = np.ones(next(iter(cols.values())).shape[0]) if weights is None else np.asarray(weights, float)
        if isinstance(weights, str):
            w = as_columns(data, (weights,))[weights]
        with np.errstate(all="ignore"):
            ll, _ = self._log_likelihood(self._params(), self._prepare(cols))
        return float(w @ ll)

    @property
    def aic_(self) -> float:
        return 2 * len(self.param_names) - 2 * self.log_likelihood_

    @property
    def bic_(self) -> float:
        return len(self.param_names) * float(np.log(self.n_customers_)) - 2 * self.log_likelihood_

    def summary(self) -> list[FitSummaryRow]:
        """One row per parameter: estimate, standard error and a 95% Wald interval on the log scale."""
        rows = []
        for name in self.param_names:
            value, se = self.params_[name], self.standard_errors_.get(name, float("nan"))
            spread = 1.959963984540054 * se / value  # delta method: se(log θ) = se(θ)/θ
            rows.append(
                {
                    "param": name,
                    "estimate": value,
                    "std_error": se,
                    "lower_95": value * float(np.exp(-spread)),
                    "upper_95": value * float(np.exp(spread)),
                }
            )
        return rows

    def fit_report(self) -> dict[str, Any]:
        """The fit as plain data: model, params, standard errors, log-likelihood, AIC/BIC, convergence."""
        return {
            "model": type(self).__name__,
            "params": dict(self.params_),
            "standard_errors": dict(self.standard_errors_),
            "log_likelihood": self.log_likelihood_,
            "aic": self.aic_,
            "bic": self.bic_,
            "n_customers": round(self.n_customers_),
            "n_distinct_rows": self.n_rows_,
            "converged": self.converged_,
            "iterations": self.iterations_,
        }

    def __repr__(self) -> str:
        inner = ", ".join(f"{k}={v:.4g}" for k, v in self.params_.items())
        return f"{type(self).__name__}({inner})"
