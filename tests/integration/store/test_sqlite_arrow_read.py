"""The SQLite store's tables read into Arrow in batches (``adapters.sql.arrow_io``): any batch size gives
the same table, row for row, as one batch holding everything, for every contract table."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from aftersales import bootstrap
from aftersales.adapters.sql import arrow_io
from aftersales.adapters.sql.engine import make_engine
from aftersales.core import contract


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> str:
    root = tmp_path_factory.mktemp("arrow-read")
    url = f"sqlite:///{root / 'store.db'}"
    bootstrap.demo(customers=150, seed=9, out=str(root / "files"), db=url, as_of=date(2024, 6, 30))
    return url


def test_batched_reads_equal_one_batch(store: str, monkeypatch: pytest.MonkeyPatch) -> None:
    engine = make_engine(store)
    read = 0
    for name in contract.TABLES:
        if not arrow_io.table_exists(engine, name):
            continue
        monkeypatch.setattr(arrow_io, "SQLITE_BATCH", 10**9)
        whole = arrow_io.read_table(engine, name)
        monkeypatch.setattr(arrow_io, "SQLITE_BATCH", 7)
        batched = arrow_io.read_table(engine, name)
        assert batched.schema == whole.schema, name
        assert batched.equals(whole), name
        assert batched.num_rows == 0 or batched.column(0).num_chunks == -(-batched.num_rows // 7), name
        read += whole.num_rows
    assert read > 1_000
    engine.dispose()


def test_an_empty_table_reads_as_an_empty_table_of_the_contract_schema(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'empty.db'}"
    bootstrap.init_store(url)
    table = arrow_io.read_table(url, "orders")
    assert table.num_rows == 0
    assert table.schema == contract.arrow_schema(contract.get_table("orders"))
