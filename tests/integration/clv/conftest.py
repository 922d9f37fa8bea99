"""CDNOW as contract-shaped ``orders`` in Parquet, and a minimal DuckDB source over it."""

from __future__ import annotations

from pathlib import Path

import ibis
import pandas as pd
import pytest

CDNOW = Path(__file__).resolve().parents[3] / "data" / "cdnow" / "CDNOW_sample.txt"


class ParquetDuckSource:
    """``table(name)`` over ``DIR/<name>.parquet`` on an in-memory DuckDB (the engine adapter's shape)."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.backend = ibis.duckdb.connect()

    def table(self, name: str) -> ibis.Table:
        return self.backend.read_parquet(self.directory / f"{name}.parquet", table_name=name)


def write_cdnow_orders(directory: Path) -> Path:
    raw = pd.read_csv(CDNOW, sep=r"\s+", header=None, names=["master", "id", "date", "cds", "value"])
    orders = pd.DataFrame(
        {
            "order_id": [f"o{i}" for i in range(len(raw))],
            "customer_id": raw["id"].map(lambda v: f"c{v:04d}"),
            "status": "placed",
            "ordered_at": pd.to_datetime(raw["date"].astype(str), format="%Y%m%d").dt.tz_localize("UTC")
            + pd.Timedelta(hours=12),
            "revenue": raw["value"].astype(float),
        }
    )
    directory.mkdir(parents=True, exist_ok=True)
    orders.to_parquet(directory / "orders.parquet", index=False)
    return directory


@pytest.fixture(scope="session")
def cdnow_dir(tmp_path_factory) -> Path:
    return write_cdnow_orders(tmp_path_factory.mktemp("cdnow"))


@pytest.fixture
def cdnow_source(cdnow_dir) -> ParquetDuckSource:
    return ParquetDuckSource(cdnow_dir)
