"""``aftersales clv fit|predict|report|refresh``: predictive CLV and churn models on the store or any source.

The choices (models, spend models, time units) come from ``core.clv.options``; every command builds one
:class:`~aftersales.core.clv.options.ClvOptions` and hands it to bootstrap or the service.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

from aftersales.core.clv.options import ClvOptions, ModelName, SpendModel, TimeUnit
from aftersales.entrypoints.cli.options import DbOption, EngineOption, FormatOption, SourceOption, parse_date
from aftersales.entrypoints.cli.render import OutputFormat, print_json, render_records

clv_app = typer.Typer(help="Predict who is still a customer, what each will buy and is worth.", no_args_is_help=True)

ModelOption = typer.Option("bgnbd", "--model", help="Purchase model.")
SpendOption = typer.Option("gammagamma", "--spend", help="Spend model (none: own mean spend).")
HorizonOption = typer.Option(52.0, "--horizon", help="CLV horizon in time units.")
DiscountOption = typer.Option(0.10, "--discount", help="Annual discount rate (0.10 = 10%).")
MarginOption = typer.Option(1.0, "--margin", help="Profit margin applied to spend (0–1).")
UnitOption = typer.Option("week", "--time-unit", help="Time unit of recency, T and the horizon.")
CalibrationOption = typer.Option(None, "--calibration-end", help="Last day of the fitting period (YYYY-MM-DD).")
PenalizerOption = typer.Option(0.0, "--penalizer", help="L2 penalty on the parameters (0: plain MLE).")
OutFormatOption = typer.Option(
    None, "--out-format", help="Format of the --out file: parquet, csv or jsonl (default: from its extension)."
)


def _emit(obj: dict[str, Any], rows: list[dict[str, Any]], fmt: OutputFormat, title: str) -> None:
    if fmt == OutputFormat.json:
        print_json(obj)
    else:
        render_records(rows, fmt, title=title)


def _tz() -> str:
    from aftersales import bootstrap

    return bootstrap.settings().reporting_timezone


@clv_app.command("fit")
def fit(
    db: str | None = DbOption,
    source: str | None = SourceOption,
    engine: str | None = EngineOption,
    model: ModelName = ModelOption,
    calibration_end: str | None = CalibrationOption,
    time_unit: TimeUnit = UnitOption,
    penalizer: float = PenalizerOption,
    fmt: OutputFormat = FormatOption,
) -> None:
    """Fit a purchase model on the orders up to the calibration end and show its parameters."""
    from aftersales import bootstrap
    from aftersales.services.analytical import clv as service

    end = parse_date(calibration_end, "calibration_end")
    options = ClvOptions(model=model, calibration_end=end, time_unit=time_unit, penalizer=penalizer)
    with bootstrap.open_source(source, engine, db=db) as src:
        result = service.fit_clv(src, options, tz=_tz())
    report = result.as_dict()
    title = f"{model} on {report['n_customers']:,} customers, LL {report['log_likelihood']:.1f}"
    _emit(report, result.model.summary(), fmt, title)


@clv_app.command("predict")
def predict(
    out: Path = typer.Option(..., "--out", help="File for the per-customer scores (.parquet, .csv or .jsonl)."),
    out_format: str | None = OutFormatOption,
    db: str | None = DbOption,
    source: str | None = SourceOption,
    engine: str | None = EngineOption,
    model: ModelName = ModelOption,
    spend: SpendModel = SpendOption,
    horizon: float = HorizonOption,
    discount: float = DiscountOption,
    margin: float = MarginOption,
    calibration_end: str | None = CalibrationOption,
    time_unit: TimeUnit = UnitOption,
    penalizer: float = PenalizerOption,
    fmt: OutputFormat = FormatOption,
) -> None:
    """Score every customer (p_alive, expected purchases and spend, CLV, risk tier) into --out."""
    from aftersales import bootstrap

    end = parse_date(calibration_end, "calibration_end")
    options = ClvOptions(
        model=model,
        spend=spend,
        horizon=horizon,
        discount=discount,
        margin=margin,
        calibration_end=end,
        time_unit=time_unit,
        penalizer=penalizer,
    )
    result = bootstrap.predict_clv(options, out=out, out_format=out_format, source=source, engine=engine, db=db)
    obj = result.as_dict()
    flat = {k: v for k, v in obj.items() if not isinstance(v, dict)}
    flat |= {f"customers at {k} risk": v for k, v in result.tiers.items()}
    rows = [{"metric": k, "value": v} for k, v in flat.items()]
    _emit(obj, rows, fmt, f"scores written to {out}")


@clv_app.command("report")
def report(
    calibration_end: str = typer.Option(..., "--calibration-end", help="Last day of calibration (YYYY-MM-DD)."),
    holdout_end: str = typer.Option(..., "--holdout-end", help="Last day of the holdout (YYYY-MM-DD)."),
    db: str | None = DbOption,
    source: str | None = SourceOption,
    engine: str | None = EngineOption,
    model: ModelName = ModelOption,
    time_unit: TimeUnit = UnitOption,
    penalizer: float = PenalizerOption,
    fmt: OutputFormat = FormatOption,
) -> None:
    """Calibration/holdout check: model comparison, expectations by frequency, errors, tracking."""
    from aftersales import bootstrap
    from aftersales.services.analytical import clv as service

    cal, hold = parse_date(calibration_end, "calibration_end"), parse_date(holdout_end, "holdout_end")
    assert hold is not None  # a required option
    options = ClvOptions(model=model, calibration_end=cal, time_unit=time_unit, penalizer=penalizer)
    with bootstrap.open_source(source, engine, db=db) as src:
        result = service.report_clv(src, options, holdout_end=hold, tz=_tz())
    if fmt == OutputFormat.json:
        _emit(result.as_dict(), [], fmt, "")
        return
    render_records(result.comparison, fmt, title="model comparison (lower BIC is better)")
    render_records(result.by_frequency, fmt, title=f"{model}: holdout purchases by calibration frequency")
    render_records([result.errors], fmt, title="holdout errors")


@clv_app.command("refresh")
def refresh(
    db: str | None = DbOption,
    model: ModelName = ModelOption,
    spend: SpendModel = SpendOption,
    horizon: float = HorizonOption,
    discount: float = DiscountOption,
    margin: float = MarginOption,
    time_unit: TimeUnit = UnitOption,
    fmt: OutputFormat = FormatOption,
) -> None:
    """Alias of ``aftersales refresh`` that prints the stored CLV scores' summary: fit on the store's
    orders, store every customer's score (clv_scores), queue churn-risk webhooks; the profiles and
    segment memberships are refreshed too (the options also set the profiles' predictive columns)."""
    from aftersales import bootstrap

    options = ClvOptions(
        model=model, spend=spend, horizon=horizon, discount=discount, margin=margin, time_unit=time_unit
    )
    refreshed = bootstrap.refresh(db, options=options, strict_scores=True)
    result = refreshed.scores
    obj = result.as_dict() | {"profiles_written": refreshed.profiles.written}
    flat = {k: v for k, v in obj.items() if not isinstance(v, dict)}
    flat |= {f"customers at {k} risk": v for k, v in result.risk_tiers.items()} | result.params
    _emit(obj, [{"metric": k, "value": v} for k, v in flat.items()], fmt, "CLV scores refreshed")


def register(app: typer.Typer) -> None:
    app.add_typer(clv_app, name="clv")
