"""``aftersales refresh``: rebuild every customer's profile, store the CLV scores, refresh segment memberships.

One command for the whole analytical refresh (``clv refresh`` is its alias, kept for its old
summary). The profiles are computed in the engine from the store (``--db``) or from ``--source``
files / another engine, and always written to the store. ``--as-of DAY`` builds them as of the start
of that day in the reporting zone (default: now). The summary says how many profiles were written,
whether the predictive columns were computed (and why not), and how long each step took.
"""

from __future__ import annotations

from typing import Any

import typer

from aftersales.entrypoints.cli.options import DbOption, EngineOption, FormatOption, SourceOption, parse_date
from aftersales.entrypoints.cli.render import OutputFormat, print_json, render_records

AsOfOption = typer.Option(
    None, "--as-of", help="Build the profiles as of the start of this day (YYYY-MM-DD; default: now)."
)


def summary_rows(summary: dict[str, Any]) -> list[dict[str, Any]]:
    """The table form of a refresh summary: one (step, value) row per figure."""
    scores, segments = summary["scores"], summary["segments"]
    rows: list[dict[str, Any]] = [
        {"item": "profiles written", "value": summary["profiles_written"]},
        {"item": "as of", "value": summary["now"]},
        {"item": "customers with orders", "value": summary["customers_with_orders"]},
        {"item": "repeat customers", "value": summary["repeat_customers"]},
        {"item": "order history (days)", "value": summary["span_days"]},
        {"item": "predictive columns", "value": summary["predictive"]},
    ]
    if summary["predictive_note"]:
        rows.append({"item": "predictive note", "value": summary["predictive_note"]})
    if scores is not None:
        rows.append({"item": "CLV scores stored", "value": scores["n_scored"]})
    else:
        rows.append({"item": "CLV scores not stored", "value": summary["scores_note"]})
    if segments is not None:
        rows.append({"item": "segments refreshed", "value": segments.get("refreshed", 0)})
        rows += [{"item": f"segment skipped: {k}", "value": v} for k, v in segments.get("skipped", {}).items()]
    rows += [
        {"item": f"time: {k.removesuffix('_s')} (s)", "value": round(v, 2)} for k, v in summary["timings_s"].items()
    ]
    return rows


def refresh(
    db: str | None = DbOption,
    as_of: str | None = AsOfOption,
    source: str | None = SourceOption,
    engine: str | None = EngineOption,
    fmt: OutputFormat = FormatOption,
) -> None:
    """Rebuild customer profiles, store CLV scores and refresh segment memberships."""
    import time

    from aftersales import bootstrap

    day = parse_date(as_of, "as_of")
    started = time.perf_counter()
    result = bootstrap.refresh(db, as_of=day, source=source, engine=engine)
    summary = result.as_dict()
    summary["timings_s"]["total_s"] = time.perf_counter() - started
    if fmt == OutputFormat.json:
        print_json(summary)
    else:
        render_records(summary_rows(summary), fmt, title="Refresh done")


def register(app: typer.Typer) -> None:
    app.command("refresh")(refresh)
