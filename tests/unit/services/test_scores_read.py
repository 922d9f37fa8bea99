"""Reading stored CLV scores on the in-memory unit of work: one customer, and pages by risk tier."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from aftersales.core.errors import NotFoundError, UnusableInputError
from aftersales.services.analytical import scores
from aftersales.services.ports import ScoreRecord

AT = datetime(2024, 3, 1, tzinfo=UTC)


def store_scores(uow, tiers: dict[str, str]) -> None:
    records = [
        ScoreRecord(cid, "bgnbd", date(2024, 2, 29), "weeks", 52.0, 0.5, 1.0, 20.0, 20.0, tier, AT)
        for cid, tier in tiers.items()
    ]
    with uow() as u:
        u.scores.upsert(records)


def test_one_customers_score_or_not_found(uow):
    store_scores(uow, {"c1": "low"})
    assert scores.customer_scores(uow, "c1").risk_tier == "low"
    with pytest.raises(NotFoundError):
        scores.customer_scores(uow, "c2")


def test_pages_of_one_risk_tier_in_customer_order(uow):
    store_scores(uow, {"c4": "high", "c1": "high", "c2": "low", "c3": "high", "c5": "high"})
    first = scores.scores_page(uow, risk_tier="high", limit=3)
    assert [r["customer_id"] for r in first["items"]] == ["c1", "c3", "c4"]
    rest = scores.scores_page(uow, risk_tier="high", limit=3, cursor=first["next_cursor"])
    assert [r["customer_id"] for r in rest["items"]] == ["c5"] and rest["next_cursor"] is None
    with pytest.raises(UnusableInputError):
        scores.scores_page(uow, cursor="%%%")
