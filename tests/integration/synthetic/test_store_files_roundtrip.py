"""A generated store written as files reads back identical (Parquet and CSV)."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from aftersales.adapters.sources.store_files import (
    ROW_GROUP,
    iter_table_batches,
    read_table,
    read_truth,
    table_path,
    write_store_files,
)
from aftersales.core.contract import TABLES, arrow_schema
from aftersales.core.errors import MissingTableError, UnusableInputError
from aftersales.core.synthetic import SyntheticStore, generate_store


@pytest.fixture(scope="module")
def small_store() -> SyntheticStore:
    return generate_store(1_000, seed=9, as_of=date(2025, 1, 1))


@pytest.mark.parametrize("fmt", ["parquet", "csv"])
def test_every_table_round_trips(tmp_path: Path, small_store: SyntheticStore, fmt: str) -> None:
    written = write_store_files(small_store.tables, small_store.truth, small_store.customer_truth, tmp_path, fmt=fmt)
    assert set(written) == set(TABLES) | {"truth_customers", "truth"}
    for name, table in small_store.tables.items():
        assert table_path(tmp_path, name) == tmp_path / f"{name}.{fmt}"
        assert read_table(tmp_path, name).equals(table), name
    assert read_truth(tmp_path) == json.loads(json.dumps(small_store.truth))
    assert not list(tmp_path.glob("*.partial"))


def test_switching_format_removes_the_other_version(tmp_path: Path, small_store: SyntheticStore) -> None:
    write_store_files(small_store.tables, small_store.truth, None, tmp_path, fmt="parquet")
    write_store_files(small_store.tables, small_store.truth, None, tmp_path, fmt="csv")
    assert not list(tmp_path.glob("*.parquet"))
    assert table_path(tmp_path, "orders") == tmp_path / "orders.csv"


def test_batches_stream_with_the_contract_schema(tmp_path: Path, small_store: SyntheticStore) -> None:
    write_store_files(small_store.tables, small_store.truth, None, tmp_path)
    batches = list(iter_table_batches(tmp_path, "orders", batch_size=1_000))
    assert len(batches) > 1
    assert all(b.schema.equals(arrow_schema("orders")) for b in batches)
    assert sum(b.num_rows for b in batches) == small_store.tables["orders"].num_rows
    assert pq.ParquetFile(tmp_path / "orders.parquet").metadata.row_group(0).num_rows <= ROW_GROUP


def test_missing_table_and_unknown_names_are_errors(tmp_path: Path) -> None:
    with pytest.raises(MissingTableError, match="orders"):
        read_table(tmp_path, "orders")
    with pytest.raises(UnusableInputError, match="not a contract table"):
        read_table(tmp_path, "nope")
    with pytest.raises(UnusableInputError, match=r"truth\.json"):
        read_truth(tmp_path)
    with pytest.raises(UnusableInputError, match="format"):
        write_store_files({}, {}, None, tmp_path, fmt="xlsx")  # type: ignore[arg-type]


def test_csv_files_pass_contract_validation_as_text(tmp_path: Path, small_store: SyntheticStore) -> None:
    import pandas as pd

    from aftersales.core.validation import validate

    write_store_files(small_store.tables, small_store.truth, None, tmp_path, fmt="csv")
    for name in TABLES:
        raw = pd.read_csv(tmp_path / f"{name}.csv", dtype=str, keep_default_na=False)
        result = validate(TABLES[name], raw)
        assert result.reasons.empty, (name, result.reasons.head().tolist())
