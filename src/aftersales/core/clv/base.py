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
  Newton fit that fails) by scipy's L-BFGS-B with the model's analytic gradient;
* **convergence is always checked** — a fit whose gradient is not ~0 raises
  :class:`~aftersales.core.errors.ConvergenceError` instead of returning nonsense;
* **standard errors** from the inverse Hessian of the total negative log-likelihood (exact where the
  model gives it, else the forward difference of the analytic gradient), log-likelihood, AIC and BIC.

``fit()`` returns ``self``; fitted attributes end in ``_``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, ClassVar, Self

import numpy as np
from scipy.optimize import minimize

from aftersales.core.clv._newton import NewtonResult, newton_minimize
from aftersales.core.clv._rows import as_columns, group_rows
from aftersales.core.errors import ConvergenceError, ValidationError

__all__ = ["BaseModel", "FitSummaryRow", "as_columns", "group_rows"]

FitSummaryRow = dict[str, Any]

_GRAD_TOL = 1e-5  # max |∂ objective / ∂ log θ| accepted as converged (objective is per customer)
# A log-parameter beyond ±18 (θ < 1.5e-8 or > 6.6e7) means the likelihood has no interior maximum
# (e.g. nobody ever returns): the gradient in log space vanishes there without a real optimum.
_LOG_BOUND = 18.0
_WARM_START_ROWS = 100_000


def _subsample(n: int, threshold: int = _WARM_START_ROWS) -> np.ndarray:
    """A fixed random 5% of ``n`` rows (at least a quarter of the warm-start threshold), sorted."""
    return np.sort(np.random.default_rng(0).choice(n, size=max(n // 20, threshold // 4), replace=False))


class BaseModel:
    """Template: subclasses set ``param_names``, ``data_columns`` and implement ``_log_likelihood``."""

    param_names: ClassVar[tuple[str, ...]] = ()
    data_columns: ClassVar[tuple[str, ...]] = ()
    # Distinct rows from which the quasi-Newton path first fits a subsample (see _warm_start); models
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
        self._optimise(cols, w, start, maxiter)
        self._data, self._weights = cols, w
        return self

    def _objective(self, theta: np.ndarray, data: dict[str, np.ndarray], w: np.ndarray) -> tuple[float, np.ndarray]:
        params = np.exp(theta)
        with np.errstate(all="ignore"):
            ll, grad = self._total_log_likelihood(params, data, w)
        total = w.sum()
        value = -ll / total + self.penalizer * float(params @ params)
        g_params = -grad / total + 2.0 * self.penalizer * params
        if not np.isfinite(value) or not np.all(np.isfinite(g_params)):
            return np.inf, np.zeros_like(theta)
        return value, g_params * params  # chain rule: ∂/∂logθ = θ ∂/∂θ

    def _optimise(self, data: dict[str, np.ndarray], w: np.ndarray, start: np.ndarray, maxiter: int) -> None:
        name = type(self).__name__
        theta0 = np.log(np.clip(start, 1e-8, 1e8))
        probe = np.arange(0, w.size, max(1, w.size // 5000))  # the start is checked on a sample of rows
        sample = self._prepare({k: v[probe] for k, v in data.items() if not k.startswith("_")})
        if not np.isfinite(self._objective(theta0, sample, w[probe])[0]):
            raise ConvergenceError(f"{name}: the likelihood is not finite at the starting values")
        newton = self._fit_newton(theta0, data, w)
        if newton is not None:
            params = np.exp(newton.theta)
            # Back to natural parameters: H = diag(1/p) (∇²_θ − diag(∇_θ)) diag(1/p), times W for the
            # total (not per-customer) objective, as in _covariance.
            hess = (newton.hessian - np.diag(newton.gradient)) / np.outer(params, params) * float(w.sum())
            grad_norm = float(np.max(np.abs(newton.gradient)))
            self._set_fit(params, newton.value, grad_norm, newton.evaluations, w, self._invert(hess))
            return
        data = self._prepare(data)  # the quasi-Newton path's precomputation
        theta0, scale = self._warm_start(theta0, data, w)
        unscale = np.linalg.inv(scale.T)  # gradient in θ from the gradient in z

        def in_z(z: np.ndarray) -> tuple[float, np.ndarray]:
            value, grad = self._objective(theta + scale @ z, data, w)
            return value, scale.T @ grad

        theta, nit = theta0, 0
        for _ in range(3):  # restart from the last point: L-BFGS-B sometimes stops on a flat line search
            res = minimize(
                in_z,
                np.zeros_like(theta),
                jac=True,
                method="L-BFGS-B",
                options={"maxiter": maxiter, "ftol": 1e-15, "gtol": 1e-10, "maxcor": 20},
            )
            theta, nit = theta + scale @ res.x, nit + res.nit
            value, grad = float(res.fun), unscale @ res.jac
            if np.max(np.abs(grad)) < _GRAD_TOL or not np.isfinite(value):
                break
        grad_norm = float(np.max(np.abs(grad)))
        at_bound = bool(np.any(np.abs(theta) >= _LOG_BOUND))
        if not np.isfinite(value) or grad_norm >= _GRAD_TOL or at_bound:
            why = "a parameter ran to 0 or infinity" if at_bound else f"gradient {grad_norm:.2e} after {nit} steps"
            raise ConvergenceError(f"{name}: the fit did not converge ({why}; {res.message})")
        params = np.exp(theta)
        self._set_fit(params, value, grad_norm, nit, w, self._covariance(params, data, w))

    def _set_fit(
        self, params: np.ndarray, value: float, grad_norm: float, nit: int, w: np.ndarray, cov: np.ndarray
    ) -> None:
        name = type(self).__name__
        total = w.sum()
        self.params_ = dict(zip(self.param_names, params.tolist(), strict=True))
        # The objective is -LL/W + penalty: the log-likelihood comes back without another pass.
        self.log_likelihood_ = -(value - self.penalizer * float(params @ params)) * float(total)
        self.n_customers_ = float(total)
        self.n_rows_ = int(w.size)
        self.converged_ = True
        self.iterations_ = int(nit)
        self.gradient_norm_ = grad_norm
        self.covariance_ = cov
        if not np.all(np.isfinite(self.covariance_)):
            raise ConvergenceError(
                f"{name}: the likelihood has no unique maximum (Hessian not positive definite at "
                f"{', '.join(f'{k}={v:.3g}' for k, v in self.params_.items())}); the data cannot identify the model"
            )
        self.standard_errors_ = dict(
            zip(self.param_names, np.sqrt(np.clip(np.diag(self.covariance_), 0, None)).tolist(), strict=True)
        )

    def _warm_start(
        self, theta0: np.ndarray, data: dict[str, np.ndarray], w: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """Start point and preconditioner for the full fit.

        On many distinct rows, a fixed random 5% of them (an unbiased estimate of the likelihood) is
        fitted first; the full fit starts there, in coordinates z with θ = θ₀ + S z where S Sᵀ is the
        inverse Hessian of the subsample fit, so the full problem is nearly isotropic and L-BFGS
        needs a handful of full-data evaluations. Otherwise: θ₀ and S = I.
        """
        identity = np.eye(theta0.size)
        n = w.size
        threshold = min(_WARM_START_ROWS, self.warm_start_rows)
        if n < threshold:
            return theta0, identity
        pick = _subsample(n, threshold)
        sub, w_sub = self._prepare({k: v[pick] for k, v in data.items() if not k.startswith("_")}), w[pick]
        res = minimize(self._objective, theta0, args=(sub, w_sub), jac=True, method="L-BFGS-B",
                       bounds=[(-30.0, 30.0)] * theta0.size, options={"maxiter": 500})  # fmt: skip
        if not np.isfinite(res.fun) or np.any(np.abs(res.x) >= _LOG_BOUND):
            return theta0, identity
        hess = np.empty((theta0.size, theta0.size))
        for j in range(theta0.size):
            step = np.zeros(theta0.size)
            step[j] = 1e-5
            up, down = self._objective(res.x + step, sub, w_sub)[1], self._objective(res.x - step, sub, w_sub)[1]
            hess[:, j] = (up - down) / 2e-5
        try:
            chol = np.linalg.cholesky(0.5 * (hess + hess.T))
        except np.linalg.LinAlgError:
            return res.x, identity
        return res.x, np.linalg.inv(chol.T)

    def _fit_newton(self, theta0: np.ndarray, data: dict[str, np.ndarray], w: np.ndarray) -> NewtonResult | None:
        """Newton's method in log-parameter space, for models with an exact Hessian (else None).

        With p = e^θ and the objective's natural-parameter gradient g and Hessian H:
        ∇_θ = p ⊙ g and ∇²_θ = diag(p) H diag(p) + diag(p ⊙ g). On many distinct rows the same
        fixed 5% subsample as :meth:`_warm_start` is fitted first; the full fit then starts within a
        few percent of the optimum and takes 3-4 evaluations. None (the caller falls back to
        L-BFGS) when the model has no Hessian or Newton does not converge.
        """
        state = self._hessian_state(data, w)
        if state is None:
            return None
        n = w.size
        if n >= _WARM_START_ROWS:
            pick = _subsample(n)
            sub = {k: v[pick] for k, v in data.items() if not k.startswith("_")}
            warm = newton_minimize(self._newton_objective(self._hessian_state(sub, w[pick]), float(w[pick].sum())),
                                   theta0, step_tol=1e-3)  # fmt: skip
            if warm is not None and np.all(np.abs(warm.theta) < _LOG_BOUND):
                theta0 = warm.theta
        res = newton_minimize(self._newton_objective(state, float(w.sum())), theta0)
        if res is None or np.any(np.abs(res.theta) >= _LOG_BOUND):
            return None
        return res

    def _newton_objective(self, state: Any, total: float) -> Callable[[np.ndarray], tuple]:
        """``θ ↦`` (objective, gradient, Hessian) in log-parameter space."""

        def fun(theta: np.ndarray) -> tuple[float, np.ndarray, np.ndarray]:
            params = np.exp(theta)
            with np.errstate(all="ignore"):
                ll, grad, hess = self._ll_grad_hess(params, state)
            pen = self.penalizer
            value = -ll / total + pen * float(params @ params)
            g = -grad / total + 2.0 * pen * params
            h = -hess / total + 2.0 * pen * np.eye(params.size)
            return value, g * params, params[:, None] * h * params[None, :] + np.diag(g * params)

        return fun

    def _covariance(self, params: np.ndarray, data: dict[str, np.ndarray], w: np.ndarray) -> np.ndarray:
        """Inverse Hessian of the total (penalised) negative log-likelihood in natural parameters."""
        k = params.size
        total = w.sum()

        def grad(p: np.ndarray) -> np.ndarray:
            with np.errstate(all="ignore"):
                _, g = self._total_log_likelihood(p, data, w)
            return -g + 2.0 * self.penalizer * total * p

        hess = np.empty((k, k))
        at = grad(params)
        for j in range(k):  # forward differences of the analytic gradient: k + 1 passes over the data
            h = 1e-6 * params[j]
            up = params.copy()
            up[j] += h
            hess[:, j] = (grad(up) - at) / h
        return self._invert(hess)

    @staticmethod
    def _invert(hess: np.ndarray) -> np.ndarray:
        """Covariance = inverse of the (symmetrised) Hessian; NaN when it is not positive definite."""
        k = hess.shape[0]
        hess = 0.5 * (hess + hess.T)
        try:
            cov = np.linalg.inv(hess)
        except np.linalg.LinAlgError:
            return np.full((k, k), np.nan)
        if np.any(np.linalg.eigvalsh(hess) <= 0) or np.any(np.diag(cov) <= 0):
            return np.full((k, k), np.nan)
        return cov

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
