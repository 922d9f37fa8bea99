"""Lookalike / propensity: who looks like the high-value customers, and who is likely to join them.

Modules: :mod:`.features` (point-in-time per-customer features as Ibis expressions), :mod:`.frame`
(the tidy frame in Python, the top-tier label, the model matrix), :mod:`.model` (calibrated gradient
boosting, holdout metrics), :mod:`.effects` (effect sizes and the plain-words profile),
:mod:`.options` (options and minimum counts). The method is described in ``docs/lookalike.md``.
"""

from aftersales.core.lookalike.effects import TraitEffect, profile
from aftersales.core.lookalike.features import FeatureTables, customer_features, top_categories
from aftersales.core.lookalike.frame import Encoder, tidy, top_tier
from aftersales.core.lookalike.model import CalibrationRow, HoldoutMetrics, fit_model, holdout_metrics
from aftersales.core.lookalike.options import LookalikeOptions

__all__ = [
    "CalibrationRow",
    "Encoder",
    "FeatureTables",
    "HoldoutMetrics",
    "LookalikeOptions",
    "TraitEffect",
    "customer_features",
    "fit_model",
    "holdout_metrics",
    "profile",
    "tidy",
    "top_categories",
    "top_tier",
]
