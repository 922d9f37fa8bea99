"""Model checking: calibration/holdout comparisons, tracking curves and model comparison.

All functions take *weighted* rows (distinct tuples with customer counts), so the tables cost the
number of distinct tuples. Outputs are lists of plain dicts: ready for a table, JSON or a plot.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta
from typing import Any

import numpy as np

from aftersales.core.clv.base import BaseModel
from aftersales.core.clv.transactions import TransactionModel

__all__ = [
    "conditional_expectations_by_frequency",
    "expected_cumulative_purchases",
    "holdout_errors",
    "model_comparison",
    "tracking_curve",
    "tracking_start",
]


def _weights(weights: Any, like: np.ndarray) -> np.ndarray:
    return np.ones_like(like) if weights is None else np.asarray(weights, float).reshape(-1)


def conditional_expectations_by_frequency(
    model: TransactionModel,
    frequency: Any,
    recency: Any,
    T: Any,
    duration_holdout: Any,
    frequency_holdout: Any,
    weights: Any = None,
    *,
    max_frequency: int = 7,
) -> list[dict[str, Any]]:
    """Mean actual vs predicted holdout purchases by calibration frequency (last row: ``max_frequency+``).

    The predicted value of each customer is E[Y(duration_holdout) | x, t_x, T] (FHL 2005, Figure 4).
    """
    x = np.asarray(frequency, float).reshape(-1)
    w = _weights(weights, x)
    predicted = model.expected_purchases(duration_holdout, x, recency, T)
    actual = np.asarray(frequency_holdout, float).reshape(-1)
    bucket = np.minimum(x, max_frequency)
    rows = []
    for b in np.unique(bucket):
        sel = bucket == b
        n = w[sel].sum()
        rows.append(
            {
                "frequency": f"{int(b)}+" if b == max_frequency else str(int(b)),
                "customers": float(n),
                "actual": float(w[sel] @ actual[sel] / n),
                "predicted": float(w[sel] @ predicted[sel] / n),
            }
        )
    return rows


def holdout_errors(actual: Any, predicted: Any, weights: Any = None) -> dict[str, float]:
    """Per-customer error of predicted holdout purchases: RMSE, MAE, correlation, totals.

    >>> e = holdout_errors([0, 1, 2], [0.5, 1.0, 1.5])
    >>> round(e["rmse"], 4), round(e["correlation"], 4), e["actual_total"], e["predicted_total"]
    (0.4082, 1.0, 3.0, 3.0)
    """
    a, p = np.asarray(actual, float).reshape(-1), np.asarray(predicted, float).reshape(-1)
    w = _weights(weights, a)
    n = w.sum()
    err = p - a
    ma, mp = w @ a / n, w @ p / n
    cov = w @ ((a - ma) * (p - mp)) / n
    sd_a, sd_p = np.sqrt(w @ (a - ma) ** 2 / n), np.sqrt(w @ (p - mp) ** 2 / n)
    return {
        "customers": float(n),
        "rmse": float(np.sqrt(w @ err**2 / n)),
        "mae": float(w @ np.abs(err) / n),
        "correlation": float(cov / (sd_a * sd_p)) if sd_a > 0 and sd_p > 0 else float("nan"),
        "actual_total": float(w @ a),
        "predicted_total": float(w @ p),
        "total_error_pct": float(100 * (w @ p - w @ a) / (w @ a)) if w @ a > 0 else float("nan"),
    }


def expected_cumulative_purchases(model: TransactionModel, entry: Any, times: Any, weights: Any = None) -> np.ndarray:
    """Tracking curve: Σᵢ wᵢ E[X(τ - entryᵢ)] for each τ in ``times`` (entry = first-purchase time).

    >>> from aftersales.core.clv.beta_geo import BetaGeo
    >>> m = BetaGeo.from_params(r=0.243, alpha=4.414, a=0.793, b=2.426)
    >>> got = expected_cumulative_purchases(m, [0.0, 10.0], [5.0, 10.0])   # second enters at τ = 10
    >>> bool(np.allclose(got, m.expected_population_purchases([5.0, 10.0])))
    True
    """
    entry_ = np.asarray(entry, float).reshape(-1)
    w = _weights(weights, entry_)
    tau = np.asarray(times, float).reshape(-1)
    age = np.clip(tau[:, None] - entry_[None, :], 0.0, None)
    ages, inverse = np.unique(age, return_inverse=True)
    curve = model.expected_population_purchases(ages)[inverse.reshape(age.shape)]
    return np.asarray(curve @ w, float)


def model_comparison(models: Sequence[BaseModel]) -> list[dict[str, Any]]:
    """Fitted models side by side: parameters count, log-likelihood, AIC and BIC (lower is better)."""
    return [
        {
            "model": type(m).__name__,
            "n_params": len(m.param_names),
            "log_likelihood": m.log_likelihood_,
            "aic": m.aic_,
            "bic": m.bic_,
        }
        for m in sorted(models, key=lambda m: m.bic_)
    ]


def tracking_start(calibration_end: date, T: Any, days_per_unit: float) -> date:
    """First day of the calibration cohort's tracking curve: ``calibration_end`` minus the oldest
    customer's age ``max(T)`` (T in time units of ``days_per_unit`` days; whole days in the data).

    >>> tracking_start(date(1997, 9, 30), [38.857142857142854, 2.0], 7.0)
    datetime.date(1997, 1, 1)
    """
    oldest_days = float(np.max(np.asarray(T, float))) * days_per_unit
    return calibration_end - timedelta(days=round(oldest_days))


def tracking_curve(
    model: TransactionModel,
    T: Any,
    weights: Any,
    *,
    days_per_unit: float,
    start: date,
    calibration_end: date,
    holdout_end: date,
    week: Any,
    count: Any,
) -> list[dict[str, Any]]:
    """Weekly cumulative repeat purchases of the calibration cohort, actual and expected.

    Week k (1-based) covers days [7(k-1), 7k) after ``start``. ``week`` / ``count``: the cohort's
    repeat purchases per week index (0-based; the engine's grouped counts, later weeks clipped into
    the last). A customer of age ``T`` at the calibration end entered at day
    ``(calibration_end - start) - T·days_per_unit``, so the expected curve is
    Σᵢ wᵢ E[X(τ - entryᵢ)] at each week's end τ (:func:`expected_cumulative_purchases`). A week is
    ``calibration`` when its last day falls on or before the calibration end, else ``holdout``.
    """
    n_weeks = (holdout_end - start).days // 7 + 1
    actual = np.zeros(n_weeks)
    weeks = np.asarray(week, float).reshape(-1)
    if weeks.size:
        np.add.at(actual, weeks.astype(int).clip(0, n_weeks - 1), np.asarray(count, float).reshape(-1))
    cal_days = np.asarray(T, float).reshape(-1) * days_per_unit  # age in days at calibration end
    entry_days = (calibration_end - start).days - cal_days
    week_ends = np.arange(1, n_weeks + 1) * 7.0
    expected = expected_cumulative_purchases(model, entry_days / days_per_unit, week_ends / days_per_unit, weights)
    boundary = ((calibration_end - start).days + 1) / 7.0  # a week is calibration if its last day is
    return [
        {
            "week": i + 1,
            "period": "calibration" if i + 1 <= boundary else "holdout",
            "actual_cumulative": float(a),
            "expected_cumulative": float(e),
        }
        for i, (a, e) in enumerate(zip(np.cumsum(actual), expected, strict=True))
    ]
