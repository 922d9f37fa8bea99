"""``aftersales demo``: the main job, end to end on the embedded store."""

from __future__ import annotations

import sys

import typer

from aftersales.core.urls import mask_url
from aftersales.entrypoints.cli.options import DbOption, FormatOption
from aftersales.entrypoints.cli.progress import progress
from aftersales.entrypoints.cli.render import OutputFormat, print_json, render_records


def demo(
    customers: int = typer.Option(20_000, "--customers", "-n", min=100, help="Customers in the demo store."),
    seed: int = typer.Option(7, "--seed", help="Random seed of the demo store."),
    out: str = typer.Option("demo-store", "--out", help="Folder for the generated files."),
    journeys: bool = typer.Option(
        True, "--journeys/--no-journeys", help="Also run three shipped journeys over the store's last eight weeks."
    ),
    db: str | None = DbOption,
    fmt: OutputFormat = FormatOption,
) -> None:
    """Generate a demo store, import it into the store (./aftersales.db by default), print its headline numbers,
    then run three after-sale journeys on it (e-mails to a local outbox) and their holdout report."""
    from aftersales import bootstrap

    with progress(bar=False) as bar:
        task = bar.add_task("demo", total=None)
        result = bootstrap.demo(
            customers=customers,
            seed=seed,
            out=out,
            db=db,
            journeys=journeys,
            on_step=lambda s: bar.update(task, description=s),
        )
    if fmt == OutputFormat.json:
        print_json({"imports": result.import_records(), **result.summary})
        return
    render_records(result.import_records(), fmt, title=f"demo store: generated into {out}/ and imported")
    render_records(
        result.summary["revenue_by_month"], fmt, title="revenue by month (returns and cancellations excluded)"
    )
    render_records(result.summary["scorecard"], fmt, title="retention scorecard, latest complete month")
    if "journeys_sent" in result.summary:
        render_records(
            result.summary["journeys_sent"], fmt, title=f"journeys over the last 8 weeks (e-mails in {out}/outbox/)"
        )
        if result.summary["journeys_report"]:
            render_records(result.summary["journeys_report"], fmt, title="journey vs holdout, 30 days after entry")
        for note in result.summary["journeys_notes"]:
            print(f"note: {note}")
    sys.stdout.flush()
    steps = ", ".join(f"{k} {v:.1f} s" for k, v in result.step_seconds.items())
    print(f"\ndone in {result.seconds:.1f} s ({steps}); store: {mask_url(bootstrap.database_url(db))}", file=sys.stderr)
    print(
        f"next: aftersales outbox --dir {out}/outbox | aftersales journeys list | aftersales metrics --help | "
        "aftersales serve",
        file=sys.stderr,
    )


def register(app: typer.Typer) -> None:
    app.command("demo")(demo)
