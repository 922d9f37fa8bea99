"""The propensity model (calibrated gradient boosting) and its holdout metrics.

**Model.** scikit-learn's ``HistGradientBoostingClassifier`` (binary log loss; missing values
routed natively, so "no NPS answer" needs no imputation), fixed hyper-parameters chosen for a
few thousand to a few million rows (100 trees of at most 15 leaves, learning rate 0.1, at least
40 customers per leaf, L2 1.0, no early stopping so a fit is deterministic), wrapped in
``CalibratedClassifierCV`` with three stratified folds: boosted trees rank well but their raw
probabilities drift (over-confident at the extremes once trees fit noise), and a lookalike score is
read as a probability ("3 in 10 of these customers reach the top tier"). The folds' out-of-fold
scores fit the calibrator, which then maps the scores of one model fitted on all the training rows
(``ensemble=False``): scoring a million customers runs one model instead of three (three models
took 28 s of the 87 s that the lookalike scores cost at 1M customers on 2 shared cores). **Isotonic** calibration
(monotone, no shape assumed) when there are at least ``ISOTONIC_MIN_ROWS`` rows and
``ISOTONIC_MIN_POSITIVES`` positives; below that, Platt's **sigmoid** (two parameters), because
isotonic regression overfits small calibration folds.

**Metrics** on the holdout:

* AUC: the probability that a random positive scores above a random negative (ties count ½);
* lift in the top decile: the positive rate among the 10 % best-scored customers (``ceil(n/10)``,
  ties broken by row order) divided by the overall positive rate;
* Brier score: mean (p − y)²;
* calibration table: customers sorted by score and cut into ten equal-count bins (decile 1 = lowest
  scores), with the mean predicted probability and the observed rate in each.

>>> m = holdout_metrics(np.array([0, 0, 1, 1]), np.array([0.1, 0.4, 0.35, 0.8]), bins=2)
>>> m.auc, m.top_decile_lift, [(r.bin, r.n, round(r.mean_predicted, 3), r.observed_rate) for r in m.calibration]
(0.75, 2.0, [(1, 2, 0.225, 0.5), (2, 2, 0.6, 0.5)])
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from aftersales.core.lookalike.options import ISOTONIC_MIN_POSITIVES, ISOTONIC_MIN_ROWS

__all__ = ["CalibrationRow", "HoldoutMetrics", "calibration_method", "fit_model", "holdout_metrics"]

FOLDS = 3
HGB_PARAMS: dict[str, Any] = {
    "max_iter": 100,
    "learning_rate": 0.1,
    "max_leaf_nodes": 15,
    "min_samples_leaf": 40,
    "l2_regularization": 1.0,
    "early_stopping": False,
    "random_state": 0,
}


@dataclass(frozen=True)
class CalibrationRow:
    bin: int
    n: int
    mean_predicted: float
    observed_rate: float


@dataclass(frozen=True)
class HoldoutMetrics:
    """Metrics of scores ``p`` against outcomes ``y`` (see the module docstring)."""

    n: int
    positives: int
    base_rate: float
    auc: float
    top_decile_lift: float
    brier: float
    calibration: tuple[CalibrationRow, ...]


def calibration_method(n: int, positives: int) -> str:
    """``isotonic`` with enough data (module docstring), else ``sigmoid``.

    >>> calibration_method(10_000, 2_000), calibration_method(10_000, 200)
    ('isotonic', 'sigmoid')
    """
    return "isotonic" if n >= ISOTONIC_MIN_ROWS and positives >= ISOTONIC_MIN_POSITIVES else "sigmoid"


def fit_model(x: np.ndarray, y: np.ndarray, threads: int = 1) -> tuple[Any, str]:
    """The calibrated classifier fitted on ``(x, y)`` and its calibration method.

    ``threads`` caps the OpenMP threads of the boosting: its threads busy-wait at every tree level,
    so on a machine whose cores are taken by other work two threads were 15x *slower* than one
    (12k customers x 51 features: 36 s vs 2.4 s, 2 shared cores). Raise it on a dedicated machine.
    """
    from sklearn.calibration import CalibratedClassifierCV
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.model_selection import StratifiedKFold
    from threadpoolctl import threadpool_limits

    y = np.asarray(y, dtype=np.int64)
    method = calibration_method(int(y.size), int(y.sum()))
    folds = StratifiedKFold(n_splits=FOLDS, shuffle=True, random_state=0)
    model = CalibratedClassifierCV(
        HistGradientBoostingClassifier(**HGB_PARAMS), method=method, cv=folds, ensemble=False
    )
    with threadpool_limits(limits=threads, user_api="openmp"):
        model.fit(x, y)
    return _Limited(model, threads), method


class _Limited:
    """A fitted model whose ``predict_proba`` runs under the same OpenMP thread cap as its fit."""

    def __init__(self, model: Any, threads: int) -> None:
        self.model, self.threads = model, threads

    def predict_proba(self, x: np.ndarray) -> np.ndarray:
        from threadpoolctl import threadpool_limits

        with threadpool_limits(limits=self.threads, user_api="openmp"):
            p: np.ndarray = self.model.predict_proba(x)
        return p


def _auc(y: np.ndarray, p: np.ndarray) -> float:
    """Mann-Whitney AUC with average ranks for ties (equal to scikit-learn's ``roc_auc_score``)."""
    from scipy.stats import rankdata

    pos = y == 1
    n1, n0 = int(pos.sum()), int((~pos).sum())
    if n1 == 0 or n0 == 0:
        return math.nan
    ranks = rankdata(p)
    return float((ranks[pos].sum() - n1 * (n1 + 1) / 2.0) / (n1 * n0))


def holdout_metrics(y: np.ndarray, p: np.ndarray, bins: int = 10) -> HoldoutMetrics:
    """AUC, top-decile lift, Brier score and the calibration table of scores ``p`` for outcomes ``y``."""
    y = np.asarray(y, dtype=np.int64)
    p = np.asarray(p, dtype=np.float64)
    n = int(y.size)
    base = float(y.mean()) if n else math.nan
    order = np.argsort(-p, kind="stable")
    top = order[: max(1, math.ceil(n / 10))]
    lift = float(y[top].mean() / base) if base > 0 else math.nan
    rows = []
    for i, idx in enumerate(np.array_split(np.argsort(p, kind="stable"), bins), start=1):
        if idx.size:
            rows.append(CalibrationRow(i, int(idx.size), float(p[idx].mean()), float(y[idx].mean())))
    return HoldoutMetrics(
        n=n,
        positives=int(y.sum()),
        base_rate=base,
        auc=_auc(y, p),
        top_decile_lift=lift,
        brier=float(np.mean((p - y) ** 2)) if n else math.nan,
        calibration=tuple(rows),
    )
