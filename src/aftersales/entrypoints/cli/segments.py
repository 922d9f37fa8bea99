"""``aftersales segments create|list|show|preview|members|sizes|delete``: saved segments (docs/segments.md).

A definition is the text form (``--where``). A bad one exits 2 with the whole message: the line and
column with a caret under the problem, and the valid fields (the CLI's one-line error would cut
the excerpt and the list). Members and sizes are those stored by the last ``aftersales refresh``;
``preview`` evaluates a definition now, on the store's profiles, and saves nothing.
"""

from __future__ import annotations

import sys
from typing import Any

import typer

from aftersales.entrypoints.cli.options import DbOption, EngineOption, FormatOption, SourceOption
from aftersales.entrypoints.cli.render import OutputFormat, print_json, render_records

segments_app = typer.Typer(
    help="Saved segments: define, preview, list, inspect members and sizes.", no_args_is_help=True
)

WhereOption = typer.Option(
    ...,
    "--where",
    help="The condition in the text form, e.g. \"clv_tier = 'above_average' and email_consent\" (docs/segments.md).",
)
NameArgument = typer.Argument(..., help="The segment's name (or its id, seg_...).")


def _run(call: Any) -> Any:
    """Run ``call``; a bad definition is printed in full (excerpt and valid fields) with exit code 2."""
    from aftersales.core.segments import DefinitionError

    try:
        return call()
    except DefinitionError as exc:
        print(f"error: --where: {exc}", file=sys.stderr)
        raise typer.Exit(2) from None


def _summary(segment: Any) -> dict[str, Any]:
    return {
        "name": segment.name,
        "segment_id": segment.segment_id,
        "size": segment.size,
        "refreshed_at": segment.refreshed_at,
        "where": segment.where,
    }


@segments_app.command("create")
def create(
    name: str = typer.Argument(..., help="A name unique among the live segments."),
    where: str = WhereOption,
    description: str | None = typer.Option(None, "--description", help="What the segment is for."),
    db: str | None = DbOption,
) -> None:
    """Save a segment; its members are computed by the next `aftersales refresh`."""
    from aftersales import bootstrap
    from aftersales.services.operational import segments

    bootstrap.init_store(db)
    made = _run(lambda: segments.create(bootstrap.unit_of_work(db), name, where=where, description=description))
    print(f"segment {made.name!r} created ({made.segment_id}): {made.where}")
    print("its members are stored by the next `aftersales refresh`", file=sys.stderr)


@segments_app.command("list")
def list_(db: str | None = DbOption, fmt: OutputFormat = FormatOption) -> None:
    """List the live segments with their size at the last refresh."""
    from aftersales import bootstrap
    from aftersales.services.operational import segments

    bootstrap.init_store(db)
    page = segments.list_segments(bootstrap.unit_of_work(db))
    render_records([_summary(s) for s in page["items"]], fmt, title="Segments")


@segments_app.command("show")
def show(name: str = NameArgument, db: str | None = DbOption, fmt: OutputFormat = FormatOption) -> None:
    """One segment: its definition in both spellings, description, size and last refresh."""
    from dataclasses import asdict

    from aftersales import bootstrap
    from aftersales.services.operational import segments

    bootstrap.init_store(db)
    segment = segments.get(bootstrap.unit_of_work(db), name)
    if fmt == OutputFormat.json:
        print_json(asdict(segment))
        return
    row = {**_summary(segment), "description": segment.description, "created_at": segment.created_at}
    render_records([{"field": k, "value": v} for k, v in row.items()], fmt, title=f"Segment {segment.name}")


@segments_app.command("preview")
def preview(
    where: str = WhereOption,
    limit: int = typer.Option(10, "--limit", min=0, max=1000, help="How many members to show (the first by id)."),
    db: str | None = DbOption,
    source: str | None = SourceOption,
    engine: str | None = EngineOption,
    fmt: OutputFormat = FormatOption,
) -> None:
    """Count a definition's members now and show a sample, without saving anything."""
    from aftersales import bootstrap
    from aftersales.services.operational import segments

    with bootstrap.open_source(source, engine, db=db) as src:
        result = _run(lambda: segments.preview(src, where=where, limit=limit))
    if fmt == OutputFormat.json:
        print_json({"count": result.count, "total": result.total, "where": result.where, "sample": result.sample})
        return
    if fmt == OutputFormat.table:
        print(f"{result.count:,} of {result.total:,} customers: {result.where}")
        if result.sample:
            render_records(result.sample, fmt, title=f"first {len(result.sample)} by customer id")
        return
    render_records(result.sample, fmt)


@segments_app.command("members")
def members(
    name: str = NameArgument,
    limit: int = typer.Option(100, "--limit", min=1, max=1_000_000, help="How many members to list (by id)."),
    db: str | None = DbOption,
    fmt: OutputFormat = FormatOption,
) -> None:
    """The segment's current members (as stored by the last refresh), in customer id order."""
    from aftersales import bootstrap
    from aftersales.services.operational import segments

    bootstrap.init_store(db)
    uow = bootstrap.unit_of_work(db)
    segment = segments.get(uow, name)
    page = segments.members_page(uow, segment.segment_id, limit=limit)
    render_records(page["items"], fmt, title=f"Members of {segment.name}")
    if page["next_cursor"] is not None:
        print(f"showing the first {limit:,} of {segment.size or 0:,} members (--limit for more)", file=sys.stderr)


@segments_app.command("sizes")
def sizes(name: str = NameArgument, db: str | None = DbOption, fmt: OutputFormat = FormatOption) -> None:
    """The segment's size after each refresh, with how many entered and exited."""
    from aftersales import bootstrap
    from aftersales.services.operational import segments

    bootstrap.init_store(db)
    uow = bootstrap.unit_of_work(db)
    segment = segments.get(uow, name)
    rows: list[dict[str, Any]] = []
    cursor = None
    while True:
        page = segments.sizes_page(uow, segment.segment_id, limit=1000, cursor=cursor)
        rows += page["items"]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    render_records(rows, fmt, title=f"Sizes of {segment.name}")


@segments_app.command("delete")
def delete(name: str = NameArgument, db: str | None = DbOption) -> None:
    """Delete a segment: it is no longer listed or refreshed; its membership history is kept."""
    from aftersales import bootstrap
    from aftersales.services.operational import segments

    bootstrap.init_store(db)
    gone = segments.delete(bootstrap.unit_of_work(db), name)
    print(f"segment {gone.name!r} deleted ({gone.segment_id})")


def register(app: typer.Typer) -> None:
    app.add_typer(segments_app, name="segments")
