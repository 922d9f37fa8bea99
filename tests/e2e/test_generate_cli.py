"""``aftersales generate`` end to end, through the console entry point."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from aftersales.core.contract import TABLES
from aftersales.entrypoints.cli.app import main


def run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as exc:
        main(argv)
    out, err = capsys.readouterr()
    return int(exc.value.code or 0), out, err


def test_generate_writes_every_table_and_the_truth(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out_dir = tmp_path / "store"
    code, out, _ = run(
        ["generate", "--customers", "500", "--seed", "4", "--out", str(out_dir), "--as-of", "2025-03-01", "-f", "json"],
        capsys,
    )
    assert code == 0
    rows = {r["table"]: r["rows"] for r in json.loads(out)}
    assert rows["customers"] == 500
    for name in TABLES:
        assert pq.read_metadata(out_dir / f"{name}.parquet").num_rows == rows[name]
    truth = json.loads((out_dir / "truth.json").read_text())
    assert truth["seed"] == 4 and truth["observation_end"] == "2025-03-01T00:00:00+00:00"


def test_same_seed_same_files(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    for d in ("a", "b"):
        run(["generate", "-n", "300", "--seed", "8", "--out", str(tmp_path / d), "--as-of", "2025-03-01"], capsys)
    for name in TABLES:
        assert pq.read_table(tmp_path / "a" / f"{name}.parquet").equals(
            pq.read_table(tmp_path / "b" / f"{name}.parquet")
        ), name


def test_csv_output_and_default_as_of(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(["generate", "-n", "200", "--out", str(tmp_path), "--csv", "-f", "csv"], capsys)
    assert code == 0
    assert out.splitlines()[0] == "table,rows,file"
    assert (tmp_path / "orders.csv").read_text().startswith('"order_id","customer_id"')
    assert json.loads((tmp_path / "truth.json").read_text())["as_of"]  # today in the reporting zone


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["-n", "0"], "--customers"),
        (["--seed", "-1"], "--seed"),
        (["--as-of", "2025-13-01"], "--as-of"),
    ],
)
def test_bad_options_exit_2_with_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], args: list[str], message: str
) -> None:
    code, _, err = run(["generate", "--out", str(tmp_path / "x"), *args], capsys)
    assert code == 2
    assert message in err and "Traceback" not in err
    assert not (tmp_path / "x").exists()


def test_out_must_be_a_folder(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    f = tmp_path / "file"
    f.write_text("x")
    code, _, err = run(["generate", "-n", "10", "--out", str(f)], capsys)
    assert code == 2 and "not a folder" in err


def test_help(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(["generate", "--help"], capsys)
    assert code == 0 and "--customers" in out and "--as-of" in out


def test_generated_csv_store_imports_without_rejects(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    store, db = tmp_path / "store", tmp_path / "store.db"
    run(["generate", "-n", "150", "--seed", "3", "--out", str(store), "--csv", "--as-of", "2025-06-01"], capsys)
    for name in TABLES:  # contract order: parents before children
        code, _, err = run(["import", name, str(store / f"{name}.csv"), "--db", str(db)], capsys)
        assert code == 0, (name, err)
        assert not (store / f"{name}.csv.rejected.csv").exists()
