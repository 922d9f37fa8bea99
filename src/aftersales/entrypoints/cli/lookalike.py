"""``aftersales lookalike report``: what sets the high-value customers apart, how well the propensity model
ranks on a time-based holdout, and the below-average customers most likely to move up (docs/lookalike.md).

``--as-of DAY`` is the observation end: 00:00 of that day in the reporting time zone (the contract's
reading of a date); without it, the current time. ``--format json`` prints the whole report,
``--format csv`` the trait table.
"""

from __future__ import annotations

import sys
from datetime import UTC, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

import typer

from aftersales.entrypoints.cli.options import DbOption, EngineOption, FormatOption, SourceOption, parse_date
from aftersales.entrypoints.cli.render import OutputFormat, print_json, render_records

lookalike_app = typer.Typer(help="Who looks like the high-value customers, and who is likely to join them.")
SHOWN_TRAITS = 15


def _now(as_of: str | None, tz: str) -> datetime:
    day = parse_date(as_of, "as_of")
    if day is None:
        return datetime.now(UTC)  # entry points read the clock; the service is given now
    return datetime.combine(day, time(0), tzinfo=ZoneInfo(tz)).astimezone(UTC)


def _trait_row(t: Any) -> dict[str, Any]:
    share = t.kind == "share"
    ci = f"{100 * t.difference_low:+.1f} to {100 * t.difference_high:+.1f}" if share else None
    return {
        "trait": t.trait,
        "group": t.group,
        "high_value": f"{t.high:.1%}" if share else round(t.high, 2),
        "rest": f"{t.rest:.1%}" if share else round(t.rest, 2),
        "smd": round(t.smd, 3),
        "difference_points_95ci": ci,
        "risk_ratio": round(t.risk_ratio, 2) if t.risk_ratio is not None else None,
    }


@lookalike_app.command("report")
def report(
    db: str | None = DbOption,
    source: str | None = SourceOption,
    engine: str | None = EngineOption,
    as_of: str | None = typer.Option(None, "--as-of", help="Observation end, YYYY-MM-DD (default: now)."),
    horizon: int = typer.Option(365, "--horizon", help="Days ahead the model looks (and between cut-offs)."),
    top_share: float = typer.Option(0.2, "--top-share", help="Share of customers in the top CLV tier (0.2 = 20%)."),
    fmt: OutputFormat = FormatOption,
) -> None:
    """Profile the top CLV tier, check the lookalike model on a time-based holdout, list upgrade candidates."""
    from aftersales import bootstrap
    from aftersales.core.lookalike.options import LookalikeOptions

    now = _now(as_of, bootstrap.settings().reporting_timezone)
    options = LookalikeOptions(horizon_days=horizon, top_share=top_share)
    result = bootstrap.lookalike_report(now, options=options, source=source, engine=engine, db=db)
    if fmt == OutputFormat.json:
        print_json(result.as_dict())
    elif fmt == OutputFormat.csv:
        render_records([_trait_row(t) for t in result.traits], fmt)
    else:
        _tables(result)
    for note in result.notes:
        print(f"note: {note}", file=sys.stderr)


def _tables(result: Any) -> None:
    title = (
        f"Top {result.top_share:.0%} CLV tier at {result.now.date()}: {result.high_value:,} of {result.customers:,} "
        f"customers (trailing-year revenue from {result.threshold:,.2f})"
    )
    render_records([{"what sets them apart": s} for s in result.summary], title=title)
    render_records([_trait_row(t) for t in result.traits[:SHOWN_TRAITS]], title="Traits by standardised difference")
    check = result.check
    if check is not None:
        rows = [
            {"customers": name, "n": m.n, "positives": m.positives, "auc": m.auc, "top_decile_lift": m.top_decile_lift,
             "brier": m.brier}
            for name, m in (("all", check.holdout), ("not yet in the tier", check.upgrade)) if m is not None
        ]  # fmt: skip
        caption = (
            f"Holdout: trained on features at {check.train_cutoff.date()} -> tier at {check.test_cutoff.date()}, "
            f"tested on features at {check.test_cutoff.date()} -> tier at {result.now.date()} ({check.calibration})"
        )
        render_records(rows, title=caption)
        cal = [vars(r) for r in check.holdout.calibration]
        render_records(cal, title="Calibration by score decile (mean predicted vs observed)")
    if result.candidates:
        render_records([vars(c) for c in result.candidates], title="Below-average customers most likely to move up")


def register(app: typer.Typer) -> None:
    app.add_typer(lookalike_app, name="lookalike")
