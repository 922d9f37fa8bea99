"""The main job, ``aftersales demo``: generate a store, import it, summarise it, act on it.

The steps are ports (callables) wired by ``bootstrap.demo``: the generator writes files, the
importer loads each contract table through the same path users take (validation, upserts), and the
summary comes from the metrics engine.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from aftersales.core import contract
from aftersales.services.analytical.metrics import compute, scorecard
from aftersales.services.generate import GenerateResult
from aftersales.services.importing import ImportResult
from aftersales.services.ports import AnalyticalSource

__all__ = ["DemoResult", "revenue_by_month", "run_demo", "summarize"]


@dataclass(frozen=True)
class DemoResult:
    generated: GenerateResult
    imports: tuple[ImportResult, ...]
    summary: Mapping[str, Sequence[Mapping[str, Any]]]
    seconds: float
    step_seconds: Mapping[str, float]

    def import_records(self) -> list[dict[str, object]]:
        return [
            {
                "table": r.table,
                "rows": r.read,
                "inserted": r.inserted,
                "updated": r.updated,
                "unchanged": r.unchanged,
                "rejected": r.rejected,
            }
            for r in self.imports
        ]


def run_demo(
    *,
    generate: Callable[[], GenerateResult],
    import_table: Callable[[str, Path], ImportResult],
    summarize: Callable[[], Mapping[str, Sequence[Mapping[str, Any]]]],
    act: Callable[[], Mapping[str, Sequence[Mapping[str, Any]]]] | None = None,
    on_step: Callable[[str], None] | None = None,
) -> DemoResult:
    """Generate, import every contract table the generator wrote (parents first), summarise, then
    (``act``) run the demo's journeys and add their tables to the summary."""
    step = on_step or (lambda _s: None)
    marks = [time.perf_counter()]
    step("generating the demo store")
    generated = generate()
    marks.append(time.perf_counter())
    imports = []
    for name in contract.TABLES:  # the contract lists parents before children
        path = generated.paths.get(name)
        if path is None:
            continue
        step(f"importing {name} ({generated.row_counts.get(name, 0):,} rows)")
        imports.append(import_table(name, path))
    marks.append(time.perf_counter())
    step("computing the headline numbers")
    summary = dict(summarize())
    marks.append(time.perf_counter())
    names = ["generate", "import", "summarize"]
    if act is not None:
        step("running three journeys over the store's last weeks")
        summary.update(act())
        marks.append(time.perf_counter())
        names.append("journeys")
    steps = {k: b - a for k, a, b in zip(names, marks[:-1], marks[1:], strict=True)}
    return DemoResult(generated, tuple(imports), summary, marks[-1] - marks[0], steps)


def revenue_by_month(
    source: AnalyticalSource, *, tz: str = "UTC", months: int = 12, today: date | None = None
) -> list[dict[str, Any]]:
    """The last ``months`` months up to the latest one holding orders: orders, ordering customers,
    revenue, average order value, and whether the month is complete (the latest may be to date).

    Returned and cancelled orders are left out (the metrics' default).
    """
    names = ["average_order_value", "purchase_frequency"]
    res = compute(source, names, period="month", tz=tz, span=months, today=today)
    rows: dict[Any, dict[str, Any]] = {}
    for r in res.records:
        row = rows.setdefault(r["period"], {"month": r["period"], "complete": r["complete"]})
        if r["metric"] == "average_order_value":
            row.update(orders=r["orders"], revenue=r["revenue"], average_order_value=r["value"])
        else:
            row["customers"] = r["customers"]
    order = ("month", "complete", "orders", "customers", "revenue", "average_order_value")
    return [{k: row.get(k) for k in order} for _, row in sorted(rows.items())]


def summarize(
    source: AnalyticalSource, *, tz: str = "UTC", today: date | None = None
) -> dict[str, list[dict[str, Any]]]:
    """The demo's headline: revenue by month (the current month "to date") and the retention scorecard
    of the latest complete month (:func:`scorecard`'s default); each row names its period."""
    result = scorecard(source, period="month", tz=tz, today=today)
    shown = {p.start: p.label for p in result.periods}
    card = [
        {
            "metric": r["metric"],
            "period": shown.get(r["period"], str(r["period"])),
            "complete": r["complete"],
            "value": r["value"],
            "parts": ", ".join(
                f"{k}={_short(v)}"
                for k, v in r.items()
                if k not in ("metric", "period", "segment", "value", "complete")
            ),
        }
        for r in result.records
    ]
    return {"revenue_by_month": revenue_by_month(source, tz=tz, today=today), "scorecard": card}


def _short(v: object) -> str:
    if isinstance(v, float):
        return f"{v:,.2f}"
    if isinstance(v, int):
        return f"{v:,}"
    return str(v)
