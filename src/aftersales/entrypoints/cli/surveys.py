"""``aftersales surveys validate|apply|list|show|archive|preview|report|themes|drivers|remeasure``
(docs/surveys.md).

Surveys are YAML files kept in git, like journeys: ``validate`` checks them (one line per problem:
``file:line:column: path: message``, exit 2), ``apply`` stores each (a new version only when it
changed). The analysis commands read ``survey_responses`` from the store, or from ``--source``.
Sending (the journey ``survey`` step, ``surveys send``) is not here yet.
"""

from __future__ import annotations

import sys
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import typer

from aftersales.entrypoints.cli.options import DbOption, EngineOption, FormatOption, SourceOption, parse_date
from aftersales.entrypoints.cli.render import OutputFormat, print_json, render_records

__all__ = ["register", "surveys_app"]

surveys_app = typer.Typer(
    help="Surveys: NPS, CSAT, CES and review surveys defined in YAML files; reports, themes and drivers.",
    no_args_is_help=True,
)
FilesArgument = typer.Argument(..., help="Survey files (YAML, or JSON).", show_default=False)
NameArgument = typer.Argument(..., help="The survey's name (or its id, srv_...).")
SurveyOption = typer.Option(None, "--survey", help="Only this survey (its name, as in survey_responses.survey_id).")
FromOption = typer.Option(None, "--from", help="First day (YYYY-MM-DD).")
ToOption = typer.Option(None, "--to", help="Day after the last (YYYY-MM-DD).")
TzOption = typer.Option("UTC", "--tz", help="Time zone of the days and periods.")


def _problems(exc: Any) -> list[str]:
    """One line per problem: ``file:line:column: path: message``."""
    lines = []
    for error in exc.errors or ():
        where, _, message = error.message.partition(": ")
        path = "/".join(str(p) for p in error.loc)
        lines.append(f"{where}: {path}: {message}" if path and message and where.count(":") >= 2 else error.message)
    return lines or [str(exc)]


def _read_all(files: list[Path]) -> list[Any]:
    """Every file's survey, or exit 2 after printing every problem of every file."""
    from aftersales.core.errors import ValidationError
    from aftersales.services.operational.surveys import definitions

    surveys: list[Any] = []
    problems: list[str] = []
    seen: dict[str, Path] = {}
    for path in files:
        try:
            survey = definitions.parse_document(path.read_text(encoding="utf-8"), source=str(path))
        except (OSError, UnicodeDecodeError) as exc:
            problems.append(f"{path}: cannot read the file ({exc})")
            continue
        except ValidationError as exc:
            problems += _problems(exc)
            continue
        if survey.name in seen:
            problems.append(f"{path}: survey {survey.name!r} is also defined in {seen[survey.name]}")
        seen[survey.name] = path
        surveys.append(survey)
    if problems:
        for line in problems:
            print(f"error: {line}", file=sys.stderr)
        raise typer.Exit(2)
    return surveys


@surveys_app.command("validate")
def validate(files: list[Path] = FilesArgument) -> None:
    """Check survey files (nothing is stored)."""
    for path, survey in zip(files, _read_all(files), strict=True):
        print(f"{path}: {survey.kind} survey {survey.name!r} is valid ({len(survey.dimensions)} follow-up questions)")


@surveys_app.command("apply")
def apply(files: list[Path] = FilesArgument, db: str | None = DbOption) -> None:
    """Store each survey: create it, or a new version when the file changed (nothing when it did not)."""
    from aftersales import bootstrap
    from aftersales.services.operational.surveys import definitions

    surveys = _read_all(files)
    bootstrap.init_store(db)
    uow = bootstrap.unit_of_work(db)
    for survey in surveys:
        done = definitions.apply(uow, survey, now=datetime.now(UTC))
        s = done.survey
        if done.outcome == "created":
            print(f"survey {s.name!r} created ({s.survey_id}), version 1")
        elif done.outcome == "changed":
            print(f"survey {s.name!r} changed: version {done.previous_version} -> {s.version}")
        else:
            print(f"survey {s.name!r} unchanged (version {s.version})")


def _summary(s: Any) -> dict[str, Any]:
    return {"name": s.name, "kind": s.kind, "status": s.status, "version": s.version, "updated_at": s.updated_at}


@surveys_app.command("list")
def list_(db: str | None = DbOption, fmt: OutputFormat = FormatOption) -> None:
    """List the surveys with their kind, status and version."""
    from aftersales import bootstrap
    from aftersales.services.operational.surveys import definitions

    bootstrap.init_store(db)
    render_records([_summary(s) for s in definitions.list_surveys(bootstrap.unit_of_work(db))], fmt, title="Surveys")


@surveys_app.command("show")
def show(name: str = NameArgument, db: str | None = DbOption, fmt: OutputFormat = FormatOption) -> None:
    """One survey: its sends by status and its definition."""
    from aftersales import bootstrap
    from aftersales.services.operational.surveys import definitions

    bootstrap.init_store(db)
    survey = definitions.get(bootstrap.unit_of_work(db), name)
    if fmt == OutputFormat.json:
        print_json(asdict(survey))
        return
    sends = ", ".join(f"{k} {v:,}" for k, v in sorted(survey.sends.items())) or "none"
    rows = {**_summary(survey), "survey_id": survey.survey_id, "sends": sends}
    render_records([{"field": k, "value": v} for k, v in rows.items()], fmt, title=f"Survey {survey.name}")
    if fmt == OutputFormat.table:
        import json

        print(json.dumps(survey.definition, indent=2, ensure_ascii=False))


@surveys_app.command("archive")
def archive(name: str = NameArgument, db: str | None = DbOption) -> None:
    """Close a survey for good: no new sends; its links say it is closed (answers stay)."""
    from aftersales import bootstrap
    from aftersales.services.operational.surveys import definitions

    bootstrap.init_store(db)
    print(f"survey {definitions.archive(bootstrap.unit_of_work(db), name, now=datetime.now(UTC)).name!r} archived")


@surveys_app.command("preview")
def preview(
    name: str = NameArgument,
    locale: str = typer.Option("en", "--locale", help="The language to preview (e.g. de, de_CH)."),
    db: str | None = DbOption,
) -> None:
    """Print a link to the survey's page that stores nothing (valid for a day; AFTERSALES_PUBLIC_URL)."""
    from aftersales import bootstrap
    from aftersales.services.operational.surveys import definitions

    bootstrap.init_store(db)
    uow = bootstrap.unit_of_work(db)
    survey = definitions.get(uow, name)
    from aftersales.bootstrap.surveys import survey_links

    print(survey_links(uow).preview_url(survey.survey_id, survey.version, locale, datetime.now(UTC)))


def _kinds(src: Any, survey: str | None) -> list[str]:
    t = src.table("survey_responses")
    t = t.filter(t.survey_id == survey) if survey else t
    return [r["kind"] for r in src.execute(t.select("kind").distinct().order_by("kind"))]


@surveys_app.command("report")
def report(
    survey: str | None = SurveyOption,
    kind: str | None = typer.Option(None, "--kind", help="nps, csat or ces (default: every kind answered)."),
    period: str = typer.Option("month", "--period", help="day, week, month, quarter or year."),
    start: str | None = FromOption,
    end: str | None = ToOption,
    tz: str = TzOption,
    by_survey: bool = typer.Option(False, "--by-survey", help="One series per survey."),
    source: str | None = SourceOption,
    engine: str | None = EngineOption,
    db: str | None = DbOption,
    fmt: OutputFormat = FormatOption,
) -> None:
    """Response rates per survey (from the store's sends), then score trends with 95% intervals."""
    from aftersales import bootstrap
    from aftersales.services.analytical import surveys as analysis

    if source is None:
        bootstrap.init_store(db)
        rates = [asdict(r) for r in analysis.response_rates(bootstrap.unit_of_work(db))]
        if fmt == OutputFormat.table:
            render_records(rates, fmt, title="Response rates (answered / sent, 95% Wilson interval)")
    else:
        rates = []
    first, until = parse_date(start, "from"), parse_date(end, "to")
    points: list[dict[str, Any]] = []
    with bootstrap.open_source(source, engine, db=db) as src:
        for k in [kind] if kind else [k for k in _kinds(src, survey) if k in analysis.SCORE_KINDS]:
            trend = analysis.score_trends(
                src, k, survey=survey, period=period, start=first, end=until, tz=tz, by_survey=by_survey
            )
            points += [asdict(p) for p in trend]
    if fmt == OutputFormat.table:
        render_records(points, fmt, title="Scores per period (95% intervals)")
    elif fmt == OutputFormat.json:
        print_json({"response_rates": rates, "trends": points})
    else:
        render_records(points, fmt)


@surveys_app.command("themes")
def themes(
    survey: str | None = SurveyOption,
    kind: str | None = typer.Option(None, "--kind", help="Only comments on answers of this kind."),
    count: int = typer.Option(8, "--themes", "-k", help="How many themes to find."),
    seed: int = typer.Option(0, "--seed", help="Seed of the factorisation (results are deterministic)."),
    period: str = typer.Option("month", "--period", help="Periods of each theme's trend."),
    start: str | None = FromOption,
    end: str | None = ToOption,
    tz: str = TzOption,
    source: str | None = SourceOption,
    engine: str | None = EngineOption,
    db: str | None = DbOption,
    fmt: OutputFormat = FormatOption,
) -> None:
    """Themes in the comments: top terms, count, share, average score, sentiment, examples, trend."""
    from aftersales import bootstrap
    from aftersales.services.analytical.surveys_text import comment_themes

    with bootstrap.open_source(source, engine, db=db) as src:
        found = comment_themes(
            src, survey=survey, kind=kind, start=parse_date(start, "from"), end=parse_date(end, "to"), tz=tz,
            n_themes=count, seed=seed, period=period,
        )  # fmt: skip
    rows = [asdict(t) for t in found.themes]
    if fmt != OutputFormat.table:
        render_records(rows, fmt)
        return
    brief = [
        {
            "theme": ", ".join(t.terms[:5]),
            "comments": t.comments,
            "share": f"{t.share:.0%}",
            "avg score": t.average_score,
            "sentiment": t.sentiment,
            "example": t.representatives[0] if t.representatives else "",
        }
        for t in found.themes
    ]
    render_records(brief, fmt, title=f"Themes in {found.comments:,} comments ({found.unthemed:,} without a theme)")


@surveys_app.command("drivers")
def drivers(
    survey: str = typer.Argument(..., help="The survey (its name, as in survey_responses.survey_id)."),
    dimension: list[str] | None = typer.Option(None, "--dimension", help="Only these dimensions (repeat)."),
    start: str | None = FromOption,
    end: str | None = ToOption,
    tz: str = TzOption,
    source: str | None = SourceOption,
    engine: str | None = EngineOption,
    db: str | None = DbOption,
    fmt: OutputFormat = FormatOption,
) -> None:
    """How much each follow-up dimension explains the overall score (regression with 95% intervals)."""
    from aftersales import bootstrap
    from aftersales.services.analytical.surveys_drivers import survey_drivers

    with bootstrap.open_source(source, engine, db=db) as src:
        found = survey_drivers(
            src, survey, dimensions=dimension or None, start=parse_date(start, "from"), end=parse_date(end, "to"), tz=tz
        )
    d = found.drivers
    rows = [
        {k: getattr(c, k) for k in ("name", "estimate", "std_error", "ci_low", "ci_high", "p_value", "share")}
        for c in (*d.coefficients, d.intercept)
    ]
    if fmt == OutputFormat.json:
        print_json({"survey": survey, "n": d.n, "incomplete": found.incomplete, "r_squared": d.r_squared,
                    "terms": rows, "summary": d.summary()})  # fmt: skip
        return
    render_records(rows, fmt, title=f"Drivers of {survey}'s overall score (R² {d.r_squared:.2f}, n {d.n:,})")
    if fmt == OutputFormat.table:
        for line in d.summary():
            print(line)
        if found.incomplete:
            print(f"note: {found.incomplete:,} responses left out (a dimension unanswered)")


@surveys_app.command("remeasure")
def remeasure(
    kind: str = typer.Argument(..., help="nps, csat or ces."),
    before: str = typer.Option(..., "--before", help="The first period, FROM:TO (TO exclusive)."),
    after: str = typer.Option(..., "--after", help="The second period, FROM:TO."),
    survey: str | None = SurveyOption,
    tz: str = TzOption,
    source: str | None = SourceOption,
    engine: str | None = EngineOption,
    db: str | None = DbOption,
    fmt: OutputFormat = FormatOption,
) -> None:
    """The change in a score between two periods, with its 95% interval (experiment engine)."""
    from aftersales import bootstrap
    from aftersales.services.analytical import surveys as analysis

    def span(text: str, name: str) -> tuple[Any, Any]:
        a, _, b = text.partition(":")
        first, until = parse_date(a, name), parse_date(b, name)
        if first is None or until is None:
            from aftersales.core.errors import FieldError, ValidationError

            message = f"{text!r} is not a period FROM:TO such as 2025-01-01:2025-04-01"
            raise ValidationError(f"--{name}: {message}", [FieldError((name,), message)])
        return first, until

    with bootstrap.open_source(source, engine, db=db) as src:
        r = analysis.remeasure(src, kind, span(before, "before"), span(after, "after"), survey=survey, tz=tz)
    row = {"kind": kind, "before": r.before.value, "after": r.after.value, "change": r.change,
           "ci_low": r.ci_low, "ci_high": r.ci_high, "p_value": r.p_value,
           "before_n": r.before.responses, "after_n": r.after.responses}  # fmt: skip
    render_records([row], fmt, title="Remeasure")
    if fmt == OutputFormat.table:
        print(r.plain())


def register(app: typer.Typer) -> None:
    app.add_typer(surveys_app, name="surveys")
