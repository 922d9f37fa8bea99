"""``aftersales journeys simulate|start|enrollments|remove``: the journey runtime's commands, added to
the ``journeys`` group (docs/journeys.md, "The engine: workers, leases, time").

* ``simulate NAME --days 90``: who would get what and when, on the store as it is, writing nothing
  (``--start DATE`` replays the store's history from that day instead of previewing from now);
* ``start NAME [--segment S]``: enroll a segment's current members at once (default: the journey's
  audience);
* ``enrollments NAME``: the journey's enrollments; ``remove NAME ENROLLMENT``: take a customer out.
"""

from __future__ import annotations

from dataclasses import asdict
from datetime import UTC, datetime, time
from typing import Any

import typer

from aftersales.entrypoints.cli.options import DbOption, FormatOption, parse_date
from aftersales.entrypoints.cli.render import OutputFormat, print_json, render_records

__all__ = ["register"]

NameArgument = typer.Argument(..., help="The journey's name (or its id, jny_...).")


def simulate(
    name: str = NameArgument,
    days: int = typer.Option(90, "--days", min=1, max=3650, help="How many days to run."),
    start: str | None = typer.Option(
        None, "--start", help="Replay from this day (YYYY-MM-DD, 00:00 UTC) instead of previewing from now."
    ),
    sample: int = typer.Option(20, "--sample", min=0, max=10_000, help="How many of the first messages to list."),
    db: str | None = DbOption,
    fmt: OutputFormat = FormatOption,
) -> None:
    """Preview a journey on the store: messages per day and step, and a sample (nothing is written or sent)."""
    from aftersales import bootstrap
    from aftersales.bootstrap import journeys as wiring

    day = parse_date(start, "start")
    at = datetime.combine(day, time(0), UTC) if day is not None else None
    bootstrap.init_store(db)
    sim = wiring.simulate_journey(name, days, db=db, start=at, sample=sample)
    if fmt == OutputFormat.json:
        print_json(asdict(sim))
        return
    summary = {
        "journey": sim.journey,
        "from": sim.start,
        "to": sim.end,
        "trigger facts": sim.candidates,
        "enter": sim.enrolled,
        "held out": sim.held_out,
        "left out (audience, re-entry)": sim.skipped,
        "running now, continued": sim.continued,
        "messages": sim.effects,
        "completed": sim.completed,
        "exited": ", ".join(f"{k} {v:,}" for k, v in sorted(sim.exited.items())) or "none",
        "still running at the end": sim.active_at_end,
    }
    render_records([{"": k, "value": v} for k, v in summary.items()], fmt, title=f"Simulation of {sim.journey}")
    steps = sorted({s for day_counts in sim.per_day.values() for s in day_counts})
    per_day = [{"day": d, **{s: counts.get(s, 0) for s in steps}} for d, counts in sim.per_day.items()]
    if per_day:
        render_records(per_day, fmt, title="Messages per day and step")
    if sim.sample:
        render_records([_effect(e) for e in sim.sample], fmt, title="The first messages")
    if fmt == OutputFormat.table:
        for note in sim.notes:
            print(f"note: {note}")


def _effect(e: Any) -> dict[str, Any]:
    return {"at": e.at, "customer_id": e.customer_id, "step": e.step_id, "kind": e.kind, "what": e.what,
            "variant": e.variant}  # fmt: skip


def start(
    name: str = NameArgument,
    segment: str | None = typer.Option(None, "--segment", help="The segment (default: the journey's audience)."),
    key: str = typer.Option("start", "--key", help="Names this start: the same key never enrolls anyone twice."),
    db: str | None = DbOption,
) -> None:
    """Enroll a segment's current members into an active journey at once (re-entry and holdout apply)."""
    from aftersales import bootstrap
    from aftersales.bootstrap import journeys as wiring

    bootstrap.init_store(db)
    done = wiring.start_journey(name, segment=segment, key=key, db=db)
    print(
        f"journey {name!r}: {done.members:,} members of the segment; {done.enrolled:,} entered, "
        f"{done.held_out:,} held out, {done.skipped:,} left out (re-entry, audience, started before)"
    )


def enrollments(
    name: str = NameArgument,
    status: str | None = typer.Option(None, "--status", help="active, completed, exited or held_out."),
    limit: int = typer.Option(100, "--limit", min=1, max=100_000, help="At most this many rows."),
    db: str | None = DbOption,
    fmt: OutputFormat = FormatOption,
) -> None:
    """The journey's enrollments: customer, arm, status, step, next wake, exit reason."""
    from aftersales import bootstrap
    from aftersales.services.operational.journeys.enrollments import enrollments_page

    bootstrap.init_store(db)
    page = enrollments_page(bootstrap.unit_of_work(db), name, status=status, limit=limit)
    columns = ("enrollment_id", "customer_id", "arm", "status", "step_id", "wake_at", "entered_at", "exit_reason")
    render_records([{c: e[c] for c in columns} for e in page["items"]], fmt, title=f"Enrollments of {name}")


def remove(
    name: str = NameArgument,
    enrollment_id: str = typer.Argument(..., help="The enrollment (enr_...)."),
    db: str | None = DbOption,
) -> None:
    """Take a customer out of a journey: the enrollment ends and its queued messages are cancelled."""
    from aftersales import bootstrap
    from aftersales.services.operational.journeys.enrollments import remove as remove_enrollment

    bootstrap.init_store(db)
    done = remove_enrollment(bootstrap.unit_of_work(db), name, enrollment_id, datetime.now(UTC))
    print(f"enrollment {done.enrollment_id} removed from journey {name!r}")


def register(app: typer.Typer) -> None:
    from aftersales.entrypoints.cli.journeys import journeys_app

    journeys_app.command("simulate")(simulate)
    journeys_app.command("start")(start)
    journeys_app.command("enrollments")(enrollments)
    journeys_app.command("remove")(remove)
