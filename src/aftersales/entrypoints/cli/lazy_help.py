"""Help text computed when ``--help`` is asked for, so building the command tree stays cheap.

``aftersales metrics --help`` lists every metric by name, from ``core.metrics.registry.METRICS`` (the
one list). The registry builds Ibis expressions, so it is imported only when that help is printed:
importing it while the command tree is built would cost every command, ``aftersales --help``
included, the Ibis import (bench/bench_startup.py).
"""

from __future__ import annotations

from typing import Any

from typer.core import TyperCommand

__all__ = ["MetricNamesCommand"]


class MetricNamesCommand(TyperCommand):
    """A command whose help ends with the metric names and descriptions (``*``: in the scorecard)."""

    def format_epilog(self, ctx: Any, formatter: Any) -> None:
        from aftersales.core.metrics.registry import METRICS, SCORECARD

        with formatter.section("Metrics (* in the scorecard)"):
            formatter.write_dl(
                [(f"{name}{' *' if name in SCORECARD else ''}", spec.description) for name, spec in METRICS.items()]
            )
        super().format_epilog(ctx, formatter)
