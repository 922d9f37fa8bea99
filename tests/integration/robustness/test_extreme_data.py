"""Data at the edges (found by schemathesis): clear input errors, never an internal error."""

from __future__ import annotations

import pytest

from aftersales import bootstrap
from aftersales.adapters.engines import open_source
from aftersales.core.errors import ConvergenceError, ValidationError
from aftersales.services.metrics import scorecard


def _store(tmp_path, ordered_at: str) -> str:
    db = f"sqlite:///{tmp_path / 'a.db'}"
    path = tmp_path / "o.csv"
    path.write_text(f"order_id,customer_id,ordered_at,revenue\no1,c1,{ordered_at},0\n")
    assert bootstrap.import_file("orders", str(path), db=db, create_missing_customers=True).inserted == 1
    return db


@pytest.mark.parametrize("ordered_at", ["9999-12-31T23:59:59Z", "0001-01-01T00:00:00Z"])
def test_time_stamps_at_the_ends_of_the_calendar(tmp_path, ordered_at):
    db = _store(tmp_path, ordered_at)
    with pytest.raises(ValidationError, match="too close to year 1 or 9999"), open_source(db) as source:
        scorecard(source)
    with pytest.raises(ValidationError, match="too close to year 1 or 9999"):
        bootstrap.refresh_scores(db)


def test_one_customer_cannot_identify_a_model(tmp_path):
    db = _store(tmp_path, "2024-05-01T10:00:00Z")
    with pytest.raises(ConvergenceError, match="cannot identify the model") as info:
        bootstrap.refresh_scores(db)
    assert info.value.http_status == 422
