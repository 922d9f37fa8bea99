"""``aftersales experiment power|analyze``: size an A/B test; analyse its results."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path

import typer

from aftersales.core.errors import UnusableInputError
from aftersales.entrypoints.cli.options import FormatOption
from aftersales.entrypoints.cli.render import OutputFormat, render_records

experiment_app = typer.Typer(help="Prove what worked: A/B tests and holdouts.", no_args_is_help=True)


class Method(StrEnum):
    frequentist = "frequentist"
    sequential = "sequential"
    bayesian = "bayesian"


class Correction(StrEnum):
    holm = "holm"
    bh = "bh"
    none = "none"


class Alternative(StrEnum):
    two_sided = "two-sided"
    greater = "greater"
    less = "less"


@experiment_app.command("power")
def power(
    baseline: float = typer.Option(..., "--baseline", help="Baseline rate (or mean, with --sd)."),
    mde: float = typer.Option(None, "--mde", help="Minimum detectable effect (absolute unless --relative)."),
    n: float = typer.Option(None, "--n", help="Units per variant: report the detectable effect instead."),
    relative: bool = typer.Option(False, "--relative", help="--mde is relative to the baseline."),
    alpha: float = typer.Option(0.05, "--alpha", help="Significance level (two-sided)."),
    power_: float = typer.Option(0.8, "--power", help="Power (1 - β)."),
    variants: int = typer.Option(2, "--variants", help="Variants including the control (α split over K-1)."),
    sd: float = typer.Option(None, "--sd", help="Unit standard deviation: size a test of means."),
    fmt: OutputFormat = FormatOption,
) -> None:
    """Sample size per variant (or the minimum detectable effect for a given n)."""
    from aftersales.services.analytical.experiments import plan_power

    report = plan_power(baseline, mde=mde, n=n, relative=relative, alpha=alpha, power=power_, variants=variants, sd=sd)
    render_records(report.records(brief=fmt == OutputFormat.table), fmt, title="Sample size")


@experiment_app.command("analyze")
def analyze(
    stats: Path = typer.Option(None, "--stats", help="CSV/Parquet of summary statistics (first variant: control)."),
    outcomes: Path = typer.Option(
        None, "--outcomes", help="CSV/Parquet of per-customer outcomes (customer_id, variant, …)."
    ),
    method: Method = typer.Option(Method.frequentist, "--method", help="frequentist, sequential or bayesian."),
    correction: Correction = typer.Option(Correction.none, "--correction", help="Multiple testing: holm, bh or none."),
    alpha: float = typer.Option(0.05, "--alpha", help="1 - confidence level."),
    absolute: bool = typer.Option(False, "--absolute", help="Report absolute lift (default: relative)."),
    alternative: Alternative = typer.Option(Alternative.two_sided, "--alternative", help="two-sided, greater, less."),
    tuning: float = typer.Option(5000.0, "--sequential-tuning", help="N*: sample size where the sequence is tightest."),
    control: str = typer.Option(None, "--control", help="Control variant (default: first listed / 'control')."),
    cap: float = typer.Option(None, "--cap", help="Outcomes: winsorise each metric at this upper quantile."),
    cap_lower: float = typer.Option(None, "--cap-lower", help="Outcomes: winsorise at this lower quantile."),
    ignore_zeros: bool = typer.Option(False, "--cap-ignore-zeros", help="Outcomes: capping quantiles over non-zeros."),
    fmt: OutputFormat = FormatOption,
) -> None:
    """Lift, interval and p-value (or chance to win) per metric × variant, with the SRM check."""
    from aftersales import bootstrap
    from aftersales.core.experiments.analysis import AnalysisOptions
    from aftersales.services.analytical import experiments as service

    if (stats is None) == (outcomes is None):
        raise UnusableInputError("give exactly one of --stats FILE or --outcomes FILE")
    opt = AnalysisOptions(method.value, correction.value, alpha, not absolute, alternative.value, tuning)
    if stats is not None:
        report = service.analyze_summary(bootstrap.read_experiment_stats(stats), opt, control=control)
    else:
        with bootstrap.read_experiment_outcomes(outcomes) as source:
            report = service.analyze_outcomes(
                source, opt, control=control, cap_upper=cap, cap_lower=cap_lower, cap_ignore_zeros=ignore_zeros
            )
    render_records(
        report.records(brief=fmt == OutputFormat.table),
        fmt,
        title=f"Experiment ({method.value}, control {report.control!r})",
    )


def register(app: typer.Typer) -> None:
    app.add_typer(experiment_app, name="experiment")
