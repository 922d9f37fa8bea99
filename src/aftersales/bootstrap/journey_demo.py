"""The act part of ``aftersales demo``: three shipped journeys run over the demo store's last weeks.

The templates ``post-purchase-thanks``, ``review-request`` (both on ``order.delivered``) and
``product-registration`` are applied as they ship, activated ``weeks`` before the store's end, and
the real worker (triggers, holdout, steps, the e-mail channel with consent, quiet hours and caps)
runs on a manual clock in ``step`` increments up to the end: the store's own history of deliveries
and registrations enrolls customers as if the journeys had been live then. E-mails go to the demo's
local outbox (one .eml file per message, ``aftersales outbox --dir``), never to a mail server.

The generator's customers do not read e-mail, so the holdout report should find no lift: the
printed report shows what the comparison looks like, and that the engine does not invent one.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from aftersales.bootstrap import get_settings, unit_of_work

__all__ = ["DEMO_JOURNEYS", "JourneyDemo", "run_demo_journeys"]

DEMO_JOURNEYS = ("post-purchase-thanks", "review-request", "product-registration")


@dataclass(frozen=True)
class JourneyDemo:
    start: datetime
    end: datetime
    rounds: int
    outbox: Path
    sent: list[dict[str, Any]]
    report: list[dict[str, Any]]
    notes: tuple[str, ...]
    seconds: float


def _sent_rows(uow: Any, names: Sequence[str]) -> list[dict[str, Any]]:
    from aftersales.services.operational.journeys import definitions

    rows = []
    for name in names:
        j = definitions.get(uow, name)
        enrolled = sum(j.enrollments.values()) if j.enrollments else 0
        messages = j.messages or {}
        rows.append(
            {
                "journey": name,
                "enrolled": enrolled,
                "held out": (j.enrollments or {}).get("held_out", 0),
                "sent": messages.get("sent", 0),
                "queued": messages.get("queued", 0),
                "skipped (consent, caps)": messages.get("skipped", 0) + messages.get("suppressed", 0),
                "failed or unknown": messages.get("failed", 0) + messages.get("unknown", 0),
            }
        )
    return rows


def _report_rows(names: Sequence[str], db: str | None, end: datetime) -> tuple[list[dict[str, Any]], list[str]]:
    from aftersales.bootstrap.journey_reports import journey_reports

    rows: list[dict[str, Any]] = []
    notes: list[str] = []
    for name, result in zip(names, journey_reports(names, db=db, as_of=end), strict=True):
        if result.holdout is None:
            notes.append(f"{name}: {'; '.join(result.notes) or 'nothing to compare yet'}")
            continue
        for r in result.holdout.records():
            if r["metric"] in ("converted", "revenue"):
                rows.append(
                    {
                        "journey": name,
                        "metric": r["metric"],
                        "journey mean": r["mean"],
                        "holdout mean": r["control_mean"],
                        "lift": _pct(r["lift"]),
                        "95% interval": f"{_pct(r['ci_low'])} to {_pct(r['ci_high'])}",
                        "p (Holm)": r["p_value"],
                        "customers": f"{r['n']:,} vs {r['control_n']:,}",
                    }
                )
    return rows, notes


def _pct(x: float) -> str:
    return "-" if x != x else f"{x:+.1%}"  # NaN: the metric is undefined (nobody converted in either arm)


def run_demo_journeys(
    *,
    db: str | None,
    end: datetime,
    outbox: Path,
    weeks: int = 8,
    step: timedelta = timedelta(hours=12),
    names: Sequence[str] = DEMO_JOURNEYS,
) -> JourneyDemo:
    """Apply ``names`` (shipped templates) ``weeks`` before ``end`` and run the worker to ``end``."""
    from aftersales.bootstrap.journeys import journey_worker
    from aftersales.services.clock import ManualClock
    from aftersales.services.operational.journeys import definitions
    from aftersales.services.operational.journeys.templates import get_template

    t0 = time.perf_counter()
    start = end - timedelta(weeks=weeks)
    # The demo's e-mails go to its own outbox, as fast as the worker makes them (a real transport
    # keeps the settings' send rate).
    settings = get_settings().model_copy(
        update={
            "email_transport": "outbox",
            "outbox_dir": str(outbox),
            "outbox_fsync": False,
            "send_rate_per_s": 100_000.0,
        }
    )
    uow = unit_of_work(db)
    clock = ManualClock(start)
    for name in names:
        definitions.apply(uow, get_template(name).journey, clock=clock)
    handle = journey_worker(uow, clock=clock, settings=settings)
    rounds = 0
    try:
        while clock.now() < end:
            handle.worker.run_once(clock.now())
            rounds += 1
            clock.advance(step)
    finally:
        handle.close()
    report, notes = _report_rows(names, db, end)
    notes.append(
        "the demo's customers are simulated and do not read e-mail: no lift is expected, and none should be found"
    )
    return JourneyDemo(
        start, end, rounds, outbox, _sent_rows(uow, names), report, tuple(notes), time.perf_counter() - t0
    )
