"""Every journey proves itself: journey vs holdout, and each split's variants, through the experiment engine.

Enrollment put each customer in the journey or its holdout with the experiment engine's sticky hash
(``core.experiments.assignment``), and each split step assigned variants the same way, so the
enrollments are a randomised experiment's exposures: ``exposed_at`` is the time of entry. For every
enrolled customer and a window of ``window_days`` after entry (orders neither cancelled nor returned;
:func:`aftersales.core.experiments.outcomes.order_outcomes`):

* ``converted``: the goal happened in ``(entered_at, entered_at + window]`` (the goal fact: an order
  for ``order.placed``, else the named fact from the journey fact catalogue or the events table);
* ``revenue``: revenue per enrolled customer over the window (zero for those who bought nothing, who
  stay in the denominator), with the window before entry as its CUPED covariate;
* ``repeat_purchase``: at least one order in the window; ``churned`` = 1 - repeat_purchase (lower is
  better).

A customer who entered more than once counts once, from the first entry (the customer is the unit
the hash randomised). The engine reduces these to summary statistics per arm;
:func:`aftersales.core.experiments.analysis.analyze` gives lifts, intervals and p-values,
corrected for the number of comparisons (Holm by default: four metrics per comparison), and a
sample-ratio-mismatch check against the expected shares (holdout share vs ``1 - share``; the split's
weights). Only enrollments whose window has ended are compared unless
``include_immature`` is set: a customer who entered yesterday has not had 30 days to convert (in
either arm, so including them dilutes both arms alike; leaving them out keeps the rates meaningful).
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import ibis
import ibis.expr.types as ir
import pandas as pd
import pyarrow as pa

from aftersales.core.errors import ValidationError
from aftersales.core.experiments.analysis import AnalysisOptions
from aftersales.core.experiments.corrections import Correction
from aftersales.core.experiments.outcomes import order_outcomes
from aftersales.core.experiments.summaries import MetricSpec, summary_statistics
from aftersales.core.journeys import Journey, SplitStep, fact_source
from aftersales.core.journeys.facts import EVENTS_TABLE
from aftersales.services.analytical.experiments import ExperimentReport, analyze_summary
from aftersales.services.ports import AnalyticalSource

__all__ = ["ArmSummary", "GoalFact", "JourneyReport", "goal_fact", "journey_report"]

HOLDOUT = "holdout"
JOURNEY = "journey"
EXPOSURE_COLUMNS = ("customer_id", "arm", "variants_json", "entered_at")


@dataclass(frozen=True)
class GoalFact:
    """Where the goal's occurrences are: a table of the source, its customer and time columns, and an
    optional filter on a name column (the events table holds every named event)."""

    table: str
    time_column: str
    name_column: str | None = None
    name: str | None = None


def goal_fact(name: str) -> GoalFact:
    """Where the goal ``name`` is counted: the journey fact catalogue's table and time column (an
    order for ``order.placed``, a delivery for ``order.delivered``, ...), else the events table's rows
    of that name."""
    src = fact_source(name)
    if src.table == EVENTS_TABLE:
        return GoalFact(EVENTS_TABLE, src.time_column, name_column="name", name=name)
    return GoalFact(src.table, src.time_column)


@dataclass(frozen=True)
class ArmSummary:
    """Plain figures per arm (or variant): who entered and what they did over the window."""

    arm: str
    enrolled: int
    converted: int
    conversion_rate: float
    revenue_per_enrolled: float
    repeat_purchase_rate: float
    churn_rate: float


@dataclass(frozen=True)
class JourneyReport:
    journey: str
    goal: str
    window_days: int
    as_of: datetime
    holdout_share: float
    matured: int
    immature: int
    arms: tuple[ArmSummary, ...]
    holdout: ExperimentReport | None
    splits: Mapping[str, tuple[tuple[ArmSummary, ...], ExperimentReport | None]] = field(default_factory=dict)
    notes: tuple[str, ...] = ()

    def records(self, *, brief: bool = False) -> list[dict[str, Any]]:
        """One row per comparison and metric: ``journey vs holdout`` first, then each split."""
        rows: list[dict[str, Any]] = []
        parts: list[tuple[str, ExperimentReport | None]] = [("journey vs holdout", self.holdout)]
        parts += [(f"split {step}", report) for step, (_, report) in self.splits.items()]
        for name, report in parts:
            if report is not None:
                rows += [{"comparison": name, **r} for r in report.records(brief=brief)]
        return rows


def _exposures(
    exposures: pa.Table, as_of: datetime, window: timedelta, include_immature: bool
) -> tuple[pd.DataFrame, int]:
    missing = [c for c in EXPOSURE_COLUMNS if c not in exposures.column_names]
    if missing:
        raise ValidationError(f"the enrollments table lacks {', '.join(missing)}")
    frame = exposures.select(list(EXPOSURE_COLUMNS)).to_pandas()
    frame["entered_at"] = pd.to_datetime(frame["entered_at"], utc=True)
    # The customer is the unit of randomisation: a customer enrolled again (re-entry) counts once,
    # from the first entry, in the arm the sticky hash gave them every time.
    frame = frame.sort_values("entered_at", kind="stable").drop_duplicates("customer_id", keep="first")
    matured = frame["entered_at"] + window <= pd.Timestamp(as_of)
    immature = int((~matured).sum())
    return (frame if include_immature else frame[matured]).reset_index(drop=True), immature


def _goal_hits(source: AnalyticalSource, exposed: ir.Table, goal: GoalFact, window_days: int) -> ir.Table:
    """Per exposure: whether the goal fact occurred in ``(exposed_at, exposed_at + window]``."""
    facts = source.table(goal.table)
    if goal.name_column is not None:
        facts = facts.filter(facts[goal.name_column] == goal.name)
    f = facts.select(g_customer=facts.customer_id, g_at=facts[goal.time_column])
    joined = exposed.left_join(
        f,
        [
            exposed.customer_id == f.g_customer,
            f.g_at > exposed.exposed_at,
            f.g_at <= exposed.exposed_at + ibis.interval(days=window_days),
        ],
    )
    hits = joined.group_by(["customer_id", "variant"]).aggregate(
        goal_hits=ibis.ifelse(joined.g_at.notnull(), 1, 0).sum().cast("int64")
    )
    return hits.select("customer_id", "variant", converted=hits.goal_hits > 0)


def _outcomes(source: AnalyticalSource, exposures: pd.DataFrame, goal: GoalFact, window_days: int) -> ir.Table:
    arrow = pa.table(
        {
            "customer_id": pa.array(exposures["customer_id"].astype(str), pa.string()),
            "variant": pa.array(exposures["variant"].astype(str), pa.string()),
            "exposed_at": pa.array(exposures["entered_at"], pa.timestamp("us", tz="UTC")),
        }
    )
    exposed = source.register(f"journey_exposures_{secrets.token_hex(4)}", arrow)
    orders = order_outcomes(exposed, source.table("orders"), window_days=window_days, pre_days=window_days)
    if goal.table == "orders" and goal.name_column is None and goal.time_column == "ordered_at":
        return orders.mutate(converted=orders.repeat_purchase, churned=_negated(orders.repeat_purchase))
    hits = _goal_hits(source, exposed, goal, window_days)
    joined = orders.join(hits, ["customer_id", "variant"])
    return joined.mutate(churned=_negated(joined.repeat_purchase))


def _negated(flag: ir.BooleanValue) -> ir.BooleanValue:
    """``not flag`` spelled as CASE: Ibis 12 compiles ``(~flag).notnull()`` (the summary's filter) to
    ``NOT flag IS NOT NULL``, which SQL reads as ``NOT (flag IS NOT NULL)``: every row vanished."""
    return ibis.ifelse(flag, False, True)


_METRICS = {
    "converted": MetricSpec("converted", "proportion"),
    "revenue": MetricSpec("revenue", "mean", covariate="pre_revenue"),
    "repeat_purchase": MetricSpec("repeat_purchase", "proportion"),
    "churned": MetricSpec("churned", "proportion"),
}


def _arm_summaries(stats: pd.DataFrame) -> tuple[ArmSummary, ...]:
    n: dict[Any, dict[Any, Any]] = stats.pivot(index="variant", columns="metric", values="n").to_dict("index")
    sums: dict[Any, dict[Any, Any]] = stats.pivot(index="variant", columns="metric", values="sum").to_dict("index")

    def rate(variant: Any, metric: str) -> float:
        count = float(n[variant][metric])
        return float(sums[variant][metric]) / count if count else float("nan")

    return tuple(
        ArmSummary(
            arm=str(variant),
            enrolled=int(n[variant]["converted"]),
            converted=round(float(sums[variant]["converted"])),
            conversion_rate=rate(variant, "converted"),
            revenue_per_enrolled=rate(variant, "revenue"),
            repeat_purchase_rate=rate(variant, "repeat_purchase"),
            churn_rate=rate(variant, "churned"),
        )
        for variant in sorted(n, key=str)
    )


def _compare(
    source: AnalyticalSource,
    exposures: pd.DataFrame,
    goal: GoalFact,
    window_days: int,
    weights: Mapping[str, float],
    control: str,
    options: AnalysisOptions,
) -> tuple[tuple[ArmSummary, ...], ExperimentReport | None]:
    if exposures.empty:
        return (), None
    outcomes = _outcomes(source, exposures, goal, window_days)
    stats = source.to_arrow(summary_statistics(outcomes, _METRICS)).to_pandas()
    arms = _arm_summaries(stats)
    present = set(stats["variant"])
    if control not in present or len(present) < 2:
        return arms, None  # nothing to compare with (e.g. a holdout share of 0)
    stats["weight"] = stats["variant"].map(lambda v: float(weights.get(v, 0.0)))
    order = {name: i for i, name in enumerate(_METRICS)}
    stats = stats.assign(_m=stats["metric"].map(order), _c=(stats["variant"] != control).astype(int))
    stats = stats.sort_values(["_m", "_c", "variant"], kind="stable").drop(columns=["_m", "_c"])
    return arms, analyze_summary(stats.reset_index(drop=True), options, control=control)


def journey_report(
    source: AnalyticalSource,
    exposures: pa.Table,
    journey: Journey,
    *,
    as_of: datetime,
    window_days: int | None = None,
    correction: Correction = "holm",
    alpha: float = 0.05,
    include_immature: bool = False,
) -> JourneyReport:
    """The report of ``journey`` from its enrollments (``exposures``: customer_id, arm, variants_json,
    entered_at) and the store's orders and facts in ``source``, as of ``as_of``.

    The goal, its window (default: the goal's ``within``), the holdout share and each split's
    weights (the SRM check's expected shares) come from the journey's definition.
    """
    window = window_days if window_days is not None else max(1, journey.goal.within.days)
    if window <= 0:
        raise ValidationError("the report window must be at least one day")
    goal = journey.goal.event
    target = goal_fact(goal)
    options = AnalysisOptions(correction=correction, alpha=alpha, lower_is_better=frozenset({"churned"}))
    frame, immature = _exposures(exposures, as_of, timedelta(days=window), include_immature)
    notes = []
    if immature and not include_immature:
        notes.append(f"{immature} enrollments entered less than {window} days before {as_of:%Y-%m-%d}: left out")
    arm_frame = frame.assign(variant=frame["arm"])
    share = journey.holdout
    arms, holdout = _compare(
        source, arm_frame, target, window, {HOLDOUT: share, JOURNEY: 1.0 - share}, HOLDOUT, options
    )
    if holdout is None and not frame.empty:
        notes.append("no holdout customers to compare with (holdout share 0, or none matured yet)")
    splits = {
        step.id: {v.name: v.weight for v in step.variants} for step in journey.steps if isinstance(step, SplitStep)
    }
    split_reports: dict[str, tuple[tuple[ArmSummary, ...], ExperimentReport | None]] = {}
    in_journey = frame[frame["arm"] == JOURNEY]
    chosen = in_journey["variants_json"].map(lambda s: json.loads(s) if isinstance(s, str) and s else {})
    for step, weights in splits.items():
        variant = chosen.map(lambda v, step=step: v.get(step))
        reached = in_journey.assign(variant=variant)[variant.notna()]
        control = "control" if "control" in weights else next(iter(weights))
        split_reports[step] = _compare(source, reached, target, window, weights, control, options)
    return JourneyReport(
        journey=journey.name,
        goal=goal,
        window_days=window,
        as_of=as_of,
        holdout_share=share,
        matured=len(frame),
        immature=immature,
        arms=arms,
        holdout=holdout,
        splits=split_reports,
        notes=tuple(notes),
    )
