"""The profile build carries each customer's lookalike score, or NULL with the reason when data are too few."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pyarrow.compute as pc
import pytest

from aftersales.adapters.engines import open_dataframes
from aftersales.core.synthetic import generate_store
from aftersales.services.analytical.lookalike import lookalike_scores
from aftersales.services.analytical.profiles import build_profiles

AS_OF = date(2025, 1, 1)
NOW = datetime(2025, 1, 1, tzinfo=UTC)


@pytest.mark.slow
def test_profiles_carry_the_lookalike_scores():
    store = generate_store(2_000, seed=8, as_of=AS_OF)
    with open_dataframes(store.tables) as source:
        build = build_profiles(source, NOW)
        want = lookalike_scores(source, NOW)
    assert build.lookalike_note is None and build.summary()["lookalike_note"] is None
    got = build.table.select(["customer_id", "lookalike_score"]).sort_by("customer_id")
    want = want.sort_by("customer_id")
    assert got["customer_id"].equals(want["customer_id"])
    assert got["lookalike_score"].to_pylist() == pytest.approx(want["lookalike_score"].to_pylist(), abs=1e-12)
    assert pc.min(got["lookalike_score"]).as_py() >= 0.0 and pc.max(got["lookalike_score"]).as_py() <= 1.0


def test_too_few_customers_leave_the_score_null_with_the_reason():
    store = generate_store(150, seed=8, as_of=AS_OF)
    with open_dataframes(store.tables) as source:
        build = build_profiles(source, NOW)
    assert build.table["lookalike_score"].null_count == build.table.num_rows
    assert build.lookalike_note is not None and build.lookalike_note.startswith("lookalike scores unavailable: ")
    assert "the model needs at least 200 customers" in build.lookalike_note
