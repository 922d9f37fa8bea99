"""Experiment use cases: analyse summary statistics or per-customer outcomes; size an experiment.

Per-customer outcomes are a table of an analytical source (the port ``services.ports.AnalyticalSource``,
like metrics and CLV): the engine reduces them to summary statistics, Python analyses those.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

import pandas as pd

from aftersales.core.errors import FieldError, ValidationError
from aftersales.core.experiments.analysis import AnalysisOptions, analyze
from aftersales.core.experiments.capping import capped_column
from aftersales.core.experiments.power import (
    mde_means,
    mde_proportions,
    sample_size_means,
    sample_size_proportions,
)
from aftersales.core.experiments.summaries import outcome_metrics, summary_statistics
from aftersales.core.experiments.table import summary_table
from aftersales.services.ports import AnalyticalSource

__all__ = ["ExperimentReport", "PowerReport", "analyze_outcomes", "analyze_summary", "plan_power"]


@dataclass(frozen=True)
class ExperimentReport:
    """Results (one record per metric × slice × treatment), the control and the options used."""

    control: str
    options: AnalysisOptions
    results: pd.DataFrame

    def records(self, *, brief: bool = False) -> list[dict[str, Any]]:
        """Every column, or (``brief``) the ones a reader needs, for a table that fits a terminal."""
        frame = self.results
        if brief:
            keep = [c for c in frame.columns if c not in _DETAIL_COLUMNS]
            frame = frame[keep]
        return [{str(k): v for k, v in row.items()} for row in frame.to_dict(orient="records")]


# Left out of the terminal table (still in JSON and CSV output).
_DETAIL_COLUMNS = frozenset(
    ("control", "kind", "control_n", "lift_type", "se", "p_value_unadjusted", "risk_control", "srm_mismatch")
)


def analyze_summary(
    data: Any, options: AnalysisOptions | None = None, *, control: str | None = None
) -> ExperimentReport:
    """Analyse a summary-statistics table (DataFrame, Arrow table or dict of columns)."""
    table = summary_table(data, control=control)
    opt = options or AnalysisOptions()
    return ExperimentReport(table.control, opt, analyze(table, opt))


def analyze_outcomes(
    source: AnalyticalSource,
    options: AnalysisOptions | None = None,
    *,
    table: str = "outcomes",
    control: str | None = None,
    by: Sequence[str] = (),
    cap_upper: float | None = None,
    cap_lower: float | None = None,
    cap_ignore_zeros: bool = False,
) -> ExperimentReport:
    """Summarise the per-customer outcomes of ``source``'s ``table`` in the engine (optionally
    winsorised), then analyse.

    The control is ``control``, else a variant named ``control``, else the first in sorted order.
    """
    outcomes = source.table(table)
    if "variant" not in outcomes.columns:
        raise ValidationError("the outcomes table needs a 'variant' column")
    specs = outcome_metrics(outcomes, exclude=("customer_id", *by))
    if cap_upper is not None or cap_lower is not None:
        for spec in specs.values():
            if spec.kind != "proportion":
                outcomes = capped_column(
                    outcomes, spec.column, upper=cap_upper, lower=cap_lower, ignore_zeros=cap_ignore_zeros
                )
    frame = source.to_arrow(summary_statistics(outcomes, specs, by=by)).to_pandas()
    variants = sorted(frame["variant"].astype(str).unique())
    ctrl = control or ("control" if "control" in variants else (variants[0] if variants else None))
    if ctrl is None:
        raise ValidationError("the outcomes table has no rows")
    order = {name: i for i, name in enumerate(specs)}
    frame = frame.assign(_m=frame["metric"].map(order), _c=(frame["variant"] != ctrl).astype(int))
    frame = frame.sort_values(["_m", *by, "_c", "variant"], kind="stable").drop(columns=["_m", "_c"])
    return analyze_summary(frame.reset_index(drop=True), options, control=ctrl)


@dataclass(frozen=True)
class PowerReport:
    metric_type: str
    baseline: float
    effect: float
    relative: bool
    alpha: float
    power: float
    variants: int
    n_per_variant: int
    n_exact: float
    n_total: int
    alpha_per_comparison: float

    def records(self, *, brief: bool = False) -> list[dict[str, Any]]:
        row = asdict(self)
        if brief:
            for key in ("relative", "n_exact", "alpha_per_comparison"):
                row.pop(key)
        return [row]


def plan_power(
    baseline: float,
    *,
    mde: float | None = None,
    n: float | None = None,
    relative: bool = False,
    alpha: float = 0.05,
    power: float = 0.8,
    variants: int = 2,
    sd: float | None = None,
) -> PowerReport:
    """Sample size for ``mde`` or, given ``n`` per variant, the minimum detectable effect.

    Proportions unless ``sd`` is given (then a mean with that unit standard deviation).
    """
    if (mde is None) == (n is None):
        msg = "give either the effect to detect, mde (to get a sample size), or n per variant (to get the effect)"
        raise ValidationError(msg, [FieldError(("mde",), msg)])
    kind = "mean" if sd is not None else "proportion"
    if mde is None:
        assert n is not None
        effect = (
            mde_means(n, sd, alpha=alpha, power=power, variants=variants)
            if sd is not None
            else mde_proportions(baseline, n, alpha=alpha, power=power, variants=variants)
        )
        mde = effect / baseline if relative else effect
    if sd is not None:
        size = sample_size_means(baseline, mde, sd, relative=relative, alpha=alpha, power=power, variants=variants)
    else:
        size = sample_size_proportions(baseline, mde, relative=relative, alpha=alpha, power=power, variants=variants)
    return PowerReport(
        kind, baseline, mde, relative, alpha, power, variants,
        size.n_per_variant, size.n_exact, size.n_total, size.alpha_per_comparison,
    )  # fmt: skip
