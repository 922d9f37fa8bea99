"""``aftersales journeys report`` and ``GET /v1/journeys/{ref}/report``: a journey's proof, wired to
the store (its definition and enrollments) and an analytical source (orders and facts)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING

from aftersales.bootstrap import open_source, store_engine

if TYPE_CHECKING:
    from aftersales.core.experiments.corrections import Correction
    from aftersales.services.analytical.journey_report import JourneyReport

__all__ = ["journey_report"]


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
    from aftersales.adapters.sql.journey_exposures import read_exposures
    from aftersales.adapters.sql.repositories import unit_of_work_factory
    from aftersales.core.journeys import parse_journey
    from aftersales.services.analytical.journey_report import journey_report as report
    from aftersales.services.operational.journeys.definitions import get

    store = store_engine(db)
    try:
        stored = get(lambda: unit_of_work_factory(store)(), ref)
        exposures = read_exposures(store, stored.journey_id)
    finally:
        store.dispose()
    journey = parse_journey(stored.definition)
    with open_source(source, engine, db=db) as src:
        return report(
            src,
            exposures,
            journey,
            as_of=as_of or datetime.now(UTC),
            window_days=window_days,
            include_immature=include_immature,
            correction=correction,
        )
