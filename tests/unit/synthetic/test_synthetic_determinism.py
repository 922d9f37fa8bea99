"""The same seed gives the same store; another seed gives another one."""

from __future__ import annotations

from datetime import date

import pytest

from aftersales.core.synthetic import PHASES, generate_store


def test_same_seed_same_tables_and_truth() -> None:
    a = generate_store(1_500, seed=5, as_of=date(2024, 3, 1))
    b = generate_store(1_500, seed=5, as_of=date(2024, 3, 1))
    for name, table in a.tables.items():
        assert table.equals(b.tables[name]), name
    assert a.customer_truth.equals(b.customer_truth)
    assert a.truth == b.truth


def test_another_seed_changes_the_store() -> None:
    a = generate_store(1_500, seed=5, as_of=date(2024, 3, 1))
    b = generate_store(1_500, seed=6, as_of=date(2024, 3, 1))
    assert not a.tables["orders"].equals(b.tables["orders"])
    assert a.tables["orders"].num_rows != b.tables["orders"].num_rows


def test_phases_are_reported_in_order() -> None:
    seen: list[str] = []
    generate_store(200, seed=1, as_of=date(2024, 3, 1), on_phase=seen.append)
    assert tuple(seen) == PHASES


def test_a_single_customer_store_is_valid() -> None:
    store = generate_store(1, seed=3, as_of=date(2024, 3, 1))
    assert store.tables["customers"].num_rows == 1
    assert store.tables["orders"].num_rows >= 1


def test_zero_customers_is_refused() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        generate_store(0, seed=1, as_of=date(2024, 3, 1))
