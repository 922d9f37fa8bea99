"""``aftersales audiences export|sync|destinations``: a saved segment's audience out to a file or a
webhook destination (docs/audiences.md)."""

from __future__ import annotations

import sys
from enum import StrEnum
from pathlib import Path
from typing import Any

import typer

from aftersales.entrypoints.cli.options import DbOption, FormatOption
from aftersales.entrypoints.cli.render import OutputFormat, render_records

audiences_app = typer.Typer(help="Export or sync a saved segment's audience (consent applied).", no_args_is_help=True)
destinations_app = typer.Typer(help="Webhook destinations that audiences are synced to.", no_args_is_help=True)


class AudienceFormat(StrEnum):
    csv = "csv"
    parquet = "parquet"
    google = "google"
    meta = "meta"


_REASONS = {  # short labels of core.audiences.LEFT_OUT_REASONS (not imported: the CLI loads nothing heavy)
    "no_consent": "no consent",
    "no_identifier": "no e-mail or phone",
    "unparseable_phone": "unparseable phone",
    "invalid_email": "invalid e-mail",
}


def _left_out(left_out: dict[str, int]) -> str:
    total = sum(left_out.values())
    parts = [f"{_REASONS.get(k, k)} {n:,}" for k, n in left_out.items() if n]
    return f"left out {total:,}" + (f" ({', '.join(parts)})" if parts else "")


@audiences_app.command("export")
def export(
    segment: str = typer.Argument(..., help="The saved segment's name or id."),
    fmt: AudienceFormat = typer.Option(
        ...,
        "--format",
        "-f",
        help="csv or parquet (identifiers in clear, for a CRM), google (Customer Match CSV, hashed) "
        "or meta (custom-audience CSV, hashed).",
    ),
    out: Path = typer.Option(..., "--out", "-o", help="The file to write: .csv (csv, google, meta) or .parquet."),
    db: str | None = DbOption,
) -> None:
    """Write the segment's current members whose consent lets an identifier leave; say how many were
    left out and why. A file extension that does not fit --format is refused and nothing is written."""
    from aftersales import bootstrap

    result = bootstrap.export_audience(segment, fmt.value, out, db=db)
    print(
        f"exported {result.rows:,} of {result.members:,} members of segment {result.segment!r} to {result.path} "
        f"({result.fmt}: {result.emails:,} e-mail, {result.phones:,} phone); {_left_out(result.left_out)}"
    )


@audiences_app.command("sync")
def sync(
    segment: str = typer.Argument(..., help="The saved segment's name or id."),
    to: str = typer.Option(..., "--to", help="The destination's name or id (see `audiences destinations list`)."),
    db: str | None = DbOption,
) -> None:
    """Mirror the segment's audience to a webhook destination: signed batches of adds and removes since
    the last acknowledged sync, each with an idempotency key that a retry reuses."""
    from aftersales import bootstrap

    r = bootstrap.sync_audience(segment, to, db=db)
    done = f"sent {r.adds:,} adds and {r.removes:,} removes in {r.batches + r.resent:,} batches"
    if r.resent:
        done += f" ({r.resent:,} resent from an earlier sync)"
    if r.error is not None:
        print(f"{done}; {r.pending:,} batches not acknowledged", file=sys.stderr)
        print(f"error: destination {to!r} did not acknowledge a batch ({r.error}); run the sync again", file=sys.stderr)
        raise typer.Exit(1)
    print(f"{done}; audience {r.audience:,} of {r.members:,} members; {_left_out(r.left_out)}")


def _rows(records: list[Any]) -> list[dict[str, Any]]:
    keys = ("destination_id", "name", "url", "description", "created_at")
    return [{k: getattr(r, k) for k in keys} for r in records]


@destinations_app.command("add")
def add(
    name: str = typer.Argument(..., help="A unique name for the destination."),
    url: str = typer.Option(..., "--url", help="The webhook URL (public http(s); see AFTERSALES_WEBHOOK_ALLOW_HOSTS)."),
    db: str | None = DbOption,
) -> None:
    """Add a destination and print its signing secret once (verify batches with it)."""
    from aftersales import bootstrap

    (record,) = bootstrap.audience_destinations("add", name=name, url=url, db=db)
    print(record.secret)
    print(f"destination {record.destination_id} ({record.name}) added; store the secret now", file=sys.stderr)


@destinations_app.command("list")
def list_(db: str | None = DbOption, fmt: OutputFormat = FormatOption) -> None:
    """List destinations (never their secrets)."""
    from aftersales import bootstrap

    render_records(_rows(bootstrap.audience_destinations("list", db=db)), fmt, title="Audience destinations")


@destinations_app.command("delete")
def delete(name: str = typer.Argument(..., help="The destination's name or id."), db: str | None = DbOption) -> None:
    """Delete a destination and what the store remembers sending it."""
    from aftersales import bootstrap

    (record,) = bootstrap.audience_destinations("delete", name=name, db=db)
    print(f"destination {record.destination_id} ({record.name}) deleted")


def register(app: typer.Typer) -> None:
    audiences_app.add_typer(destinations_app, name="destinations")
    app.add_typer(audiences_app, name="audiences")
