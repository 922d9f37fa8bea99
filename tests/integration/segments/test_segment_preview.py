"""Preview (count + sample, nothing saved) on DuckDB over hand-made profiles, in both spellings."""

from __future__ import annotations

import pyarrow as pa
import pytest

from aftersales.adapters.engines.opening import open_tables
from aftersales.core.errors import MissingTableError
from aftersales.core.segments import DefinitionError
from aftersales.services.operational import segments


def test_preview_counts_and_samples_with_the_fields_it_reads(world) -> None:
    with world.source_at(world.T1) as src:
        got = segments.preview(src, where=world.VIP, now=world.T1)
    assert (got.count, got.total) == (2, 5)
    assert got.columns == ("customer_id", "clv_tier", "churn_risk", "email_consent")
    assert got.sample == [
        {"customer_id": "c1", "clv_tier": "above_average", "churn_risk": "high", "email_consent": True},
        {"customer_id": "c5", "clv_tier": "above_average", "churn_risk": "high", "email_consent": True},
    ]
    assert got.where == world.VIP and got.now == world.T1


def test_the_sample_is_cut_but_the_count_is_not(world) -> None:
    with world.source_at(world.T2) as src:
        got = segments.preview(src, definition={"field": "orders", "op": ">=", "value": 2}, now=world.T2, limit=1)
    assert got.count == 4 and [r["customer_id"] for r in got.sample] == ["c1"]
    assert got.where == "orders >= 2"


def test_behaviour_conditions_preview_at_the_given_now(world) -> None:
    with world.source_at(world.T1) as src:
        assert segments.preview(src, where=world.ABANDONERS, now=world.T1).count == 1
        later = world.T1.replace(month=7, day=20)  # c2's checkout is more than 7 days old by then
        assert segments.preview(src, where=world.ABANDONERS, now=later).count == 0


def test_a_bad_definition_or_a_missing_profile_table_is_a_clear_error(world) -> None:
    with world.source_at(world.T1) as src, pytest.raises(DefinitionError, match="unknown field 'tier'"):
        segments.preview(src, where="tier = 'x'")
    no_events = world.source_at(world.T1, events=False)
    with no_events as src, pytest.raises(MissingTableError, match="needs the events table"):
        segments.preview(src, where=world.ABANDONERS, now=world.T1)
    with open_tables({"other": pa.table({"x": [1]})}) as src, pytest.raises(MissingTableError, match="refresh"):
        segments.preview(src, where="orders > 1")
