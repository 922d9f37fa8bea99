"""Too little data degrades with the counts; the features are the same on DuckDB, SQLite and PostgreSQL;
the CLI prints the report and exits 2 with the counts when the profile cannot be built."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import UTC, date, datetime, timedelta

import pandas as pd
import pyarrow.parquet as pq
import pytest

from aftersales.adapters.engines import open_dataframes, open_source
from aftersales.core import contract
from aftersales.core.errors import ValidationError
from aftersales.core.synthetic import generate_store
from aftersales.services.analytical.lookalike import customer_feature_frame, lookalike_report, lookalike_scores

AS_OF = date(2025, 1, 1)
NOW = datetime(2025, 1, 1, tzinfo=UTC)


@pytest.fixture(scope="module")
def small():
    return generate_store(300, seed=4, as_of=AS_OF)


def test_too_few_high_value_customers_is_a_validation_error_with_the_counts():
    store = generate_store(60, seed=4, as_of=AS_OF)
    with open_dataframes(store.tables) as source, pytest.raises(ValidationError) as err:
        lookalike_report(source, NOW)
    message = str(err.value)
    assert "customers have a counted order before 2025-01-01" in message
    assert "needs at least 30 in the tier" in message
    assert err.value.errors[0].loc == ("now",)


def test_a_short_history_leaves_the_check_and_scores_out_with_the_counts(small):
    with open_dataframes(small.tables) as source:
        report = lookalike_report(source, NOW)
        with pytest.raises(ValidationError, match=r"lookalike scores unavailable: .* the model needs at least 200"):
            lookalike_scores(source, NOW)
    assert report.high_value >= 30 and report.traits  # the profile is there
    assert report.check is None and report.candidates == ()
    assert report.notes[0].startswith("holdout check left out: ") and "had history at 2023-01-02" in report.notes[0]
    assert report.notes[1].startswith("lookalike scores unavailable: ")


def test_a_naive_now_is_refused(small):
    with open_dataframes(small.tables) as source, pytest.raises(ValidationError, match="time zone"):
        lookalike_report(source, datetime(2025, 1, 1))


def _write_store(url: str, tables) -> None:
    from aftersales.adapters.sql.engine import make_engine
    from aftersales.adapters.sql.writer import SqlImportStore

    engine = make_engine(url)
    try:
        with SqlImportStore(engine).transaction() as tx:
            for name in contract.TABLES:
                if name in tables:
                    tx.upsert(name, tables[name].to_pandas())
    finally:
        engine.dispose()


def test_features_agree_on_duckdb_and_each_store(small, store_url):
    _write_store(store_url, small.tables)
    cutoffs = (NOW, NOW - timedelta(days=365), NOW - timedelta(days=200, hours=5))
    with open_dataframes(small.tables) as duck:
        want = [customer_feature_frame(duck, c) for c in cutoffs]
    with open_source(store_url) as store:
        got = [customer_feature_frame(store, c) for c in cutoffs]
    for w, g in zip(want, got, strict=True):
        assert len(w) > 100
        pd.testing.assert_frame_equal(g, w, check_exact=False, rtol=1e-9, check_dtype=False)


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    code = "from aftersales.entrypoints.cli.app import main; main()"
    return subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, timeout=300)


@pytest.mark.slow
def test_cli_report_json_and_table_and_the_degrade_exit(small, tmp_path):
    for name, table in small.tables.items():
        pq.write_table(table, tmp_path / f"{name}.parquet")
    r = _cli("lookalike", "report", "--source", str(tmp_path), "--as-of", "2025-01-01", "--format", "json")
    assert r.returncode == 0, r.stderr
    body = json.loads(r.stdout)
    assert body["now"] == "2025-01-01T00:00:00+00:00" and body["check"] is None and body["traits"]
    assert "note: holdout check left out" in r.stderr
    r = _cli("lookalike", "report", "--source", str(tmp_path), "--as-of", "2025-01-01")
    assert r.returncode == 0 and "what sets them apart" in r.stdout and "Traits by standardised difference" in r.stdout
    r = _cli("lookalike", "report", "--source", str(tmp_path), "--as-of", "2023-01-01")
    assert r.returncode == 2 and "too few customers to profile" in r.stderr
    r = _cli("lookalike", "report", "--source", str(tmp_path), "--as-of", "01/01/2025")
    assert r.returncode == 2 and "--as-of" in r.stderr
