"""Every metric on every engine must agree with DuckDB on the same store (DESIGN.md: this test caught
PostgreSQL's silent integer division)."""

from __future__ import annotations

import math
from datetime import date

import pytest

from aftersales.adapters.engines import open_source
from aftersales.core.metrics.registry import METRICS
from aftersales.core.metrics.rfm import rfm_summary
from aftersales.services.analytical.metrics import compute

NAMES = sorted(METRICS)
OPTIONS = [
    {"period": "quarter", "end": date(2024, 1, 1), "tz": "Europe/Oslo"},
    {"period": "month", "end": date(2023, 12, 1), "by": "acquisition_channel", "span": 3},
]


def _results(source, names=NAMES):
    out = {}
    for opts in OPTIONS:
        res = compute(source, names, **opts)
        assert not res.errors
        out[str(opts)] = res.records
    with_rfm = rfm_summary(
        source.table("orders"), observation_end=date(2023, 12, 31), calibration_end=date(2023, 9, 30), tz="Europe/Oslo"
    )
    out["rfm"] = sorted(source.execute(with_rfm), key=lambda r: r["customer_id"])
    return out


@pytest.fixture(scope="module")
def reference(store_dir):
    with open_source(str(store_dir)) as src:
        return _results(src)


def _same(a, b, where):
    assert len(a) == len(b), where
    for ra, rb in zip(a, b, strict=True):
        assert ra.keys() == rb.keys(), where
        for k, va in ra.items():
            vb = rb[k]
            if isinstance(va, float) or isinstance(vb, float):
                if va is None or vb is None or (math.isnan(va) and math.isnan(vb)):
                    assert (va is None and vb is None) or (math.isnan(va) and math.isnan(vb)), (where, ra, rb, k)
                else:
                    assert vb == pytest.approx(va, rel=1e-9, abs=1e-9), (where, k, ra, rb)
            else:
                assert va == vb, (where, k, ra, rb)


def test_reference_covers_every_metric(reference):
    seen = {r["metric"] for records in reference.values() if records and "metric" in records[0] for r in records}
    assert set(NAMES) <= seen
    assert len(reference["rfm"]) > 50


def test_sqlite_store_matches_duckdb(reference, sqlite_url):
    with open_source(sqlite_url) as src:
        assert src.engine == "sqlite"
        got = _results(src)
    for key, records in reference.items():
        _same(records, got[key], f"sqlite {key}")


def test_parquet_via_dataframes_matches(reference, store_dir):
    import pyarrow.parquet as pq

    from aftersales.adapters.engines import open_dataframes

    frames = {f.stem: pq.read_table(f).to_pandas() for f in store_dir.glob("*.parquet") if f.stem != "truth_customers"}
    with open_dataframes(frames) as src:
        got = _results(src)
    for key, records in reference.items():
        _same(records, got[key], f"pandas {key}")


@pytest.mark.postgres
def test_postgres_matches_duckdb(reference, pg_schema):
    with open_source("postgresql://postgres@127.0.0.1:5432/test", schema=pg_schema) as src:
        assert src.engine == "postgres"
        got = _results(src)
    for key, records in reference.items():
        _same(records, got[key], f"postgres {key}")


@pytest.mark.spark
@pytest.mark.slow
def test_spark_matches_duckdb(reference, store_dir):
    pytest.importorskip("pyspark")
    with open_source(str(store_dir), "spark") as src:
        got = _results(src)
    for key, records in reference.items():
        _same(records, got[key], f"spark {key}")
