"""Analyse a whole summary-statistics table at once: every treatment against its control.

For every metric × slice (a *cell*), each non-control variant is compared with the control:
moments (with CUPED where a covariate is given, delta method for ratios), then one of

* ``frequentist``: Welch t-test, p-value and confidence interval (:mod:`.frequentist`);
* ``sequential``: always-valid confidence sequence and p-value (:mod:`.sequential`);
* ``bayesian``: chance to win, credible interval and risk (:mod:`.bayesian`);

then Holm or Benjamini–Hochberg over all comparisons of the table (adjusted intervals agree with
adjusted p-values, see :mod:`.corrections`), and a sample-ratio-mismatch p-value per cell.
Everything is numpy arrays: 25,000 rows take a few tens of milliseconds.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import pandas as pd

from aftersales.core.errors import ValidationError
from aftersales.core.experiments.bayesian import GaussianPrior, gaussian_posterior
from aftersales.core.experiments.corrections import Correction, adjust, adjusted_alpha
from aftersales.core.experiments.frequentist import Alternative, lift_and_variance, t_interval, t_p_value, welch_dof
from aftersales.core.experiments.moments import cuped_pair
from aftersales.core.experiments.sequential import confidence_sequence, sequential_p_value
from aftersales.core.experiments.srm import SRM_THRESHOLD, srm_p_values
from aftersales.core.experiments.table import SummaryTable

__all__ = ["AnalysisOptions", "Method", "analyze"]

Method = Literal["frequentist", "sequential", "bayesian"]


@dataclass(frozen=True)
class AnalysisOptions:
    """How to analyse: method, correction, α, lift scale, sidedness, sequential N*, Bayesian prior.

    ``lower_is_better`` names metrics (churn, refunds, tickets) where a decrease is a win: it flips
    the Bayesian chance to win and risk; frequentist results are unchanged (a lift is a lift).
    """

    method: Method = "frequentist"
    correction: Correction = "none"
    alpha: float = 0.05
    relative: bool = True
    alternative: Alternative = "two-sided"
    sequential_tuning: float = 5000.0
    prior: GaussianPrior | None = None
    lower_is_better: frozenset[str] = field(default_factory=frozenset)

    def __post_init__(self) -> None:
        if self.method not in ("frequentist", "sequential", "bayesian"):
            raise ValidationError(f"unknown method {self.method!r}: use frequentist, sequential or bayesian")
        if self.correction not in ("holm", "bh", "none"):
            raise ValidationError(f"unknown correction {self.correction!r}: use holm, bh or none")
        if not 0 < self.alpha < 1:
            raise ValidationError(f"alpha must be in (0, 1), got {self.alpha}")
        if self.alternative not in ("two-sided", "greater", "less"):
            raise ValidationError(f"unknown alternative {self.alternative!r}")
        if self.method == "sequential" and self.alternative != "two-sided":
            raise ValidationError("sequential confidence sequences are two-sided only")
        if self.method == "bayesian" and self.correction != "none":
            raise ValidationError("multiple-testing corrections apply to p-values; the Bayesian method has none")
        if not self.sequential_tuning > 0:
            raise ValidationError("the sequential tuning parameter N* must be positive")


def _srm(table: SummaryTable) -> np.ndarray:
    """SRM p-value per cell, from the unit counts and weights of its variants."""
    cell = table.cell
    pos = pd.Series(cell).groupby(cell).cumcount().to_numpy()
    counts = np.full((table.n_cells, int(pos.max()) + 1), np.nan)
    weights = np.full_like(counts, np.nan)
    counts[cell, pos] = table.sums.n
    weights[cell, pos] = table.frame["weight"].to_numpy(dtype=float)
    return srm_p_values(counts, weights)


def analyze(table: SummaryTable, options: AnalysisOptions | None = None) -> pd.DataFrame:
    """One row per metric × slice × treatment variant (see docs/experiments.md for the columns)."""
    opt = options or AnalysisOptions()
    frame, sums = table.frame, table.sums
    variant = frame["variant"].to_numpy()
    is_control = variant == table.control
    control_of_cell = np.empty(table.n_cells, dtype=np.int64)
    control_of_cell[table.cell[is_control]] = np.flatnonzero(is_control)
    ti = np.flatnonzero(~is_control)
    ci = control_of_cell[table.cell[ti]]
    a, b, theta = cuped_pair(sums.take(ci), sums.take(ti))

    est, var = lift_and_variance(
        a.mean, a.var, a.n, b.mean, b.var, b.n, relative=opt.relative, raw_mean_a=a.raw_mean, raw_mean_b=b.raw_mean
    )
    notes = np.full(ti.size, "", dtype=object)
    bad_var = ~(var > 0) | ~np.isfinite(var)
    notes[bad_var] = "variance is zero or undefined"
    if opt.relative:
        notes[a.raw_mean == 0] = "control mean is zero: relative lift undefined"
    est = np.where(bad_var | ~np.isfinite(est), np.nan, est)
    var = np.where(np.isnan(est), np.nan, var)

    out = frame.iloc[ti][["metric", *table.slice_columns, "variant"]].reset_index(drop=True)
    out.insert(len(out.columns) - 1, "control", table.control)
    out["kind"] = frame["kind"].to_numpy()[ti]
    out["n"] = b.n.astype(np.int64)
    out["control_n"] = a.n.astype(np.int64)
    out["mean"] = b.raw_mean
    out["control_mean"] = a.raw_mean
    out["lift_type"] = "relative" if opt.relative else "absolute"
    out["lift"] = est
    out["se"] = np.sqrt(var)

    if opt.method == "bayesian":
        lower = np.isin(out["metric"].to_numpy(), list(opt.lower_is_better))
        post = gaussian_posterior(est, var, opt.prior, alpha=opt.alpha)
        flipped = gaussian_posterior(est, var, opt.prior, alpha=opt.alpha, lower_is_better=True)
        out["lift"] = post.mean
        out["ci_low"], out["ci_high"] = post.ci_low, post.ci_high
        out["chance_to_win"] = np.where(lower, flipped.chance_to_win, post.chance_to_win)
        out["risk"] = np.where(lower, flipped.risk_treatment, post.risk_treatment)
        out["risk_control"] = np.where(lower, flipped.risk_control, post.risk_control)
    else:
        n_total = a.n + b.n
        if opt.method == "frequentist":
            dof = welch_dof(a.var, a.n, b.var, b.n)
            with np.errstate(divide="ignore", invalid="ignore"):
                p = t_p_value(est / np.sqrt(var), dof, opt.alternative)
        else:
            p = sequential_p_value(est, var, n_total, opt.alpha, opt.sequential_tuning)
        p_adj = adjust(p, opt.correction)
        level = adjusted_alpha(p, p_adj, opt.alpha) if opt.correction != "none" else np.full(p.shape, opt.alpha)
        if opt.method == "frequentist":
            low, high = t_interval(est, var, dof, level, opt.alternative)
        else:
            low, high = confidence_sequence(est, var, n_total, level, opt.sequential_tuning, rho_alpha=opt.alpha)
        out["ci_low"], out["ci_high"] = low, high
        out["p_value"] = p_adj
        if opt.correction != "none":
            out["p_value_unadjusted"] = p
    if np.any(theta != 0):
        out["cuped_theta"] = theta
    srm = _srm(table)[table.cell[ti]]
    out["srm_p_value"] = srm
    out["srm_mismatch"] = srm < SRM_THRESHOLD
    notes[srm < SRM_THRESHOLD] = np.where(
        notes[srm < SRM_THRESHOLD] == "", "sample ratio mismatch", notes[srm < SRM_THRESHOLD]
    )
    out["note"] = notes
    return out
