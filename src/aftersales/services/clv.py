"""Use cases of the predict verb: fit, score and check CLV models on any analytical engine.

The engine does everything that grows with the number of customers: the RFM summary, grouping into
distinct (x, t_x, T) tuples with counts, and the final join of per-tuple scores back onto customers,
written straight to Parquet. Python only sees the distinct tuples (thousands to a few million rows).
The source is anything with ``table(name) -> ibis.Table`` and ``backend`` (``adapters.engines``'
``Source``); the entry point opens it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any, Literal, Protocol

import ibis
import ibis.expr.types as ir
import numpy as np
import pyarrow as pa

from aftersales.core.clv import TRANSACTION_MODELS, GammaGamma, TransactionModel
from aftersales.core.clv.checking import (
    conditional_expectations_by_frequency,
    expected_cumulative_purchases,
    holdout_errors,
    model_comparison,
)
from aftersales.core.clv.engine import KEYS, UNIT_DAYS, clv_summary, distinct_rows, repeat_purchase_days, scored
from aftersales.core.clv.value import PERIODS_PER_YEAR, risk_tier, score
from aftersales.core.errors import UnusableInputError, ValidationError
from aftersales.services.guards import dates_in_range

__all__ = ["AnalyticalSource", "ClvFit", "ClvPrediction", "ClvReport", "fit_clv", "predict_clv", "report_clv"]

TimeUnit = Literal["D", "W"]


class AnalyticalSource(Protocol):
    backend: Any

    def table(self, name: str) -> ir.Table: ...


@dataclass(frozen=True)
class ClvFit:
    model: TransactionModel
    model_name: str
    calibration_end: date
    time_unit: str

    def as_dict(self) -> dict[str, Any]:
        report = self.model.fit_report()
        return {
            "model": self.model_name,
            **{k: v for k, v in report.items() if k != "model"},
            "calibration_end": self.calibration_end.isoformat(),
            "time_unit": self.time_unit,
        }


@dataclass(frozen=True)
class ClvPrediction:
    fit: ClvFit
    spend: GammaGamma | None
    out: Path
    n_customers: int
    n_distinct_rows: int
    total_clv: float
    mean_p_alive: float
    expected_purchases: float
    tiers: dict[str, int] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {
            "model": self.fit.model_name,
            "params": dict(self.fit.model.params_),
            "spend_params": dict(self.spend.params_) if self.spend else None,
            "out": str(self.out),
            "n_customers": self.n_customers,
            "n_distinct_rows": self.n_distinct_rows,
            "total_clv": self.total_clv,
            "mean_p_alive": self.mean_p_alive,
            "expected_purchases": self.expected_purchases,
            "risk_tiers": dict(self.tiers),
        }


@dataclass(frozen=True)
class ClvReport:
    calibration_end: date
    holdout_end: date
    time_unit: str
    comparison: list[dict[str, Any]]
    by_frequency: list[dict[str, Any]]
    errors: dict[str, float]
    tracking: list[dict[str, Any]]
    model_name: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {
            "model": self.model_name,
            "calibration_end": self.calibration_end.isoformat(),
            "holdout_end": self.holdout_end.isoformat(),
            "time_unit": self.time_unit,
            "model_comparison": self.comparison,
            "conditional_expectations": self.by_frequency,
            "holdout_errors": self.errors,
            "tracking": self.tracking,
        }


def _unit(time_unit: str) -> TimeUnit:
    unit = {"day": "D", "d": "D", "week": "W", "w": "W"}.get(time_unit.lower())
    if unit is None:
        raise ValidationError(f"time unit must be day or week, not {time_unit!r}")
    return unit  # type: ignore[return-value]


def _model_class(name: str) -> type[TransactionModel]:
    try:
        return TRANSACTION_MODELS[name.lower()]
    except KeyError:
        raise ValidationError(f"unknown model {name!r}: choose {', '.join(TRANSACTION_MODELS)}") from None


def _last_order_date(orders: ir.Table) -> date:
    last = orders.ordered_at.max().to_pyarrow().as_py()
    if last is None:
        raise UnusableInputError("the source has no orders")
    return last.date()


def _fetch(expr: ir.Table) -> dict[str, np.ndarray]:
    table = expr.to_pyarrow()
    return {name: table.column(name).to_numpy().astype(float) for name in table.column_names}


def _fit_transactions(rfm: ir.Table, model_name: str, penalizer: float) -> tuple[TransactionModel, dict]:
    rows = _fetch(distinct_rows(rfm, KEYS))
    if rows["n_customers"].size == 0:
        raise UnusableInputError("no customers with orders before the calibration end")
    model = _model_class(model_name)(penalizer=penalizer).fit(rows, weights="n_customers")
    return model, rows


@dates_in_range
def fit_clv(
    source: AnalyticalSource,
    *,
    model: str = "bgnbd",
    calibration_end: date | None = None,
    time_unit: str = "week",
    penalizer: float = 0.0,
    tz: str = "UTC",
) -> ClvFit:
    """Fit a purchase model on the orders up to ``calibration_end`` (default: the last order date)."""
    unit = _unit(time_unit)
    orders = source.table("orders")
    end = calibration_end or _last_order_date(orders)
    rfm = clv_summary(orders, observation_end=end, time_unit=unit, tz=tz)
    fitted, _ = _fit_transactions(rfm, model, penalizer)
    return ClvFit(fitted, model.lower(), end, time_unit)


@dates_in_range
def predict_clv(
    source: AnalyticalSource,
    *,
    out: Path,
    model: str = "bgnbd",
    spend: str | None = "gammagamma",
    horizon: float = 52.0,
    discount: float = 0.10,
    margin: float = 1.0,
    calibration_end: date | None = None,
    time_unit: str = "week",
    penalizer: float = 0.0,
    tz: str = "UTC",
) -> ClvPrediction:
    """Fit, score every customer in the engine and write ``out`` (Parquet): customer_id, p_alive,
    expected_purchases (within the horizon), expected_spend, clv, risk_tier."""
    if spend not in (None, "none", "gammagamma"):
        raise ValidationError(f"spend model must be gammagamma or none, not {spend!r}")
    if not 1e-6 <= margin <= 1:  # a fraction of revenue; smaller values underflow in SQL literals
        raise ValidationError("margin must be between 0.000001 and 1")
    unit = _unit(time_unit)
    orders = source.table("orders")
    end = calibration_end or _last_order_date(orders)
    rfm = _materialized(
        source.backend, f"_clv_rfm_{id(out):x}", clv_summary(orders, observation_end=end, time_unit=unit, tz=tz)
    )
    fitted, rows = _fit_transactions(rfm, model, penalizer)
    spend_model = None
    if spend == "gammagamma":
        where = (rfm.frequency > 0) & (rfm.monetary_value > 0)
        spend_rows = _fetch(distinct_rows(rfm, ["frequency", "monetary_value"], where=where))
        spend_model = GammaGamma(penalizer=penalizer).fit(spend_rows, weights="n_customers")
        spend_model.population_mean_spend()  # q ≤ 1 (infinite mean spend) is an error, not a silent inf
    s = score(
        fitted,
        rows["frequency"],
        rows["recency"],
        rows["T"],
        horizon=horizon,
        annual_discount=discount,
        periods_per_year=PERIODS_PER_YEAR[unit],
    )
    # subnormal values do not survive a round trip through PostgreSQL's float8: flush them to zero
    s = {k: np.where(np.abs(v) < 1e-300, 0.0, v) if np.asarray(v).dtype.kind == "f" else v for k, v in s.items()}
    lookup = pa.table({**{k: rows[k] for k in KEYS}, **s})
    result = scored(rfm, ibis.memtable(lookup), spend=spend_model.params_ if spend_model else None, margin=margin)
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    result.to_parquet(out)
    totals = result.aggregate(
        n=result.count(), clv=result.clv.sum(), alive=result.p_alive.mean(), purchases=result.expected_purchases.sum()
    ).to_pyarrow()
    w = rows["n_customers"]
    tier_of = risk_tier(s["p_alive"])
    tiers = {t: int(w[tier_of == t].sum()) for t in ("high", "medium", "low")}
    return ClvPrediction(
        fit=ClvFit(fitted, model.lower(), end, time_unit),
        spend=spend_model,
        out=out,
        n_customers=int(totals["n"][0].as_py()),
        n_distinct_rows=int(w.size),
        total_clv=float(totals["clv"][0].as_py()),
        mean_p_alive=float(totals["alive"][0].as_py()),
        expected_purchases=float(totals["purchases"][0].as_py()),
        tiers=tiers,
    )


def _materialized(backend: Any, name: str, expr: ir.Table) -> ir.Table:
    """The RFM summary is read three times (two groupings and the final join): compute it once into a
    temporary table where the engine has them; PySpark has none, and recomputes the lazy plan."""
    try:
        return backend.create_table(name, expr, temp=True)
    except NotImplementedError:
        return expr


@dates_in_range
def report_clv(
    source: AnalyticalSource,
    *,
    calibration_end: date,
    holdout_end: date,
    model: str = "bgnbd",
    time_unit: str = "week",
    penalizer: float = 0.0,
    max_frequency: int = 7,
    tz: str = "UTC",
) -> ClvReport:
    """Calibration/holdout check: model comparison, conditional expectations by frequency, holdout
    errors and the weekly tracking curve of cumulative repeat purchases (actual vs expected)."""
    unit = _unit(time_unit)
    _model_class(model)
    if holdout_end <= calibration_end:
        raise ValidationError("holdout_end must be after calibration_end")
    orders = source.table("orders")
    rfm = clv_summary(orders, observation_end=holdout_end, calibration_end=calibration_end, time_unit=unit, tz=tz)
    rows = _fetch(distinct_rows(rfm, [*KEYS, "frequency_holdout", "duration_holdout"]))
    if rows["n_customers"].size == 0:
        raise UnusableInputError("no customers with orders before the calibration end")
    data, w = {k: rows[k] for k in KEYS}, rows["n_customers"]
    fitted = {name: cls(penalizer=penalizer).fit(data, weights=w) for name, cls in TRANSACTION_MODELS.items()}
    chosen = fitted[model.lower()]
    predicted = chosen.expected_purchases(rows["duration_holdout"], rows["frequency"], rows["recency"], rows["T"])
    by_frequency = conditional_expectations_by_frequency(
        chosen, *(rows[k] for k in (*KEYS, "duration_holdout", "frequency_holdout")), w, max_frequency=max_frequency
    )
    return ClvReport(
        calibration_end=calibration_end,
        holdout_end=holdout_end,
        time_unit=time_unit,
        comparison=model_comparison(list(fitted.values())),
        by_frequency=by_frequency,
        errors=holdout_errors(rows["frequency_holdout"], predicted, w),
        tracking=_tracking(orders, chosen, rows, calibration_end, holdout_end, unit, tz),
        model_name=model.lower(),
    )


def _tracking(
    orders: ir.Table,
    model: TransactionModel,
    rows: dict[str, np.ndarray],
    calibration_end: date,
    holdout_end: date,
    unit: TimeUnit,
    tz: str,
) -> list[dict[str, Any]]:
    """Weekly cumulative repeat purchases of the calibration cohort, actual and expected."""
    days_per_unit = UNIT_DAYS[unit]
    cal_days = rows["T"] * days_per_unit  # age in days at calibration end
    start = calibration_end - timedelta(days=round(float(cal_days.max())))  # T is whole days
    repeat = repeat_purchase_days(orders, start=start, end=holdout_end, tz=tz)
    cohort_end = (calibration_end - start).days
    repeat = repeat.filter((repeat.first_day <= cohort_end) & (repeat.day > repeat.first_day))
    week = (repeat.day.cast("float64") / 7.0).floor().cast("int64")
    per_week = _fetch(repeat.group_by(week.name("week")).aggregate(n=repeat.count().cast("float64")))
    n_weeks = (holdout_end - start).days // 7 + 1
    actual = np.zeros(n_weeks)
    if per_week["week"].size:
        np.add.at(actual, per_week["week"].astype(int).clip(0, n_weeks - 1), per_week["n"])
    entry_days = (calibration_end - start).days - cal_days
    week_ends = np.arange(1, n_weeks + 1) * 7.0
    expected = expected_cumulative_purchases(
        model, entry_days / days_per_unit, week_ends / days_per_unit, rows["n_customers"]
    )
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
