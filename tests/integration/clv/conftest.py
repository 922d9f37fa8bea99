"""CDNOW as contract-shaped ``orders`` in Parquet, opened through the engine adapter (DuckDB)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from aftersales.adapters.engines import open_source

CDNOW = Path(__file__).resolve().parents[3] / "data" / "cdnow" / "CDNOW_sample.txt"


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
def cdnow_source(cdnow_dir):
    with open_source(str(cdnow_dir)) as source:
        yield source
