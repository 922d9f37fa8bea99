"""``aftersales journeys report`` and ``GET /v1/journeys/{ref}/report``: a journey's proof, wired to
the store (its definition and enrollments) and an analytical source (orders and facts)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from aftersales.bootstrap import open_source, store_engine

if TYPE_CHECKING:
    from aftersales.core.experiments.corrections import Correction
    from aftersales.services.analytical.journey_report import JourneyReport

__all__ = ["journey_report", "journey_reports"]


def journey_report(
    ref: str,
    *,
    db: str | None = None,
    source: str | None = None,
    engine: str | None = None,
    as_of: datetime | None = None,
    window_days: int | None = None,
    include_immature: bool = False,
    correction: Correction = "holm",
) -> JourneyReport:
    """The report of journey ``ref`` (name or id) as of ``as_of`` (default: now): journey vs holdout and
    each split, from the store ``db`` (orders and facts from ``source``, default the store)."""
    (report,) = journey_reports(
        [ref],
        db=db,
        source=source,
        engine=engine,
        as_of=as_of,
        window_days=window_days,
        include_immature=include_immature,
        correction=correction,
    )
    return report


def journey_reports(
    refs: Sequence[str],
    *,
    db: str | None = None,
    source: str | None = None,
    engine: str | None = None,
    as_of: datetime | None = None,
    window_days: int | None = None,
    include_immature: bool = False,
    correction: Correction = "holm",
) -> list[JourneyReport]:
    """:func:`journey_report` for several journeys, reading the store's orders and facts once."""
    from aftersales.adapters.sql.journey_exposures import read_exposures
    from aftersales.adapters.sql.repositories import unit_of_work_factory
    from aftersales.core.journeys import parse_journey
    from aftersales.services.analytical.journey_report import journey_report as report
    from aftersales.services.operational.journeys.definitions import get

    store = store_engine(db)
    try:
        uow = unit_of_work_factory(store)
        stored = [get(uow, ref) for ref in refs]
        exposures = [read_exposures(store, s.journey_id) for s in stored]
    finally:
        store.dispose()
    at = as_of or datetime.now(UTC)
    with open_source(source, engine, db=db) as src:
        return [
            report(
                src,
                e,
                parse_journey(s.definition),
                as_of=at,
                window_days=window_days,
                include_immature=include_immature,
                correction=correction,
            )
            for s, e in zip(stored, exposures, strict=True)
        ]
