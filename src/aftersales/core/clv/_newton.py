"""Newton's method with an exact Hessian, for models that provide one (BG/NBD, MBG/NBD).

Minimises a smooth ``f(θ)`` given ``fun(θ) -> (f, ∇f, ∇²f)``. Each step solves ``H Δ = −g`` with the
Hessian's eigenvalues replaced by their absolute values (bounded away from 0), so the step is a
descent direction even where ``f`` is not convex; steps are capped at ``max_step`` per coordinate and
backtracked until the Armijo condition holds. Near the optimum the full Newton step is taken and
convergence is quadratic: from a start within a few percent, three or four evaluations reach the
optimum to ~1e-8 relative, where a quasi-Newton method needs a dozen or more.

>>> res = newton_minimize(lambda t: (float(np.sum(np.cosh(t))), np.sinh(t), np.diag(np.cosh(t))), np.ones(2))
>>> bool(np.allclose(res.theta, 0.0)) and res.evaluations < 10
True
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

__all__ = ["NewtonResult", "newton_minimize"]

Evaluate = Callable[[np.ndarray], tuple[float, np.ndarray, np.ndarray]]


@dataclass(frozen=True)
class NewtonResult:
    """The last evaluated point: value, gradient and Hessian there, and the number of evaluations."""

    theta: np.ndarray
    value: float
    gradient: np.ndarray
    hessian: np.ndarray
    evaluations: int


def _finite(value: float, grad: np.ndarray, hess: np.ndarray) -> bool:
    return bool(np.isfinite(value) and np.all(np.isfinite(grad)) and np.all(np.isfinite(hess)))


def newton_minimize(
    fun: Evaluate,
    theta0: np.ndarray,
    *,
    step_tol: float = 1e-8,
    max_evaluations: int = 100,
    max_step: float = 2.0,
) -> NewtonResult | None:
    """Minimise from ``theta0``; stop at a point whose (positive definite) Newton step is below
    ``step_tol`` in every coordinate. Returns None when that is not reached (the caller falls back to
    another method): a non-finite value at the start, no descent possible, or too many evaluations.
    """
    theta = np.asarray(theta0, dtype=float).copy()
    value, grad, hess = fun(theta)
    n_eval = 1
    if not _finite(value, grad, hess):
        return None
    while n_eval < max_evaluations:
        eigval, eigvec = np.linalg.eigh(0.5 * (hess + hess.T))
        scale = max(float(np.max(np.abs(eigval))), 1e-300)
        positive = bool(np.all(eigval > 1e-12 * scale))
        step = -eigvec @ ((eigvec.T @ grad) / np.maximum(np.abs(eigval), 1e-8 * scale))
        if positive and float(np.max(np.abs(step))) < step_tol:
            return NewtonResult(theta, value, grad, hess, n_eval)
        biggest = float(np.max(np.abs(step)))
        if biggest == 0.0:  # a flat, not positive definite point (e.g. one customer): let the caller decide
            return None
        step *= min(1.0, max_step / biggest)
        slope = float(grad @ step)
        t = 1.0
        while n_eval < max_evaluations:
            trial = fun(theta + t * step)
            n_eval += 1
            # Armijo, with a few units of roundoff: next to the optimum f changes below its last digit.
            if _finite(*trial) and trial[0] <= value + 1e-4 * t * slope + 1e-14 * abs(value):
                break
            t *= 0.5
            if t < 1e-10:
                return None
        else:
            return None
        theta = theta + t * step
        value, grad, hess = trial
    return None
