"""Lookalike options and the minimum counts below which the model or the profile is not built.

Why these minimums:

* :data:`MIN_HIGH_VALUE` = 30 high-value customers for the profile: a share among fewer than 30
  has a 95 % interval wider than ±18 points (Wilson, p = 0.5), too wide to say what sets them apart.
* :data:`MIN_CUSTOMERS` = 200 customers and :data:`MIN_POSITIVES` = :data:`MIN_NEGATIVES` = 50 of
  each class, in the training set *and* in the holdout: three-fold calibration then sees about 17
  positives per fold, the least for a sigmoid (two-parameter) fit, and an AUC on 50 positives has a
  standard error of about 0.03 (Hanley & McNeil 1982), small enough to tell a model from chance.
* Isotonic calibration (non-parametric, monotone) needs many more: it is used from
  :data:`ISOTONIC_MIN_POSITIVES` = 300 positives and :data:`ISOTONIC_MIN_ROWS` = 3,000 rows (about
  1,000 rows and 100 positives per calibration fold; scikit-learn's guide warns that isotonic
  regression overfits below about 1,000 calibration samples); below that, Platt's sigmoid.
"""

from __future__ import annotations

from dataclasses import dataclass

from aftersales.core.errors import FieldError, ValidationError

__all__ = [
    "ISOTONIC_MIN_POSITIVES",
    "ISOTONIC_MIN_ROWS",
    "MIN_CUSTOMERS",
    "MIN_HIGH_VALUE",
    "MIN_NEGATIVES",
    "MIN_POSITIVES",
    "LookalikeOptions",
]

MIN_HIGH_VALUE = 30
MIN_CUSTOMERS = 200
MIN_POSITIVES = 50
MIN_NEGATIVES = 50
ISOTONIC_MIN_POSITIVES = 300
ISOTONIC_MIN_ROWS = 3_000


@dataclass(frozen=True)
class LookalikeOptions:
    """``horizon_days``: how far ahead the label looks (and the gap between cut-offs); ``top_share``:
    the share of customers in the top CLV tier; ``categories``: how many of the most frequent product
    categories get a ``bought:<category>`` flag; ``threads``: OpenMP threads for the boosting (see
    ``core.lookalike.model.fit_model``: more than one only pays on cores nobody else is using);
    ``max_training_rows``: a larger training population is a stratified random sample of this many
    customers (seeded, so reproducible; positives and negatives at the same rate, so the positive
    share and the calibrated probabilities stay as they are), whose features alone are computed at
    the past cut-off: it bounds the engine pass and the fit on millions of customers. 30,000 rows
    give each of the three calibration folds 10,000 rows, far above the isotonic minimums below."""

    horizon_days: int = 365
    top_share: float = 0.2
    categories: int = 10
    threads: int = 1
    max_training_rows: int = 30_000

    def __post_init__(self) -> None:
        errors = []
        if self.horizon_days < 30:
            errors.append(FieldError(("horizon_days",), "must be at least 30 days"))
        if not 0.01 <= self.top_share <= 0.5:
            errors.append(FieldError(("top_share",), "must lie between 0.01 and 0.5"))
        if not 0 <= self.categories <= 50:
            errors.append(FieldError(("categories",), "must lie between 0 and 50"))
        if self.max_training_rows < MIN_CUSTOMERS:
            errors.append(FieldError(("max_training_rows",), f"must be at least {MIN_CUSTOMERS}"))
        if self.threads < 1:
            errors.append(FieldError(("threads",), "must be at least 1"))
        if errors:
            raise ValidationError("; ".join(f"{e.loc[0]} {e.message}" for e in errors), errors)
