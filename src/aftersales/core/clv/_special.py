"""Numerical building blocks shared by the BTYD models (all vectorised, all in log space).

Three tools keep the models finite and accurate where the textbook formulas break down:

* :func:`log_sum_exp2` adds two likelihood terms held as logarithms;
* :func:`one_minus_pow_over` evaluates ``(1 - y**k) / k`` exactly, including its limit ``-log y`` at
  ``k = 0`` (the removable singularity ``s = 1`` of the Pareto/NBD expectations);
* :func:`bg_bracket` evaluates ``[1 - (1-z)**(a-1) 2F1(A, a-1; C; z)] / (a-1)``, the expression behind
  every BG/NBD and MBG/NBD expectation, including its limit at ``a = 1``;
* :class:`TanhSinh` is a fixed double-exponential quadrature rule on ``[0, 1]`` used for the Pareto/NBD
  integral, which it resolves even when the integrand is concentrated at one end (frequencies in the
  thousands).
"""

from __future__ import annotations

import numpy as np
from scipy.special import expit, hyp2f1

__all__ = ["TANH_SINH", "TanhSinh", "bg_bracket", "hyp2f1_safe", "log_sum_exp2", "one_minus_pow_over"]

# Below this distance from a = 1 the hypergeometric closed form loses digits to cancellation, so the
# exact power series (no division by a - 1) is used instead.
_SERIES_BAND = 1e-2
_SERIES_MAX_TERMS = 200_000


def log_sum_exp2(u: np.ndarray, v: np.ndarray) -> np.ndarray:
    """``log(exp(u) + exp(v))`` without overflow; ``v = -inf`` contributes nothing.

    >>> float(log_sum_exp2(np.array(0.0), np.array(0.0)))  # log 2
    0.6931471805599453
    """
    m = np.maximum(u, v)
    m = np.where(np.isfinite(m), m, 0.0)
    with np.errstate(under="ignore"):
        out: np.ndarray = m + np.log(np.exp(u - m) + np.exp(v - m))
        return out


def one_minus_pow_over(k: np.ndarray, log_y: np.ndarray) -> np.ndarray:
    """``(1 - y**k) / k`` computed as ``-expm1(k log y) / k``, equal to ``-log y`` at ``k = 0``.

    >>> float(one_minus_pow_over(np.array(0.0), np.log(np.array(0.5))))  # limit: -log(0.5)
    0.6931471805599453
    >>> round(float(one_minus_pow_over(np.array(1.0), np.log(np.array(0.5)))), 12)
    0.5
    """
    k, log_y = np.broadcast_arrays(np.asarray(k, float), np.asarray(log_y, float))
    kl = k * log_y
    small = np.abs(kl) < 1e-8
    safe_k = np.where(k == 0.0, 1.0, k)
    exact = -np.expm1(kl) / safe_k
    # Two-term Taylor series of -expm1(kl)/k = -log y (1 + kl/2 + ...), exact at k = 0.
    series = -log_y * (1.0 + 0.5 * kl)
    out: np.ndarray = np.where(small, series, exact)
    return out


def hyp2f1_series(a: np.ndarray, b: np.ndarray, c: np.ndarray, z: np.ndarray) -> np.ndarray:
    """Gauss series ``Σ (a)_n (b)_n z^n / ((c)_n n!)`` for ``0 <= z < 1``, summed until terms vanish."""
    term = np.ones(np.broadcast_shapes(np.shape(a), np.shape(b), np.shape(c), np.shape(z)))
    total = term.copy()
    active = np.ones(term.shape, bool)
    n = 0
    while active.any() and n < _SERIES_MAX_TERMS:
        term = term * (a + n) * (b + n) / ((c + n) * (n + 1.0)) * z
        total = total + np.where(active, term, 0.0)
        active = np.abs(term) > 1e-17 * np.abs(total)
        n += 1
    return total


def hyp2f1_safe(a: np.ndarray, b: np.ndarray, c: np.ndarray, z: np.ndarray) -> np.ndarray:
    """scipy's ``hyp2f1``, with the plain series where it fails (it returns NaN for large ``c`` and
    ``z`` near 1, exactly the case of customers with thousands of purchases).

    >>> float(hyp2f1_safe(np.array(1.0), np.array(1.0), np.array(1002.0), np.array(100 / 102)))
    1.0009803536738948
    """
    a, b, c, z = np.broadcast_arrays(*(np.asarray(v, float) for v in (a, b, c, z)))
    out = np.asarray(hyp2f1(a, b, c, z), dtype=float).copy()
    bad = ~np.isfinite(out)
    if bad.any():
        out[bad] = hyp2f1_series(a[bad], b[bad], c[bad], z[bad])
    return out


def _bracket_series(A: np.ndarray, a: np.ndarray, C: np.ndarray, z: np.ndarray) -> np.ndarray:
    """``[1 - (1-z)**(a-1) (1 + (a-1) S)] / (a-1)`` with ``S = sum_{n>=1} (A)_n (a)_{n-1} z^n / ((C)_n n!)``.

    ``2F1(A, a-1; C; z) = 1 + (a-1) S`` term by term, so the division by ``a - 1`` is done
    analytically and the value is exact at ``a = 1``.
    """
    log1mz = np.log1p(-z)
    first = one_minus_pow_over(a - 1.0, log1mz)
    term = A / C * z
    total = term.copy()
    n = 1
    active = np.ones(term.shape, bool)
    while active.any() and n < _SERIES_MAX_TERMS:
        term = term * (A + n) * (a + n - 1.0) / ((C + n) * (n + 1.0)) * z
        total = total + np.where(active, term, 0.0)
        active = np.abs(term) > 1e-17 * np.abs(total)
        n += 1
    out: np.ndarray = first - np.exp((a - 1.0) * log1mz) * total
    return out


def bg_bracket(A: np.ndarray, a: np.ndarray, C: np.ndarray, z: np.ndarray) -> np.ndarray:
    """``B = [1 - (1-z)**(a-1) * 2F1(A, a-1; C; z)] / (a-1)`` for ``0 <= z < 1``, finite at ``a = 1``.

    The BG/NBD conditional expectation is ``(a+b+x-1) * B * P(alive)`` with ``A = a+b-1-r``,
    ``C = a+b+x-1`` and ``z = t/(alpha+T+t)``: Euler's transformation
    ``2F1(r+x, b+x; C; z) = (1-z)**(a-1-r-x) 2F1(A, a-1; C; z)`` moves the large parameters (which
    grow with the frequency ``x``) into ``C`` alone, where they only speed up convergence.

    >>> z = np.array(0.3)
    >>> exact_limit = float(bg_bracket(np.array(1.5), np.array(1.0), np.array(2.0), z))
    >>> near = float(bg_bracket(np.array(1.5), np.array(1.0 + 1e-9), np.array(2.0), z))
    >>> abs(exact_limit - near) < 1e-8
    True
    """
    A, a, C, z = np.broadcast_arrays(*(np.asarray(v, float) for v in (A, a, C, z)))
    out = np.empty(A.shape)
    near = np.abs(a - 1.0) < _SERIES_BAND
    far = ~near
    if far.any():
        af, zf = a[far], z[far]
        value = np.exp((af - 1.0) * np.log1p(-zf)) * hyp2f1_safe(A[far], af - 1.0, C[far], zf)
        out[far] = (1.0 - value) / (af - 1.0)
    if near.any():
        out[near] = _bracket_series(A[near], a[near], C[near], z[near])
    return out


class TanhSinh:
    """Fixed tanh-sinh (double exponential) rule on ``[0, 1]``: ``∫ f(q) dq ≈ Σ w_i f(q_i)``.

    Nodes cluster doubly exponentially at both ends, so integrands with a sharp peak or an algebraic
    singularity at an end point are integrated to near machine precision with a few dozen nodes.
    ``one_minus_q`` is kept separately because ``1 - q`` cancels for nodes next to 1.

    >>> rule = TanhSinh()
    >>> round(float(np.sum(rule.weights * rule.nodes**2)), 12)  # ∫ q² dq = 1/3
    0.333333333333
    """

    def __init__(self, step: float = 1.0 / 6.0, half_width: float = 3.2) -> None:
        k = np.arange(-round(half_width / step), round(half_width / step) + 1)
        s = k * step
        u = 0.5 * np.pi * np.sinh(s)
        self.nodes: np.ndarray = expit(2.0 * u)
        self.one_minus_q: np.ndarray = expit(-2.0 * u)
        self.weights: np.ndarray = step * np.pi * np.cosh(s) * self.nodes * self.one_minus_q
        keep = (self.weights > 1e-300) & (self.nodes > 0.0) & (self.one_minus_q > 0.0)
        self.nodes, self.one_minus_q, self.weights = self.nodes[keep], self.one_minus_q[keep], self.weights[keep]


TANH_SINH = TanhSinh()
