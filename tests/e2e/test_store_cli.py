"""The CLI as a user runs it: exit codes 0 / 2 / 3, one-line errors, --help and --version."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from aftersales import __version__


def run(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AFTERSALES_")}
    return subprocess.run(
        [sys.executable, "-m", "aftersales", *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=120
    )


def test_version_and_help(tmp_path):
    assert run("--version", cwd=tmp_path).stdout.strip() == f"aftersales {__version__}"
    for args in (["--help"], ["import", "--help"], ["init", "--help"]):
        res = run(*args, cwd=tmp_path)
        assert res.returncode == 0 and "Usage" in res.stdout


def test_init_then_import_exit_codes(tmp_path):
    res = run("init", cwd=tmp_path)
    assert res.returncode == 0 and "store created at revision" in res.stdout
    assert (tmp_path / "aftersales.db").exists()  # the embedded default
    (tmp_path / "c.csv").write_text("customer_id,country\nc1,NO\nc2,SE\n")
    ok = run("import", "customers", "c.csv", "--output", "json", cwd=tmp_path)
    assert ok.returncode == 0, ok.stderr
    assert json.loads(ok.stdout)[0] | {} == {
        "table": "customers",
        "inserted": 2,
        "updated": 0,
        "unchanged": 0,
        "read": 2,
        "rejected": 0,
        "duplicates": 0,
    }
    (tmp_path / "o.csv").write_text(
        "order_id,customer_id,ordered_at,revenue\no1,c1,2024-01-01T00:00:00Z,5\no2,c1,2024-01-01 00:00,5\n"
    )
    partial = run("import", "orders", "o.csv", cwd=tmp_path)
    assert partial.returncode == 3
    assert "1 rows rejected: see o.csv.rejected.csv" in partial.stderr
    assert (tmp_path / "o.csv.rejected.csv").exists()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["import", "customers", "missing.csv"], "error: missing.csv: no such file"),
        (["import", "customers", "c.txt"], "error: c.txt: cannot tell the format"),
        (["import", "orders", "c.csv"], "error: c.csv: required column(s) absent: order_id, ordered_at, revenue"),
        (["import", "nonsense", "c.csv"], "error: unknown table 'nonsense'"),
        (
            ["import", "customers", "c.csv", "--map", "oops"],
            "error: --map 'oops': expected FILE_COLUMN=CONTRACT_COLUMN",
        ),
    ],
)
def test_unusable_input_exits_2_with_one_line(tmp_path, args, message):
    (tmp_path / "c.csv").write_text("customer_id\nc1\n")
    (tmp_path / "c.txt").write_text("customer_id\nc1\n")
    res = run(*args, cwd=tmp_path)
    assert res.returncode == 2
    assert res.stderr.strip().startswith(message), res.stderr
    assert "Traceback" not in res.stderr and len(res.stderr.strip().splitlines()) == 1


def test_unreachable_store_exits_1_with_one_line_and_no_password(tmp_path):
    (tmp_path / "c.csv").write_text("customer_id\nc1\n")
    res = run("import", "customers", "c.csv", "--db", "postgresql://someone:secret@127.0.0.1:1/x", cwd=tmp_path)
    assert res.returncode == 1
    line = res.stderr.strip()
    assert line.startswith("error: cannot open the store postgresql+psycopg://someone:***@127.0.0.1:1/x: ")
    assert "secret" not in res.stderr and len(line.splitlines()) == 1


BAD_FILES = {
    # name: (content, expected exit code); 2 = unusable, nothing written; 3 = rows rejected, the rest kept
    "latin1.csv": (b"customer_id,name\nc1,Ann\nc2,M\xfcller\n", 3),
    "utf16.csv": ("customer_id,name\nc1,Ann\n".encode("utf-16"), 2),
    "binary.csv": (bytes(range(256)) * 20, 2),
    "binary.jsonl": (b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 20, 2),
    "header.csv": (b"customer_id,name", 0),
    "huge.csv": (b"customer_id,name\nc1,Ann\nc2," + b"x" * 20_000_000 + b"\n", 3),
    "nul.csv": (b"customer_id,name\nc1,A\x00nn\nc2,Bo\n", 3),
    "counts.jsonl": (b'{"customer_id": "c1"}\n[1]\n{"customer_id": \n{"customer_id": "c2"}\n', 3),
}


@pytest.mark.parametrize("name", list(BAD_FILES))
def test_bad_files_never_exit_1(tmp_path, name):
    content, code = BAD_FILES[name]
    (tmp_path / name).write_bytes(content)
    res = run("import", "customers", name, "--output", "json", cwd=tmp_path)
    assert res.returncode == code, res.stderr
    assert "internal error" not in res.stderr and "Traceback" not in res.stderr
    rejects = tmp_path / f"{name}.rejected.csv"
    assert rejects.exists() == (code == 3)  # never an empty reject file
    if code != 2:
        [summary] = json.loads(res.stdout)
        assert summary["read"] == summary["inserted"] + summary["rejected"]
        assert summary["rejected"] == (len(rejects.read_text().splitlines()) - 1 if code == 3 else 0)


def test_database_limits_are_rejected_rows_on_every_store(tmp_path, store_url):
    """NUL and revenue 1e20 crashed PostgreSQL imports (DataError); both stores now reject the rows."""
    (tmp_path / "c.csv").write_text("customer_id,name\nc1,Ann\nc2,A\x00nn\n")
    (tmp_path / "o.csv").write_text(
        "order_id,customer_id,ordered_at,revenue\no1,c1,2024-01-01T00:00:00Z,1e20\no2,c1,2024-01-01T00:00:00Z,5\n"
    )
    for table, name in (("customers", "c.csv"), ("orders", "o.csv")):
        res = run("import", table, name, "--db", store_url, "--output", "json", cwd=tmp_path)
        assert res.returncode == 3, res.stderr
        assert json.loads(res.stdout)[0]["inserted"] == 1
        assert (tmp_path / f"{name}.rejected.csv").exists()


def test_assume_timezone_and_one_column_mapped_twice(tmp_path):
    (tmp_path / "o.csv").write_text("Order,Customer Email,Placed,Total\no1,ann@example.com,2024-01-15 10:00,5\n")
    args = ["--map", "Order=order_id", "--map", "Customer Email=customer_id", "--map", "Customer Email=email"]
    res = run("import", "customers", "o.csv", *args[2:], "--output", "json", cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    res = run(
        "import",
        "orders",
        "o.csv",
        *args[:4],
        "--map",
        "Placed=ordered_at",
        "--map",
        "Total=revenue",
        "--assume-timezone",
        "Europe/Oslo",
        "--output",
        "json",
        cwd=tmp_path,
    )
    assert res.returncode == 0, res.stderr
    assert json.loads(res.stdout)[0] | {} == {
        "table": "orders",
        "inserted": 1,
        "updated": 0,
        "unchanged": 0,
        "read": 1,
        "rejected": 0,
        "duplicates": 0,
        "assumed_timezone": "Europe/Oslo",
    }
    bad = run("import", "orders", "o.csv", *args[:4], "--assume-timezone", "Nowhere/Town", cwd=tmp_path)
    assert bad.returncode == 2
    assert (
        bad.stderr.strip()
        == "error: --assume-timezone 'Nowhere/Town': not a time zone name (use an IANA name: Europe/Oslo, UTC)"
    )
