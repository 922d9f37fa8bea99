"""The notebook facade ``aftersales.segments`` on dataframes, Parquet paths and the store."""

from __future__ import annotations

import pyarrow.parquet as pq
import pytest

from aftersales import segments as facade
from aftersales.core.segments import DefinitionError


def test_evaluate_on_dataframes_with_behaviour(world) -> None:
    profiles = world.profiles_arrow(world.T1).to_pandas()
    events = world.events_arrow().to_pandas()
    got = facade.evaluate(world.ABANDONERS, now=world.T1, profiles=profiles, events=events)
    assert got["customer_id"].tolist() == ["c2"] and "churn_risk" in got.columns
    vip = facade.evaluate(world.VIP, now=world.T2, profiles=profiles)
    assert vip["customer_id"].tolist() == ["c1", "c5"]  # the T1 profiles, whatever now says


def test_preview_on_a_parquet_path_in_the_json_form(world, tmp_path) -> None:
    pq.write_table(world.profiles_arrow(world.T2), tmp_path / "profiles.parquet")
    got = facade.preview({"field": "orders", "op": ">=", "value": 2}, profiles=tmp_path / "profiles.parquet", limit=2)
    assert (got.count, got.total, [r["customer_id"] for r in got.sample]) == (4, 5, ["c1", "c2"])


def test_the_store_profiles_and_the_errors(store, world) -> None:
    store.write_profiles(world.T1)
    assert facade.preview(world.REPEAT, db=store.url).count == 3
    with pytest.raises(DefinitionError, match="valid fields"):
        facade.evaluate("orderz > 1", db=store.url)
    with pytest.raises(ValueError, match="profiles="):
        facade.evaluate(world.REPEAT, events=world.events_arrow())
