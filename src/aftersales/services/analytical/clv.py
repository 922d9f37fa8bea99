"""Use cases of the predict verb: fit, score and check CLV models on any analytical engine.

The engine does everything that grows with the number of customers: the RFM summary, grouping into
distinct (x, t_x, T) tuples with counts, and the final join of per-tuple scores back onto customers.
Python only sees the distinct tuples (thousands to a few million rows). The source is the analytical
port (``services.ports.AnalyticalSource``); what to fit and how to value it is one
:class:`~aftersales.core.clv.options.ClvOptions`. Writing the scores to a file is a
:class:`~aftersales.services.ports.TableWriter`'s job (the engine streams them), so no per-customer
row passes through Python here.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date, datetime
from pathlib import Path
from typing import Any
from uuid import uuid4

import ibis.expr.types as ir
import numpy as np
import pyarrow as pa

from aftersales.core.clv import TRANSACTION_MODELS, GammaGamma, TransactionModel
from aftersales.core.clv.checking import (
    conditional_expectations_by_frequency,
    holdout_errors,
    model_comparison,
    tracking_curve,
    tracking_start,
)
from aftersales.core.clv.engine import KEYS, UNIT_DAYS, clv_summary, distinct_rows, repeat_purchase_days, scored
from aftersales.core.clv.options import ClvOptions, UnitCode
from aftersales.core.clv.value import PERIODS_PER_YEAR, RISK_TIERS, risk_tier, score
from aftersales.core.errors import FieldError, UnusableInputError, ValidationError
from aftersales.services.operational.guards import dates_in_range
from aftersales.services.ports import AnalyticalSource, TableWriter

__all__ = [
    "AnalyticalSource",
    "ClvFit",
    "ClvFitted",
    "ClvOptions",
    "ClvPrediction",
    "ClvReport",
    "ClvScores",
    "fit_clv",
    "fit_customers",
    "predict_clv",
    "report_clv",
    "score_customers",
    "score_fitted",
]


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
    out: Path | None
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
            "out": str(self.out) if self.out is not None else None,
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


@dataclass(frozen=True)
class ClvScores:
    """Every customer scored: ``table`` is the engine-side expression (customer_id, p_alive,
    expected_purchases, expected_spend, clv, risk_tier; run it through the source or a writer),
    ``prediction`` the fit and the totals."""

    table: ir.Table
    prediction: ClvPrediction


def _last_order_date(source: AnalyticalSource, orders: ir.Table) -> date:
    [row] = source.execute(orders.aggregate(last=orders.ordered_at.max()))
    last: datetime | None = row["last"]
    if last is None:
        raise UnusableInputError("the source has no orders")
    return last.date()


def _fetch(source: AnalyticalSource, expr: ir.Table) -> dict[str, np.ndarray]:
    table = source.to_arrow(expr)
    return {name: table.column(name).to_numpy().astype(float) for name in table.column_names}


def _fit_transactions(
    source: AnalyticalSource, rfm: ir.Table, options: ClvOptions
) -> tuple[TransactionModel, dict[str, np.ndarray]]:
    rows = _fetch(source, distinct_rows(rfm, KEYS))
    if rows["n_customers"].size == 0:
        raise UnusableInputError("no customers with orders before the calibration end")
    model = TRANSACTION_MODELS[options.model](penalizer=options.penalizer).fit(rows, weights="n_customers")
    return model, rows


@dates_in_range
def fit_clv(source: AnalyticalSource, options: ClvOptions | None = None, *, tz: str = "UTC") -> ClvFit:
    """Fit a purchase model on the orders up to ``calibration_end`` (default: the last order date)."""
    opt = options or ClvOptions()
    orders = source.table("orders")
    end = opt.calibration_end or _last_order_date(source, orders)
    rfm = clv_summary(orders, observation_end=end, time_unit=opt.unit, tz=tz)
    fitted, _ = _fit_transactions(source, rfm, opt)
    return ClvFit(fitted, opt.model, end, opt.time_unit)


@dataclass(frozen=True)
class ClvFitted:
    """The purchase (and spend) model fitted on a source's orders, ready to score at any horizon,
    discount and margin (:func:`score_fitted`). ``rfm`` is the RFM summary kept computed on the
    source's engine (valid while the source is open), ``rows`` its distinct (x, t_x, T) tuples with
    ``n_customers``; ``options`` and ``tz`` are those it was fitted with."""

    fit: ClvFit
    spend: GammaGamma | None
    rfm: ir.Table
    rows: dict[str, np.ndarray]
    options: ClvOptions
    tz: str

    def serves(self, options: ClvOptions, calibration_end: date, tz: str) -> bool:
        """Whether fitting ``options`` up to ``calibration_end`` in ``tz`` would give this very fit: the
        same orders window and zone, purchase model, time unit, penalty and spend model (horizon,
        discount and margin only enter the scoring)."""
        mine, theirs = self.options, options
        same = (mine.model, mine.spend, mine.time_unit, mine.penalizer) == (
            theirs.model,
            theirs.spend,
            theirs.time_unit,
            theirs.penalizer,
        )
        return same and self.fit.calibration_end == calibration_end and self.tz == tz


@dates_in_range
def fit_customers(source: AnalyticalSource, options: ClvOptions | None = None, *, tz: str = "UTC") -> ClvFitted:
    """Fit the purchase model (and Gamma-Gamma when asked) on the orders up to the calibration end.

    The RFM summary is read three times (two groupings here and the final join when scoring): the
    source keeps it computed (``cache``)."""
    opt = options or ClvOptions()
    orders = source.table("orders")
    end = opt.calibration_end or _last_order_date(source, orders)
    rfm = source.cache(clv_summary(orders, observation_end=end, time_unit=opt.unit, tz=tz))
    fitted, rows = _fit_transactions(source, rfm, opt)
    spend_model = None
    if opt.spend_model == "gammagamma":
        where = (rfm.frequency > 0) & (rfm.monetary_value > 0)
        spend_rows = _fetch(source, distinct_rows(rfm, ["frequency", "monetary_value"], where=where))
        spend_model = GammaGamma(penalizer=opt.penalizer).fit(spend_rows, weights="n_customers")
        spend_model.population_mean_spend()  # q ≤ 1 (infinite mean spend) is an error, not a silent inf
    return ClvFitted(ClvFit(fitted, opt.model, end, opt.time_unit), spend_model, rfm, rows, opt, tz)


@dates_in_range
def score_fitted(source: AnalyticalSource, fitted: ClvFitted, options: ClvOptions | None = None) -> ClvScores:
    """Score every customer of ``fitted`` in the engine at ``options``' horizon, discount and margin
    (default: the fit's own options; their time unit must be the fit's); the totals are computed
    there too. Per-tuple scores go back into the engine (``register``) to be joined onto customers;
    Gamma-Gamma spend, CLV and the tier are SQL arithmetic (``core.clv.engine.scored``)."""
    opt = options or fitted.options
    if opt.time_unit != fitted.options.time_unit:
        msg = f"the fit counts time in {fitted.options.time_unit}s: score it with the same time unit"
        raise ValidationError(msg, [FieldError(("time_unit",), msg)])
    rows = fitted.rows
    s = score(
        fitted.fit.model,
        rows["frequency"],
        rows["recency"],
        rows["T"],
        horizon=opt.horizon,
        annual_discount=opt.discount,
        periods_per_year=PERIODS_PER_YEAR[fitted.options.unit],
    )
    # subnormal values do not survive a round trip through PostgreSQL's float8: flush them to zero
    s = {k: np.where(np.abs(v) < 1e-300, 0.0, v) if np.asarray(v).dtype.kind == "f" else v for k, v in s.items()}
    lookup = source.register(f"_clv_scores_{uuid4().hex}", pa.table({**{k: rows[k] for k in KEYS}, **s}))
    spend = fitted.spend
    result = scored(fitted.rfm, lookup, spend=spend.params_ if spend else None, margin=opt.margin)
    [totals] = source.execute(
        result.aggregate(
            n=result.count(),
            clv=result.clv.sum(),
            alive=result.p_alive.mean(),
            purchases=result.expected_purchases.sum(),
        )
    )
    w = rows["n_customers"]
    tier_of = risk_tier(s["p_alive"])
    prediction = ClvPrediction(
        fit=fitted.fit,
        spend=spend,
        out=None,
        n_customers=int(totals["n"]),
        n_distinct_rows=int(w.size),
        total_clv=float(totals["clv"]),
        mean_p_alive=float(totals["alive"]),
        expected_purchases=float(totals["purchases"]),
        tiers={t: int(w[tier_of == t].sum()) for t in RISK_TIERS},
    )
    return ClvScores(result, prediction)


@dates_in_range
def score_customers(
    source: AnalyticalSource,
    options: ClvOptions | None = None,
    *,
    tz: str = "UTC",
    fitted: ClvFitted | None = None,
) -> ClvScores:
    """Fit (:func:`fit_customers`), then score every customer in the engine (:func:`score_fitted`).

    ``fitted``: a fit made earlier on the same source (``aftersales refresh`` makes one for the
    profiles' 365-day columns); it is scored as it is when it :meth:`~ClvFitted.serves` ``options``
    (one small query finds the calibration end when ``options`` leave it to the last order's day),
    which skips the second RFM summary and fit; otherwise the model is fitted anew."""
    opt = options or ClvOptions()
    if fitted is not None:
        end = opt.calibration_end or _last_order_date(source, source.table("orders"))
        if not fitted.serves(opt, end, tz):
            fitted = None
    return score_fitted(source, fitted or fit_customers(source, opt, tz=tz), opt)


def predict_clv(
    source: AnalyticalSource,
    options: ClvOptions | None = None,
    *,
    out: Path,
    write: TableWriter,
    fmt: str = "parquet",
    tz: str = "UTC",
) -> ClvPrediction:
    """Fit, score every customer in the engine and have ``write`` put the scores in ``out`` (format
    ``fmt``): customer_id, p_alive, expected_purchases (within the horizon), expected_spend, clv,
    risk_tier."""
    scores = score_customers(source, options, tz=tz)
    write(Path(out), scores.table, fmt)
    return replace(scores.prediction, out=Path(out))


@dates_in_range
def report_clv(
    source: AnalyticalSource,
    options: ClvOptions,
    *,
    holdout_end: date,
    max_frequency: int = 7,
    tz: str = "UTC",
) -> ClvReport:
    """Calibration/holdout check: model comparison, conditional expectations by frequency, holdout
    errors and the weekly tracking curve of cumulative repeat purchases (actual vs expected).
    ``options.calibration_end`` is required; of the options, model, time unit and penalizer apply."""
    calibration_end = options.calibration_end
    if calibration_end is None:
        msg = "a calibration end is required to hold out the orders after it"
        raise ValidationError(msg, [FieldError(("calibration_end",), msg)])
    if holdout_end <= calibration_end:
        msg = "the holdout end must be after the calibration end"
        raise ValidationError(msg, [FieldError(("holdout_end",), msg)])
    unit = options.unit
    orders = source.table("orders")
    rfm = clv_summary(orders, observation_end=holdout_end, calibration_end=calibration_end, time_unit=unit, tz=tz)
    rows = _fetch(source, distinct_rows(rfm, [*KEYS, "frequency_holdout", "duration_holdout"]))
    if rows["n_customers"].size == 0:
        raise UnusableInputError("no customers with orders before the calibration end")
    data, w = {k: rows[k] for k in KEYS}, rows["n_customers"]
    pen = options.penalizer
    fitted = {name: cls(penalizer=pen).fit(data, weights=w) for name, cls in TRANSACTION_MODELS.items()}
    chosen = fitted[options.model]
    predicted = chosen.expected_purchases(rows["duration_holdout"], rows["frequency"], rows["recency"], rows["T"])
    by_frequency = conditional_expectations_by_frequency(
        chosen,
        rows["frequency"],
        rows["recency"],
        rows["T"],
        rows["duration_holdout"],
        rows["frequency_holdout"],
        w,
        max_frequency=max_frequency,
    )
    return ClvReport(
        calibration_end=calibration_end,
        holdout_end=holdout_end,
        time_unit=options.time_unit,
        comparison=model_comparison(list(fitted.values())),
        by_frequency=by_frequency,
        errors=holdout_errors(rows["frequency_holdout"], predicted, w),
        tracking=_tracking(source, orders, chosen, rows, calibration_end, holdout_end, unit, tz),
        model_name=options.model,
    )


def _tracking(
    source: AnalyticalSource,
    orders: ir.Table,
    model: TransactionModel,
    rows: dict[str, np.ndarray],
    calibration_end: date,
    holdout_end: date,
    unit: UnitCode,
    tz: str,
) -> list[dict[str, Any]]:
    """The engine counts the cohort's repeat purchases per week; ``core.clv.checking`` does the curve."""
    days_per_unit = UNIT_DAYS[unit]
    start = tracking_start(calibration_end, rows["T"], days_per_unit)
    repeat = repeat_purchase_days(orders, start=start, end=holdout_end, tz=tz)
    cohort_end = (calibration_end - start).days
    repeat = repeat.filter((repeat.first_day <= cohort_end) & (repeat.day > repeat.first_day))
    week = (repeat.day.cast("float64") / 7.0).floor().cast("int64")
    per_week = _fetch(source, repeat.group_by(week.name("week")).aggregate(n=repeat.count().cast("float64")))
    return tracking_curve(
        model,
        rows["T"],
        rows["n_customers"],
        days_per_unit=days_per_unit,
        start=start,
        calibration_end=calibration_end,
        holdout_end=holdout_end,
        week=per_week["week"],
        count=per_week["n"],
    )
