"""Data at the edges (found by schemathesis): clear input errors, never an internal error."""

from __future__ import annotations

import pytest

from aftersales import bootstrap
from aftersales.core.errors import ConvergenceError, ValidationError
from aftersales.services.analytical.metrics import scorecard


def _store(tmp_path, ordered_at: str) -> str:
    db = f"sqlite:///{tmp_path / 'a.db'}"
    path = tmp_path / "o.csv"
    path.write_text(f"order_id,customer_id,ordered_at,revenue\no1,c1,{ordered_at},0\n")
    assert bootstrap.import_file("orders", str(path), db=db, create_missing_customers=True).inserted == 1
    return db


@pytest.mark.parametrize("ordered_at", ["9999-12-31T23:59:59Z", "0001-01-01T00:00:00Z", "1899-12-31T23:00:00Z"])
def test_time_stamps_outside_plausible_years_are_rejected_at_import(tmp_path, ordered_at):
    db = f"sqlite:///{tmp_path / 'a.db'}"
    path = tmp_path / "o.csv"
    path.write_text(f"order_id,customer_id,ordered_at,revenue\no1,c1,{ordered_at},0\n")
    result = bootstrap.import_file("orders", str(path), db=db, create_missing_customers=True)
    assert (result.inserted, result.rejected) == (0, 1)
    reason = (tmp_path / "o.csv.rejected.csv").read_text().splitlines()[1]
    assert f"ordered_at: time stamp outside the years 1900-2199: '{ordered_at}'" in reason


def test_calendar_overflow_in_the_engine_is_a_validation_error():
    import pandas as pd

    from aftersales.adapters.engines import open_dataframes

    orders = pd.DataFrame(
        {
            "order_id": ["o1"],
            "customer_id": ["c1"],
            "revenue": [1.0],
            "ordered_at": pd.to_datetime(["9999-12-31T23:00:00Z"]).astype("datetime64[us, UTC]"),
        }
    )
    with pytest.raises(ValidationError, match="too close to year 1 or 9999"), open_dataframes({"orders": orders}) as s:
        scorecard(s)


def test_one_customer_cannot_identify_a_model(tmp_path):
    db = _store(tmp_path, "2024-05-01T10:00:00Z")
    with pytest.raises(ConvergenceError, match="cannot identify the model") as info:
        bootstrap.refresh_scores(db)
    assert info.value.http_status == 422
