"""Maximum likelihood for every CLV model: the optimiser behind :class:`~aftersales.core.clv.base.BaseModel`.

All parameters are positive, so the fit runs in log-parameter space θ = log p and minimises the
per-customer objective

    f(θ) = −Σ wᵢ ℓᵢ(p) / Σ wᵢ + penalizer · Σ p²,   p = e^θ

(the L2 penalty of lifetimes, so penalised fits are comparable). Two paths:

* **Newton** (:func:`fit_newton`) for models that give the exact Hessian (BG/NBD, MBG/NBD): 3-4 passes
  over the rows after a warm start on a fixed 5% subsample (:mod:`._newton`);
* **L-BFGS-B** with the model's analytic gradient for the others (and for a Newton fit that fails),
  preconditioned by the inverse Hessian of a subsample fit on many distinct rows (:func:`warm_start`),
  restarted up to three times from its last point.

A fit whose gradient is not ~0, or whose parameters run to 0 or infinity, raises
:class:`~aftersales.core.errors.ConvergenceError`. The covariance is the inverse Hessian of the total
(not per-customer) objective in natural parameters: exact on the Newton path, else forward
differences of the analytic gradient (:func:`covariance`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np
from scipy.optimize import minimize

from aftersales.core.clv._newton import NewtonResult, newton_minimize
from aftersales.core.errors import ConvergenceError

__all__ = ["Fit", "Likelihood", "covariance", "fit_newton", "invert", "objective", "optimise", "warm_start"]

Columns = dict[str, np.ndarray]

_GRAD_TOL = 1e-5  # max |∂ objective / ∂ log θ| accepted as converged (objective is per customer)
# A log-parameter beyond ±18 (θ < 1.5e-8 or > 6.6e7) means the likelihood has no interior maximum
# (e.g. nobody ever returns): the gradient in log space vanishes there without a real optimum.
_LOG_BOUND = 18.0
_WARM_START_ROWS = 100_000


class Likelihood(Protocol):
    """What the optimiser needs from a model (``BaseModel`` provides it; see its docstring)."""

    penalizer: float

    @property
    def warm_start_rows(self) -> int:
        """Distinct rows from which the quasi-Newton path first fits a subsample."""
        ...

    def _total_log_likelihood(self, params: np.ndarray, data: Columns, w: np.ndarray) -> tuple[float, np.ndarray]: ...
    def _prepare(self, data: Columns) -> Columns: ...
    def _hessian_state(self, data: Columns, w: np.ndarray) -> Any: ...
    def _ll_grad_hess(self, params: np.ndarray, state: Any) -> tuple[float, np.ndarray, np.ndarray]: ...


@dataclass(frozen=True)
class Fit:
    """A converged fit: natural parameters, the objective there, its gradient norm (in log space),
    iterations (or evaluations) taken, and the covariance (NaN when the Hessian is not positive definite)."""

    params: np.ndarray
    value: float
    gradient_norm: float
    iterations: int
    covariance: np.ndarray


def _subsample(n: int, threshold: int = _WARM_START_ROWS) -> np.ndarray:
    """A fixed random 5% of ``n`` rows (at least a quarter of the warm-start threshold), sorted."""
    return np.sort(np.random.default_rng(0).choice(n, size=max(n // 20, threshold // 4), replace=False))


def objective(model: Likelihood, theta: np.ndarray, data: Columns, w: np.ndarray) -> tuple[float, np.ndarray]:
    """``f(θ)`` and its gradient in log space (``(inf, 0)`` where either is not finite)."""
    params = np.exp(theta)
    with np.errstate(all="ignore"):
        ll, grad = model._total_log_likelihood(params, data, w)
    total = w.sum()
    value = -ll / total + model.penalizer * float(params @ params)
    g_params = -grad / total + 2.0 * model.penalizer * params
    if not np.isfinite(value) or not np.all(np.isfinite(g_params)):
        return np.inf, np.zeros_like(theta)
    return value, g_params * params  # chain rule: ∂/∂logθ = θ ∂/∂θ


def optimise(model: Likelihood, data: Columns, w: np.ndarray, start: np.ndarray, maxiter: int) -> Fit:
    """Fit from natural parameters ``start`` on rows ``data`` with weights ``w`` (see the module docstring)."""
    name = type(model).__name__
    theta0 = np.log(np.clip(start, 1e-8, 1e8))
    probe = np.arange(0, w.size, max(1, w.size // 5000))  # the start is checked on a sample of rows
    sample = model._prepare({k: v[probe] for k, v in data.items() if not k.startswith("_")})
    if not np.isfinite(objective(model, theta0, sample, w[probe])[0]):
        raise ConvergenceError(f"{name}: the likelihood is not finite at the starting values")
    newton = fit_newton(model, theta0, data, w)
    if newton is not None:
        params = np.exp(newton.theta)
        # Back to natural parameters: H = diag(1/p) (∇²_θ − diag(∇_θ)) diag(1/p), times W for the
        # total (not per-customer) objective, as in covariance().
        hess = (newton.hessian - np.diag(newton.gradient)) / np.outer(params, params) * float(w.sum())
        grad_norm = float(np.max(np.abs(newton.gradient)))
        return Fit(params, newton.value, grad_norm, newton.evaluations, invert(hess))
    data = model._prepare(data)  # the quasi-Newton path's precomputation
    theta0, scale = warm_start(model, theta0, data, w)
    unscale = np.linalg.inv(scale.T)  # gradient in θ from the gradient in z

    def in_z(z: np.ndarray) -> tuple[float, np.ndarray]:
        value, grad = objective(model, theta + scale @ z, data, w)
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
    return Fit(params, value, grad_norm, nit, covariance(model, params, data, w))


def warm_start(model: Likelihood, theta0: np.ndarray, data: Columns, w: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Start point and preconditioner for the full fit.

    On many distinct rows, a fixed random 5% of them (an unbiased estimate of the likelihood) is
    fitted first; the full fit starts there, in coordinates z with θ = θ₀ + S z where S Sᵀ is the
    inverse Hessian of the subsample fit, so the full problem is nearly isotropic and L-BFGS
    needs a handful of full-data evaluations. Otherwise: θ₀ and S = I.
    """
    identity = np.eye(theta0.size)
    n = w.size
    threshold = min(_WARM_START_ROWS, model.warm_start_rows)
    if n < threshold:
        return theta0, identity
    pick = _subsample(n, threshold)
    sub, w_sub = model._prepare({k: v[pick] for k, v in data.items() if not k.startswith("_")}), w[pick]

    def on_sub(theta: np.ndarray) -> tuple[float, np.ndarray]:
        return objective(model, theta, sub, w_sub)

    res = minimize(on_sub, theta0, jac=True, method="L-BFGS-B", bounds=[(-30.0, 30.0)] * theta0.size,
                   options={"maxiter": 500})  # fmt: skip
    if not np.isfinite(res.fun) or np.any(np.abs(res.x) >= _LOG_BOUND):
        return theta0, identity
    hess = np.empty((theta0.size, theta0.size))
    for j in range(theta0.size):
        step = np.zeros(theta0.size)
        step[j] = 1e-5
        hess[:, j] = (on_sub(res.x + step)[1] - on_sub(res.x - step)[1]) / 2e-5
    try:
        chol = np.linalg.cholesky(0.5 * (hess + hess.T))
    except np.linalg.LinAlgError:
        return res.x, identity
    return res.x, np.linalg.inv(chol.T)


def fit_newton(model: Likelihood, theta0: np.ndarray, data: Columns, w: np.ndarray) -> NewtonResult | None:
    """Newton's method in log-parameter space, for models with an exact Hessian (else None).

    With p = e^θ and the objective's natural-parameter gradient g and Hessian H:
    ∇_θ = p ⊙ g and ∇²_θ = diag(p) H diag(p) + diag(p ⊙ g). On many distinct rows the same
    fixed 5% subsample as :func:`warm_start` is fitted first; the full fit then starts within a
    few percent of the optimum and takes 3-4 evaluations. None (the caller falls back to
    L-BFGS) when the model has no Hessian or Newton does not converge.
    """
    state = model._hessian_state(data, w)
    if state is None:
        return None
    n = w.size
    if n >= _WARM_START_ROWS:
        pick = _subsample(n)
        sub = {k: v[pick] for k, v in data.items() if not k.startswith("_")}
        warm = newton_minimize(_newton_objective(model, model._hessian_state(sub, w[pick]), float(w[pick].sum())),
                               theta0, step_tol=1e-3)  # fmt: skip
        if warm is not None and np.all(np.abs(warm.theta) < _LOG_BOUND):
            theta0 = warm.theta
    res = newton_minimize(_newton_objective(model, state, float(w.sum())), theta0)
    if res is None or np.any(np.abs(res.theta) >= _LOG_BOUND):
        return None
    return res


def _newton_objective(
    model: Likelihood, state: Any, total: float
) -> Callable[[np.ndarray], tuple[float, np.ndarray, np.ndarray]]:
    """``θ ↦`` (objective, gradient, Hessian) in log-parameter space."""

    def fun(theta: np.ndarray) -> tuple[float, np.ndarray, np.ndarray]:
        params = np.exp(theta)
        with np.errstate(all="ignore"):
            ll, grad, hess = model._ll_grad_hess(params, state)
        pen = model.penalizer
        value = -ll / total + pen * float(params @ params)
        g = -grad / total + 2.0 * pen * params
        h = -hess / total + 2.0 * pen * np.eye(params.size)
        return value, g * params, params[:, None] * h * params[None, :] + np.diag(g * params)

    return fun


def covariance(model: Likelihood, params: np.ndarray, data: Columns, w: np.ndarray) -> np.ndarray:
    """Inverse Hessian of the total (penalised) negative log-likelihood in natural parameters."""
    k = params.size
    total = w.sum()

    def grad(p: np.ndarray) -> np.ndarray:
        with np.errstate(all="ignore"):
            _, g = model._total_log_likelihood(p, data, w)
        g_total: np.ndarray = -g + 2.0 * model.penalizer * total * p
        return g_total

    hess = np.empty((k, k))
    at = grad(params)
    for j in range(k):  # forward differences of the analytic gradient: k + 1 passes over the data
        h = 1e-6 * params[j]
        up = params.copy()
        up[j] += h
        hess[:, j] = (grad(up) - at) / h
    return invert(hess)


def invert(hess: np.ndarray) -> np.ndarray:
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
