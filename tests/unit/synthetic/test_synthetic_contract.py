"""Every generated table follows the data contract exactly."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pytest

from aftersales.core.contract import TABLES, arrow_schema
from aftersales.core.synthetic import SyntheticStore

END = datetime(2025, 6, 1, tzinfo=UTC)  # the session store's as_of (conftest.py)


def test_every_contract_table_is_generated_with_the_contract_schema(synthetic_store: SyntheticStore) -> None:
    assert set(synthetic_store.tables) == set(TABLES)
    for name, table in synthetic_store.tables.items():
        assert table.schema.equals(arrow_schema(name)), name
        assert table.num_rows > 0, name


@pytest.mark.parametrize("name", sorted(TABLES))
def test_required_columns_are_never_null(synthetic_store: SyntheticStore, name: str) -> None:
    table = synthetic_store.tables[name]
    for column in TABLES[name].required_columns:
        assert table[column].null_count == 0, (name, column)


@pytest.mark.parametrize("name", sorted(TABLES))
def test_natural_keys_are_unique(synthetic_store: SyntheticStore, name: str) -> None:
    table = synthetic_store.tables[name]
    key = list(TABLES[name].key)
    distinct = table.group_by(key).aggregate([]).num_rows
    assert distinct == table.num_rows, name


@pytest.mark.parametrize("name", sorted(TABLES))
def test_choices_and_minimums_hold(synthetic_store: SyntheticStore, name: str) -> None:
    table = synthetic_store.tables[name]
    for col in TABLES[name].columns:
        values = table[col.name]
        if col.choices is not None:
            seen = set(pc.unique(values.drop_null()).to_pylist())
            assert seen <= set(col.choices), (name, col.name, seen - set(col.choices))
        if col.minimum is not None and values.null_count < len(values):
            assert pc.min(values).as_py() >= col.minimum, (name, col.name)


@pytest.mark.parametrize("name", sorted(TABLES))
def test_foreign_keys_point_at_existing_rows(synthetic_store: SyntheticStore, name: str) -> None:
    table = synthetic_store.tables[name]
    for column, (parent, parent_col) in TABLES[name].parents.items():
        child = table[column].drop_null()
        known = synthetic_store.tables[parent][parent_col]
        assert pc.all(pc.is_in(child, value_set=known)).as_py() in (True, None), (name, column)


@pytest.mark.parametrize("name", sorted(TABLES))
def test_timestamps_are_utc_and_before_the_observation_end(synthetic_store: SyntheticStore, name: str) -> None:
    table = synthetic_store.tables[name]
    for field in table.schema:
        if pa.types.is_timestamp(field.type):
            assert field.type.tz == "UTC"
            latest = pc.max(table[field.name]).as_py()
            assert latest is None or latest < END, (name, field.name, latest)


def test_keys_are_zero_padded_strings(synthetic_store: SyntheticStore) -> None:
    assert synthetic_store.tables["customers"]["customer_id"][0].as_py() == "C0000001"
    assert synthetic_store.tables["orders"]["order_id"][0].as_py() == "O00000001"


def test_order_revenue_is_lines_minus_discount(synthetic_store: SyntheticStore) -> None:
    lines = synthetic_store.tables["order_lines"].to_pandas()
    orders = synthetic_store.tables["orders"].to_pandas().set_index("order_id")
    gross = (lines.quantity * lines.unit_price - lines.discount).groupby(lines.order_id).sum()
    diff = (gross.reindex(orders.index) - orders.discount - orders.revenue).abs()
    assert diff.max() < 0.011  # both sides are rounded to cents
    assert (lines.groupby("order_id").line_number.max() <= 3).all()


def test_order_times_and_statuses_agree(synthetic_store: SyntheticStore) -> None:
    o = synthetic_store.tables["orders"].to_pandas()
    assert (o.delivered_at.dropna() > o.ordered_at[o.delivered_at.notna()]).all()
    assert (o.returned_at.dropna() > o.delivered_at[o.returned_at.notna()]).all()
    assert o.status[o.returned_at.notna()].eq("returned").all()
    assert o.status[o.cancelled_at.notna()].eq("cancelled").all()
    assert o.delivered_at[o.status == "delivered"].notna().all()
    assert o.delivered_at[o.status.isin(["shipped", "paid", "cancelled"])].isna().all()
    # In transit only near the end: nothing older than the longest delay is still shipped.
    shipped = o.ordered_at[o.status == "shipped"]
    assert (shipped > END - np.timedelta64(60, "D")).all()
    assert o.ordered_at.is_monotonic_increasing


def test_each_customer_first_orders_at_acquisition(synthetic_store: SyntheticStore) -> None:
    o = synthetic_store.tables["orders"].to_pandas()
    c = synthetic_store.tables["customers"].to_pandas().set_index("customer_id")
    first = o.groupby("customer_id").ordered_at.min().reindex(c.index)
    lag = (first - c.created_at).dt.total_seconds()
    assert lag.notna().all()
    assert lag.between(0, 20 * 60).all()


def test_mrr_history_starts_at_the_subscription_start(synthetic_store: SyntheticStore) -> None:
    subs = synthetic_store.tables["subscriptions"].to_pandas().set_index("subscription_id")
    mrr = synthetic_store.tables["subscription_mrr"].to_pandas()
    first = mrr.groupby("subscription_id").effective_at.min()
    assert (first.reindex(subs.index) == subs.started_at).all()
    last = mrr.sort_values("effective_at").groupby("subscription_id").mrr.last().reindex(subs.index)
    assert (last[subs.status == "cancelled"] == 0).all()
    assert (last[subs.status == "active"] > 0).all()
    assert subs.cancelled_at.notna().eq(subs.status == "cancelled").all()


def test_event_properties_are_json_objects(synthetic_store: SyntheticStore) -> None:
    events = synthetic_store.tables["events"]
    names = set(events["name"].unique().to_pylist())
    assert names == {"checkout_started", "checkout_completed", "product_activated"}
    for text in events["properties"].to_pylist()[:: max(1, events.num_rows // 500)]:
        assert isinstance(json.loads(text), dict)
    done = events.filter(pc.equal(events["name"], "checkout_completed"))
    order_ids = [json.loads(t)["order_id"] for t in done["properties"].to_pylist()[:200]]
    assert pc.all(pc.is_in(pa.array(order_ids), value_set=synthetic_store.tables["orders"]["order_id"])).as_py()


def test_survey_scores_stay_on_their_scales(synthetic_store: SyntheticStore) -> None:
    s = synthetic_store.tables["survey_responses"].to_pandas()
    assert s.score[s.kind == "nps"].between(0, 10).all()
    assert s.score[s.kind == "csat"].between(1, 5).all()
    assert (s.groupby("response_id").dimension.first() == "overall").all()
    assert s.kind.groupby(s.response_id).nunique().eq(1).all()


def test_costs_are_per_customer_or_per_period(synthetic_store: SyntheticStore) -> None:
    c = synthetic_store.tables["costs"].to_pandas()
    per_customer = c.customer_id.notna()
    assert c.kind[per_customer].eq("acquisition").all()
    assert c.channel[per_customer].ne("organic").all()
    assert (c.period_end > c.period_start).all()
    months = c[~per_customer]
    assert set(months.kind) == {"retention", "service"}
    assert months.groupby("kind").size().nunique() == 1  # one row per month for each kind


def test_truth_names_the_observation_end_the_data_respects(synthetic_store: SyntheticStore) -> None:
    assert synthetic_store.truth["observation_end"] == END.isoformat()
