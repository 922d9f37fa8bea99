"""``aftersales clv fit|predict|report`` end to end on the CDNOW cohort, and on a SQLite store made by
``aftersales demo`` (scanned into DuckDB by the engine adapter) against the same data as Parquet.

In-process runs go through ``main``; some runs go through a subprocess, as a user would.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from aftersales.entrypoints.cli.app import main

pytestmark = pytest.mark.xdist_group("clv_cli")
CDNOW = Path(__file__).resolve().parents[2] / "data" / "cdnow" / "CDNOW_sample.txt"


@pytest.fixture(scope="module")
def orders_dir(tmp_path_factory) -> Path:
    raw = pd.read_csv(CDNOW, sep=r"\s+", header=None, names=["master", "id", "date", "cds", "value"])
    orders = pd.DataFrame(
        {
            "order_id": [f"o{i}" for i in range(len(raw))],
            "customer_id": raw["id"].map(lambda v: f"c{v:04d}"),
            "status": "placed",
            "ordered_at": pd.to_datetime(raw["date"].astype(str), format="%Y%m%d").dt.tz_localize("UTC"),
            "revenue": raw["value"].astype(float),
        }
    )
    directory = tmp_path_factory.mktemp("cdnow_cli")
    orders.to_parquet(directory / "orders.parquet", index=False)
    return directory


def _run(capsys, *args: str) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as exit_info:
        main(list(args))
    out, err = capsys.readouterr()
    return exit_info.value.code, out, err


def test_fit_json_has_the_agreed_shape(orders_dir, capsys):
    code, out, _ = _run(
        capsys, "clv", "fit", "--source", str(orders_dir), "--model", "bgnbd",
        "--calibration-end", "1997-09-30", "--time-unit", "week", "--format", "json",
    )  # fmt: skip
    assert code == 0
    report = json.loads(out)
    assert {"model", "params", "standard_errors", "log_likelihood", "n_customers", "converged"} <= set(report)
    assert report["model"] == "bgnbd" and report["converged"] is True and report["n_customers"] == 2357
    assert report["params"]["r"] == pytest.approx(0.243, abs=6e-4)
    assert report["log_likelihood"] == pytest.approx(-9582.4, abs=0.05)


def test_fit_table_lists_parameters(orders_dir, capsys):
    code, out, _ = _run(capsys, "clv", "fit", "--source", str(orders_dir), "--model", "paretonbd",
                        "--calibration-end", "1997-09-30")  # fmt: skip
    assert code == 0
    assert "alpha" in out and "beta" in out and "std_error" in out


def test_predict_writes_scores(orders_dir, tmp_path, capsys):
    out_file = tmp_path / "scores.parquet"
    code, out, _ = _run(
        capsys, "clv", "predict", "--source", str(orders_dir), "--calibration-end", "1997-09-30",
        "--spend", "gammagamma", "--horizon", "52", "--discount", "0.10", "--margin", "0.3",
        "--out", str(out_file), "--format", "json",
    )  # fmt: skip
    assert code == 0
    summary = json.loads(out)
    scores = pd.read_parquet(out_file)
    assert len(scores) == summary["n_customers"] == 2357
    assert summary["total_clv"] == pytest.approx(scores["clv"].sum())
    assert set(scores["risk_tier"]) <= {"low", "medium", "high"}


def test_report_prints_the_checking_tables(orders_dir, capsys):
    code, out, _ = _run(capsys, "clv", "report", "--source", str(orders_dir), "--calibration-end", "1997-09-30",
                        "--holdout-end", "1998-06-30")  # fmt: skip
    assert code == 0
    assert "model comparison" in out and "7+" in out and "rmse" in out


def test_bad_date_is_a_one_line_usage_error(orders_dir, capsys):
    code, _, err = _run(capsys, "clv", "fit", "--source", str(orders_dir), "--calibration-end", "30/09/1997")
    assert code == 2 and err.startswith("error: --calibration-end") and "Traceback" not in err


def test_cli_subprocess_with_the_real_engine_adapter(orders_dir):
    proc = subprocess.run(
        [sys.executable, "-m", "aftersales", "clv", "fit", "--source", str(orders_dir),
         "--calibration-end", "1997-09-30", "--format", "json"],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["params"]["alpha"] == pytest.approx(4.414, abs=6e-4)


@pytest.fixture(scope="module")
def demo_store(tmp_path_factory) -> tuple[Path, Path, dict]:
    """``aftersales demo``: a generated store imported into a SQLite file, plus its Parquet files."""
    directory = tmp_path_factory.mktemp("clv_demo")
    db, files = directory / "store.db", directory / "files"
    proc = subprocess.run(
        [sys.executable, "-m", "aftersales", "demo", "--customers", "2000", "--db", str(db), "--out", str(files)],
        capture_output=True, text=True, timeout=300, check=False, cwd=directory,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    return db, files, json.loads((files / "truth.json").read_text())


def test_fit_and_predict_on_a_sqlite_store(demo_store, tmp_path, capsys):
    db, files, truth = demo_store
    cal = truth["calibration_end"][:10]
    fit = ["clv", "fit", "--model", "bgnbd", "--calibration-end", cal, "--time-unit", "week", "--format", "json"]
    code, out, err = _run(capsys, *fit, "--source", f"sqlite:///{db}")
    assert code == 0, err
    from_store = json.loads(out)
    assert from_store["converged"] is True and from_store["n_customers"] > 1000
    # The generator's truth (weekly BG/NBD parameters) lies within 4 standard errors.
    for name, true_value in truth["bgnbd"]["weeks"].items():
        assert abs(from_store["params"][name] - true_value) < 4 * from_store["standard_errors"][name], name
    # The store scanned into DuckDB and the generated Parquet files give the same fit.
    code, out, _ = _run(capsys, *fit, "--source", str(files))
    assert code == 0
    from_files = json.loads(out)
    assert from_files["n_customers"] == from_store["n_customers"]
    assert from_files["params"] == pytest.approx(from_store["params"], rel=1e-9)

    scores = {}
    for name, source in (("store", f"sqlite:///{db}"), ("files", str(files))):
        out_file = tmp_path / f"{name}.parquet"
        code, out, err = _run(
            capsys, "clv", "predict", "--source", source, "--spend", "gammagamma", "--horizon", "52",
            "--discount", "0.10", "--margin", "0.3", "--out", str(out_file), "--format", "json",
        )  # fmt: skip
        assert code == 0, err
        scores[name] = pd.read_parquet(out_file).sort_values("customer_id").reset_index(drop=True)
        assert len(scores[name]) == json.loads(out)["n_customers"]
    store = scores["store"]
    assert list(store.columns) == ["customer_id", "p_alive", "expected_purchases", "expected_spend", "clv", "risk_tier"]
    assert store["p_alive"].between(0, 1).all() and (store["clv"] >= 0).all()
    # Same customers and tiers; numbers equal up to the Gamma-Gamma optimiser's tolerance (~1e-8).
    pd.testing.assert_frame_equal(store, scores["files"], rtol=1e-6)


def _predict(capsys, orders_dir: Path, out_file: Path, *extra: str) -> tuple[int, str, str]:
    return _run(
        capsys, "clv", "predict", "--source", str(orders_dir), "--calibration-end", "1997-09-30",
        "--margin", "0.3", "--out", str(out_file), "--format", "json", *extra,
    )  # fmt: skip


def test_predict_writes_the_format_its_file_name_says(orders_dir, tmp_path, capsys):
    code, out, err = _predict(capsys, orders_dir, tmp_path / "scores.parquet")
    assert code == 0, err
    want = pd.read_parquet(tmp_path / "scores.parquet").set_index("customer_id").sort_index()
    code, out, err = _predict(capsys, orders_dir, tmp_path / "scores.csv")
    assert code == 0, err
    assert json.loads(out)["out"] == str(tmp_path / "scores.csv")
    assert (tmp_path / "scores.csv").read_text().splitlines()[0] == (
        "customer_id,p_alive,expected_purchases,expected_spend,clv,risk_tier"
    )
    got = pd.read_csv(tmp_path / "scores.csv").set_index("customer_id").sort_index()
    # Each call fits the models again; the spend model's optimiser may stop a few 1e-9 apart between
    # fits (it warm-starts), so the files are compared to 1e-7: what is tested here is the format.
    pd.testing.assert_frame_equal(got, want, check_exact=False, rtol=1e-7)
    code, _, err = _predict(capsys, orders_dir, tmp_path / "scores.jsonl")
    assert code == 0, err
    lines = (tmp_path / "scores.jsonl").read_text().splitlines()
    got = pd.DataFrame([json.loads(line) for line in lines]).set_index("customer_id").sort_index()
    pd.testing.assert_frame_equal(got, want, check_exact=False, rtol=1e-7)
    # --out-format names the format of a file whose name does not
    code, _, err = _predict(capsys, orders_dir, tmp_path / "scores.out", "--out-format", "csv")
    assert code == 0, err
    assert len(pd.read_csv(tmp_path / "scores.out")) == len(want)


def test_an_out_format_the_file_name_contradicts_is_a_usage_error(orders_dir, tmp_path, capsys):
    code, _, err = _predict(capsys, orders_dir, tmp_path / "scores.csv", "--out-format", "parquet")
    assert code == 2 and err.startswith("error: ") and "Traceback" not in err
    assert "scores.csv" in err and "csv" in err and "parquet" in err
    code, _, err = _predict(capsys, orders_dir, tmp_path / "scores.txt")
    assert code == 2 and ".txt" in err
    assert not list(tmp_path.iterdir())  # refused before any work: nothing written


def test_fit_and_predict_read_the_store_by_default(demo_store, tmp_path, capsys, monkeypatch):
    db, files, _ = demo_store
    code, out, err = _run(capsys, "clv", "fit", "--format", "json", "--db", str(db))
    assert code == 0, err
    from_db = json.loads(out)
    code, out, err = _run(capsys, "clv", "fit", "--format", "json", "--source", str(files))
    assert code == 0, err
    assert json.loads(out)["params"] == pytest.approx(from_db["params"], rel=1e-9)
    # without --db: $AFTERSALES_DATABASE_URL (a subprocess, so the settings are read afresh)
    env = {**os.environ, "AFTERSALES_DATABASE_URL": f"sqlite:///{db}"}
    proc = subprocess.run(
        [sys.executable, "-m", "aftersales", "clv", "predict", "--out", str(tmp_path / "s.csv"), "--format", "json"],
        capture_output=True, text=True, timeout=300, check=False, cwd=tmp_path, env=env,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["n_customers"] == from_db["n_customers"]
    # neither: ./aftersales.db
    shutil.copy(db, tmp_path / "aftersales.db")
    env.pop("AFTERSALES_DATABASE_URL")
    proc = subprocess.run(
        [sys.executable, "-m", "aftersales", "clv", "fit", "--format", "json"],
        capture_output=True, text=True, timeout=300, check=False, cwd=tmp_path, env=env,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["params"] == pytest.approx(from_db["params"], rel=1e-12)
