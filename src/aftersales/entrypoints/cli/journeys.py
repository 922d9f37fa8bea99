"""``aftersales journeys validate|apply|list|show|pause|resume|archive|init`` (docs/journeys.md).

Journeys are YAML files kept in git; ``validate`` checks them, ``apply`` stores each (a new version
when it changed, nothing when not). A bad file exits 2 with one line per problem, each naming the
file, line and column and the path in the document (``journeys/x.yaml:12:5: steps/2/duration:
...``); ``apply`` checks every file before it writes any.

The group is :data:`journeys_app`: other modules add their commands to it (``simulate``,
``report``) by importing it and decorating, in their own ``register(app)``.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path
from typing import Any

import typer

from aftersales.entrypoints.cli.options import DbOption, FormatOption
from aftersales.entrypoints.cli.render import OutputFormat, print_json, render_records

__all__ = ["journeys_app", "register"]

journeys_app = typer.Typer(
    help="Journeys: after-sale automations defined in YAML files (validate, apply, pause, archive, templates).",
    no_args_is_help=True,
)

FilesArgument = typer.Argument(..., help="Journey files (YAML, or JSON).", show_default=False)
NameArgument = typer.Argument(..., help="The journey's name (or its id, jny_...).")
_LOCATED = re.compile(r"^(?P<where>.*?:\d+:\d+): (?P<message>.*)$", re.DOTALL)


def _problems(exc: Any) -> list[str]:
    """One line per problem of a journey file's ``ValidationError``: ``file:line:column: path: message``."""
    lines = []
    for error in exc.errors or ():
        path = "/".join(str(p) for p in error.loc)
        found = _LOCATED.match(error.message)
        if found and path:
            lines.append(f"{found['where']}: {path}: {found['message']}")
        else:
            lines.append(error.message)
    return lines or [str(exc)]


def _read_all(files: list[Path]) -> list[Any]:
    """Every file's journey, or exit 2 after printing every problem of every file."""
    from aftersales.core.errors import ValidationError
    from aftersales.services.operational.journeys import definitions

    journeys, problems = [], []
    for path in files:
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            problems.append(f"{path}: cannot read the file ({exc.strerror if isinstance(exc, OSError) else exc})")
            continue
        try:
            journeys.append(definitions.parse_document(text, source=str(path)))
        except ValidationError as exc:
            problems += _problems(exc)
    seen: dict[str, Path] = {}
    for path, journey in zip(files, journeys, strict=True) if not problems else ():
        if journey.name in seen:
            problems.append(f"{path}: journey {journey.name!r} is also defined in {seen[journey.name]}")
        seen[journey.name] = path
    if problems:
        for line in problems:
            print(f"error: {line}", file=sys.stderr)
        raise typer.Exit(2)
    return journeys


@journeys_app.command("validate")
def validate(files: list[Path] = FilesArgument) -> None:
    """Check journey files against the schema and the rules (nothing is stored)."""
    for path, journey in zip(files, _read_all(files), strict=True):
        print(f"{path}: journey {journey.name!r} is valid ({len(journey.steps)} steps)")


@journeys_app.command("apply")
def apply(
    files: list[Path] = FilesArgument,
    reassign: bool = typer.Option(
        False,
        "--reassign",
        help="Allow a change of the holdout share or of a split's weights: draws a new salt (assignments restart).",
    ),
    paused: bool = typer.Option(False, "--paused", help="Create new journeys paused (`resume` starts them)."),
    db: str | None = DbOption,
) -> None:
    """Store each journey: create it, or a new version when the file changed (nothing when it did not)."""
    from aftersales import bootstrap
    from aftersales.services.operational.journeys import definitions

    journeys = _read_all(files)
    bootstrap.init_store(db)
    uow = bootstrap.unit_of_work(db)
    for journey in journeys:
        done = definitions.apply(uow, journey, reassign=reassign, paused=paused)
        j = done.journey
        if done.outcome == "created":
            print(f"journey {j.name!r} created ({j.journey_id}), version 1, {j.status}")
        elif done.outcome == "changed":
            print(f"journey {j.name!r} changed: version {done.previous_version} -> {j.version}, {j.status}")
        else:
            print(f"journey {j.name!r} unchanged (version {j.version}, {j.status})")
        for note in done.notes:
            print(f"note: {j.name}: {note}", file=sys.stderr)


def _summary(journey: Any) -> dict[str, Any]:
    return {
        "name": journey.name,
        "status": journey.status,
        "version": journey.version,
        "trigger": journey.trigger,
        "activated_at": journey.activated_at,
        "updated_at": journey.updated_at,
    }


@journeys_app.command("list")
def list_(
    status: list[str] | None = typer.Option(None, "--status", help="Only these statuses: active, paused, archived."),
    db: str | None = DbOption,
    fmt: OutputFormat = FormatOption,
) -> None:
    """List the journeys with their status, version and trigger."""
    from aftersales import bootstrap
    from aftersales.services.operational.journeys import definitions

    bootstrap.init_store(db)
    page = definitions.list_journeys(bootstrap.unit_of_work(db), statuses=status or None)
    render_records([_summary(j) for j in page["items"]], fmt, title="Journeys")


@journeys_app.command("show")
def show(name: str = NameArgument, db: str | None = DbOption, fmt: OutputFormat = FormatOption) -> None:
    """One journey: status, version, times, its enrollments and messages by status, and its definition."""
    import json
    from dataclasses import asdict

    from aftersales import bootstrap
    from aftersales.services.operational.journeys import definitions

    bootstrap.init_store(db)
    journey = definitions.get(bootstrap.unit_of_work(db), name)
    if fmt == OutputFormat.json:
        print_json(asdict(journey))
        return
    row = {
        **_summary(journey),
        "journey_id": journey.journey_id,
        "description": journey.description,
        "category": journey.category,
        "created_at": journey.created_at,
        "enrollments": _counts(journey.enrollments),
        "messages": _counts(journey.messages),
    }
    render_records([{"field": k, "value": v} for k, v in row.items()], fmt, title=f"Journey {journey.name}")
    if fmt == OutputFormat.table:
        print(json.dumps(journey.definition, indent=2, ensure_ascii=False))


def _counts(counts: dict[str, int]) -> str:
    return ", ".join(f"{status} {n:,}" for status, n in sorted(counts.items())) or "none"


@journeys_app.command("pause")
def pause(name: str = NameArgument, db: str | None = DbOption) -> None:
    """Pause: nobody new enters and no step advances; queued messages stay queued (resume continues)."""
    from aftersales import bootstrap
    from aftersales.services.operational.journeys import definitions

    bootstrap.init_store(db)
    journey = definitions.pause(bootstrap.unit_of_work(db), name)
    print(f"journey {journey.name!r} paused")


@journeys_app.command("resume")
def resume(name: str = NameArgument, db: str | None = DbOption) -> None:
    """Resume a paused journey: it enrolls and advances again (the first resume activates it)."""
    from aftersales import bootstrap
    from aftersales.services.operational.journeys import definitions

    bootstrap.init_store(db)
    journey = definitions.resume(bootstrap.unit_of_work(db), name)
    print(f"journey {journey.name!r} active")


@journeys_app.command("archive")
def archive(name: str = NameArgument, db: str | None = DbOption) -> None:
    """Archive for good: end its active enrollments and cancel its queued messages (its history stays)."""
    from aftersales import bootstrap
    from aftersales.services.operational.journeys import definitions

    bootstrap.init_store(db)
    done = definitions.archive(bootstrap.unit_of_work(db), name)
    print(
        f"journey {done.journey.name!r} archived: {done.enrollments_ended:,} active enrollments ended, "
        f"{done.messages_cancelled:,} queued messages cancelled"
    )


@journeys_app.command("init")
def init(
    template: str | None = typer.Option(None, "--template", help="The template to copy (none: list them)."),
    directory: Path = typer.Option(Path("journeys"), "--dir", help="Where to write <template>.yaml."),
    force: bool = typer.Option(False, "--force", help="Overwrite a file of that name."),
    fmt: OutputFormat = FormatOption,
) -> None:
    """Start a journey from a shipped template (post-purchase, maintenance, win-back, ...), or list them."""
    from aftersales.core.errors import ConflictError
    from aftersales.services.operational.journeys import templates

    if template is None:
        rows = [{"template": t.name, "description": t.description} for t in templates.list_templates()]
        render_records(rows, fmt, title="Journey templates (aftersales journeys init --template NAME)")
        return
    found = templates.get_template(template)
    target = directory / f"{found.name}.yaml"
    if target.exists() and not force:
        raise ConflictError(f"{target} exists already (--force overwrites it)")
    directory.mkdir(parents=True, exist_ok=True)
    target.write_text(found.text, encoding="utf-8")
    print(f"wrote {target}: edit it, then check it with `aftersales journeys validate {target}` and apply it")


def register(app: typer.Typer) -> None:
    app.add_typer(journeys_app, name="journeys")
