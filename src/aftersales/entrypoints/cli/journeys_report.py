"""``aftersales journeys report NAME``: every journey proves itself (docs/journeys.md, "Proving a journey").

Journey vs holdout, then each split's variants: conversions to the goal, revenue per enrolled
customer, repeat purchase and churn over the report window, with intervals, p-values (Holm-corrected
by default), and the sample-ratio check, from the experiment engine.
"""

from __future__ import annotations

from dataclasses import asdict
from datetime import UTC, datetime, time
from typing import Any

import typer

from aftersales.entrypoints.cli.experiment import Correction
from aftersales.entrypoints.cli.options import DbOption, EngineOption, FormatOption, SourceOption, parse_date
from aftersales.entrypoints.cli.render import OutputFormat, print_json, render_records

__all__ = ["register"]


def report(
    name: str = typer.Argument(..., help="The journey's name (or its id, jny_...)."),
    window: int | None = typer.Option(
        None, "--window", min=1, max=3650, help="Days after entry to count (default: the goal's 'within')."
    ),
    as_of: str | None = typer.Option(None, "--as-of", help="Report as of this day (YYYY-MM-DD; default: now)."),
    include_immature: bool = typer.Option(
        False, "--include-immature", help="Also count customers whose window has not ended yet."
    ),
    correction: Correction = typer.Option(Correction.holm, "--correction", help="Multiple testing: holm, bh or none."),
    source: str | None = SourceOption,
    engine: str | None = EngineOption,
    db: str | None = DbOption,
    fmt: OutputFormat = FormatOption,
) -> None:
    """Journey vs holdout and each split: conversions, revenue per enrolled, repeat purchase, churn."""
    from aftersales import bootstrap
    from aftersales.bootstrap.journey_reports import journey_report

    day = parse_date(as_of, "as_of")
    at = datetime.combine(day, time(0), UTC) if day is not None else None
    bootstrap.init_store(db)
    result = journey_report(
        name,
        db=db,
        source=source,
        engine=engine,
        as_of=at,
        window_days=window,
        include_immature=include_immature,
        correction=correction.value,
    )
    if fmt == OutputFormat.json:
        print_json(
            {
                **{k: v for k, v in asdict(result).items() if k not in ("holdout", "splits", "arms")},
                "arms": [asdict(a) for a in result.arms],
                "splits": {s: [asdict(a) for a in arms] for s, (arms, _) in result.splits.items()},
                "comparisons": result.records(),
            }
        )
        return
    title = (
        f"{result.journey}: goal {result.goal} within {result.window_days} days, as of {result.as_of:%Y-%m-%d} "
        f"({result.matured:,} enrollments compared, holdout share {result.holdout_share:.0%})"
    )
    render_records([_arm(a) for a in result.arms], fmt, title=title)
    for step, (arms, _) in result.splits.items():
        render_records([_arm(a) for a in arms], fmt, title=f"split {step}: its variants")
    rows = result.records(brief=True)
    if rows:
        render_records(rows, fmt, title="Lift, interval and p-value per metric (experiment engine)")
    if fmt == OutputFormat.table:
        for note in result.notes:
            print(f"note: {note}")


def _arm(a: Any) -> dict[str, Any]:
    return {
        "arm": a.arm,
        "enrolled": a.enrolled,
        "converted": a.converted,
        "conversion": a.conversion_rate,
        "revenue / enrolled": a.revenue_per_enrolled,
        "repeat purchase": a.repeat_purchase_rate,
        "churn": a.churn_rate,
    }


def register(app: typer.Typer) -> None:
    from aftersales.entrypoints.cli.journeys import journeys_app

    journeys_app.command("report")(report)
