"""``aftersales clv fit|predict|report``: predictive CLV and churn models on any source."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date
from enum import StrEnum
from pathlib import Path
from typing import Any

import typer

from aftersales.core.errors import ValidationError
from aftersales.entrypoints.cli.options import DbOption, FormatOption
from aftersales.entrypoints.cli.render import OutputFormat, render_records, to_jsonable
from aftersales.services import clv as service

clv_app = typer.Typer(help="Predict who is still a customer, what each will buy and is worth.", no_args_is_help=True)


class Model(StrEnum):
    bgnbd = "bgnbd"
    mbgnbd = "mbgnbd"
    paretonbd = "paretonbd"


class Unit(StrEnum):
    day = "day"
    week = "week"


class Spend(StrEnum):
    gammagamma = "gammagamma"
    none = "none"


SourceOption = typer.Option(..., "--source", help="Orders source: a DB URL, a folder of <table>.parquet|.csv, a file.")
EngineOption = typer.Option(None, "--engine", help="duckdb, sqlite, postgres or spark (default: from the source).")
ModelOption = typer.Option(Model.bgnbd, "--model", help="Purchase model.")
UnitOption = typer.Option(Unit.week, "--time-unit", help="Time unit of recency, T and the horizon.")
CalibrationOption = typer.Option(None, "--calibration-end", help="Last day of the fitting period (YYYY-MM-DD).")
PenalizerOption = typer.Option(0.0, "--penalizer", help="L2 penalty on the parameters (0: plain MLE).")


def _date(text: str | None, flag: str) -> date | None:
    if text is None:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise ValidationError(f"{flag} {text!r}: expected a date such as 1997-09-30") from None


@contextmanager
def _opened(source: str, engine: str | None) -> Iterator[Any]:
    from aftersales import bootstrap

    with bootstrap.open_source(source, engine) as src:
        yield src


def _emit(obj: dict[str, Any], rows: list[dict[str, Any]], fmt: OutputFormat, title: str) -> None:
    if fmt == OutputFormat.json:
        print(json.dumps(to_jsonable(obj), indent=2))
    else:
        render_records(rows, fmt, title=title)


def _run(source: str, engine: str | None, call: Callable[[Any], Any]) -> Any:
    with _opened(source, engine) as src:
        return call(src)


@clv_app.command("fit")
def fit(
    source: str = SourceOption,
    engine: str | None = EngineOption,
    model: Model = ModelOption,
    calibration_end: str | None = CalibrationOption,
    time_unit: Unit = UnitOption,
    penalizer: float = PenalizerOption,
    fmt: OutputFormat = FormatOption,
) -> None:
    """Fit a purchase model on the orders up to the calibration end and show its parameters."""
    end = _date(calibration_end, "--calibration-end")
    args = dict(model=model, calibration_end=end, time_unit=time_unit, penalizer=penalizer)
    result = _run(source, engine, lambda s: service.fit_clv(s, **args))
    report = result.as_dict()
    title = f"{model} on {report['n_customers']:,} customers, LL {report['log_likelihood']:.1f}"
    _emit(report, result.model.summary(), fmt, title)


@clv_app.command("predict")
def predict(
    source: str = SourceOption,
    out: Path = typer.Option(..., "--out", help="Parquet file for the per-customer scores."),
    engine: str | None = EngineOption,
    model: Model = ModelOption,
    spend: Spend = typer.Option(Spend.gammagamma, "--spend", help="Spend model (none: own mean spend)."),
    horizon: float = typer.Option(52.0, "--horizon", help="CLV horizon in time units."),
    discount: float = typer.Option(0.10, "--discount", help="Annual discount rate (0.10 = 10%)."),
    margin: float = typer.Option(1.0, "--margin", help="Profit margin applied to spend (0–1)."),
    calibration_end: str | None = CalibrationOption,
    time_unit: Unit = UnitOption,
    penalizer: float = PenalizerOption,
    fmt: OutputFormat = FormatOption,
) -> None:
    """Score every customer (p_alive, expected purchases and spend, CLV, risk tier) into --out."""
    end = _date(calibration_end, "--calibration-end")
    spend_model = None if spend == Spend.none else spend.value
    kwargs = dict(model=model, spend=spend_model, horizon=horizon, discount=discount, margin=margin)
    kwargs |= dict(calibration_end=end, time_unit=time_unit, penalizer=penalizer)
    result = _run(source, engine, lambda s: service.predict_clv(s, out=out, **kwargs))
    obj = result.as_dict()
    flat = {k: v for k, v in obj.items() if not isinstance(v, dict)}
    flat |= {f"customers at {k} risk": v for k, v in result.tiers.items()}
    rows = [{"metric": k, "value": v} for k, v in flat.items()]
    _emit(obj, rows, fmt, f"scores written to {out}")


@clv_app.command("report")
def report(
    source: str = SourceOption,
    calibration_end: str = typer.Option(..., "--calibration-end", help="Last day of calibration (YYYY-MM-DD)."),
    holdout_end: str = typer.Option(..., "--holdout-end", help="Last day of the holdout (YYYY-MM-DD)."),
    engine: str | None = EngineOption,
    model: Model = ModelOption,
    time_unit: Unit = UnitOption,
    penalizer: float = PenalizerOption,
    fmt: OutputFormat = FormatOption,
) -> None:
    """Calibration/holdout check: model comparison, expectations by frequency, errors, tracking."""
    cal, hold = _date(calibration_end, "--calibration-end"), _date(holdout_end, "--holdout-end")
    args = dict(calibration_end=cal, holdout_end=hold, model=model, time_unit=time_unit, penalizer=penalizer)
    result = _run(source, engine, lambda s: service.report_clv(s, **args))
    obj = result.as_dict()
    if fmt == OutputFormat.json:
        _emit(obj, [], fmt, "")
        return
    render_records(result.comparison, fmt, title="model comparison (lower BIC is better)")
    render_records(result.by_frequency, fmt, title=f"{model}: holdout purchases by calibration frequency")
    render_records([result.errors], fmt, title="holdout errors")


@clv_app.command("refresh")
def refresh(
    db: str | None = DbOption,
    model: Model = ModelOption,
    spend: Spend = typer.Option(Spend.gammagamma, "--spend", help="Spend model (none: own mean spend)."),
    horizon: float = typer.Option(52.0, "--horizon", help="CLV horizon in time units."),
    discount: float = typer.Option(0.10, "--discount", help="Annual discount rate (0.10 = 10%)."),
    margin: float = typer.Option(1.0, "--margin", help="Profit margin applied to spend (0–1)."),
    time_unit: Unit = UnitOption,
    fmt: OutputFormat = FormatOption,
) -> None:
    """Fit on the store's orders, store every customer's score (clv_scores), queue churn-risk webhooks."""
    from aftersales import bootstrap

    kwargs = dict(model=model.value, spend=None if spend == Spend.none else spend.value, horizon=horizon)
    result = bootstrap.refresh_scores(db, discount=discount, margin=margin, time_unit=time_unit.value, **kwargs)
    obj = result.as_dict()
    flat = {k: v for k, v in obj.items() if not isinstance(v, dict)}
    flat |= {f"customers at {k} risk": v for k, v in result.risk_tiers.items()} | result.params
    _emit(obj, [{"metric": k, "value": v} for k, v in flat.items()], fmt, "CLV scores refreshed")


def register(app: typer.Typer) -> None:
    app.add_typer(clv_app, name="clv")
