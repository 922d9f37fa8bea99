"""``aftersales experiment power|analyze`` end to end: JSON shape, published numbers, exit codes."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from aftersales.entrypoints.cli.app import main

HEADER = "metric,variant,n,sum,sum_squares\n"


def run(argv: list[str], capsys) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as exc:
        main(argv)
    out, err = capsys.readouterr()
    return int(exc.value.code or 0), out, err


@pytest.fixture
def stats_csv(tmp_path: Path) -> Path:
    df = pd.DataFrame(
        {
            "metric": ["repeat_purchase"] * 3 + ["revenue"] * 3,
            "variant": ["control", "friendly", "urgent"] * 2,
            "kind": ["proportion"] * 3 + ["mean"] * 3,
            "n": [5000, 5100, 4950] * 2,
            "sum": [600, 680, 610, 61000.0, 66000.0, 60000.0],
            "sum_squares": [600, 680, 610, 2.4e6, 2.6e6, 2.3e6],
        }
    )
    path = tmp_path / "stats.csv"
    df.to_csv(path, index=False)
    return path


def test_power_published_example(capsys):
    code, out, _ = run(["experiment", "power", "--baseline", "0.2", "--mde", "0.05", "--alpha", "0.05",
                        "--power", "0.8", "--variants", "2", "--format", "json"], capsys)  # fmt: skip
    assert code == 0
    row = json.loads(out)[0]
    assert row["n_per_variant"] == 1030 and row["n_total"] == 2060
    code, out, _ = run(["experiment", "power", "--baseline", "0.2", "--mde", "0.25", "--relative"], capsys)
    assert code == 0 and "1,030" in out


def test_power_mde_for_given_n_and_errors(capsys):
    code, out, _ = run(["experiment", "power", "--baseline", "0.2", "--n", "1030.2192831", "--format", "json"], capsys)
    assert code == 0 and json.loads(out)[0]["effect"] == pytest.approx(0.05, rel=1e-6)
    code, _, err = run(["experiment", "power", "--baseline", "0.2"], capsys)
    assert code == 2 and "--mde" in err
    code, _, err = run(["experiment", "power", "--baseline", "0.2", "--mde", "0.05", "--variants", "1"], capsys)
    assert code == 2 and "two variants" in err


@pytest.mark.parametrize("method", ["frequentist", "sequential", "bayesian"])
def test_analyze_json_records(stats_csv, method, capsys):
    correction = "none" if method == "bayesian" else "holm"
    argv = ["experiment", "analyze", "--stats", str(stats_csv), "--method", method, "--correction", correction]
    code, out, _ = run([*argv, "--format", "json"], capsys)
    assert code == 0
    records = json.loads(out)
    assert [(r["metric"], r["variant"]) for r in records] == [
        ("repeat_purchase", "friendly"), ("repeat_purchase", "urgent"), ("revenue", "friendly"), ("revenue", "urgent")
    ]  # fmt: skip
    for r in records:
        assert r["ci_low"] <= r["lift"] <= r["ci_high"]
        assert 0 <= r["srm_p_value"] <= 1
        assert ("chance_to_win" in r) == (method == "bayesian") and ("p_value" in r) == (method != "bayesian")
    code, out, _ = run(argv, capsys)
    assert code == 0 and f"Experiment ({method}, control 'control')" in out


def test_analyze_parquet_and_outcomes(tmp_path, stats_csv, capsys):
    pq = tmp_path / "stats.parquet"
    pd.read_csv(stats_csv).to_parquet(pq)
    _, csv_out, _ = run(["experiment", "analyze", "--stats", str(stats_csv), "--format", "json"], capsys)
    code, pq_out, _ = run(["experiment", "analyze", "--stats", str(pq), "--format", "json"], capsys)
    assert code == 0 and json.loads(pq_out) == json.loads(csv_out)

    rng = np.random.default_rng(1)
    n = 2000
    outcomes = pd.DataFrame(
        {
            "customer_id": [f"c{i}" for i in range(n)],
            "variant": rng.choice(["control", "b"], n),
            "revenue": np.where(rng.random(n) < 0.7, 0.0, rng.lognormal(3, 1, n)),
            "repeat_purchase": rng.random(n) < 0.2,
        }
    )
    path = tmp_path / "outcomes.parquet"
    outcomes.to_parquet(path)
    code, out, _ = run(["experiment", "analyze", "--outcomes", str(path), "--cap", "0.99", "--cap-ignore-zeros",
                        "--format", "json"], capsys)  # fmt: skip
    assert code == 0
    records = {r["metric"]: r for r in json.loads(out)}
    assert set(records) == {"revenue", "repeat_purchase"}
    assert records["repeat_purchase"]["kind"] == "proportion"


@pytest.mark.parametrize(
    ("rows", "message"),
    [
        ("metric,variant,n,sum,sum_squares\nm,a,10,1,1\nm,b,-3,1,1\n", "row 2 (metric 'm', variant 'b'): n must be"),
        ("metric,variant,n,sum,sum_squares\nm,a,10,1,1\n", "row 1 (metric 'm', variant 'a')"),
        (HEADER + "m,a,10,1,1\nm,b,10,1,1\nk,b,10,1,1\nk,c,10,1,1\n", "without the control 'a'"),
        ("metric,variant,n,sum,sum_squares\nm,a,1,1,1\nm,b,10,1,1\n", "variance is undefined"),
    ],
)
def test_bad_input_exit_2_naming_the_row(tmp_path, rows, message, capsys):
    path = tmp_path / "bad.csv"
    path.write_text(rows)
    code, _, err = run(["experiment", "analyze", "--stats", str(path)], capsys)
    assert code == 2
    assert message in err and "Traceback" not in err


def test_usage_errors(tmp_path, stats_csv, capsys):
    code, _, err = run(["experiment", "analyze"], capsys)
    assert code == 2 and "--stats" in err
    code, _, err = run(["experiment", "analyze", "--stats", str(tmp_path / "missing.csv")], capsys)
    assert code == 2 and "no such file" in err
    (tmp_path / "x.txt").write_text("hi")
    code, _, err = run(["experiment", "analyze", "--stats", str(tmp_path / "x.txt")], capsys)
    assert code == 2 and "unknown format" in err
    code, _, err = run(["experiment", "analyze", "--stats", str(stats_csv), "--method", "bayesian",
                        "--correction", "holm"], capsys)  # fmt: skip
    assert code == 2 and "Bayesian" in err


def test_console_script_subprocess(stats_csv):
    proc = subprocess.run(
        [sys.executable, "-m", "aftersales", "experiment", "analyze", "--stats", str(stats_csv), "--format", "csv"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines()[0].startswith("metric,control,variant,kind,n")
    assert len(proc.stdout.splitlines()) == 5
