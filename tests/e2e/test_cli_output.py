"""Output polish (issue 11 item 8) and store URLs that keep their password to themselves (issue 12 item 13).

One money format in tables (``697,872.07``, never ``6.979e+05``), money rounded to cents in JSON and
CSV, tables off a terminal at their natural width (no header folded letter by letter), progress bars
only on terminals, ``metrics --help`` listing the metric names, passwords masked wherever a URL is
shown, and ``serve`` reading its URL from a file or the settings.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from aftersales.config import get_settings
from aftersales.core.metrics.registry import METRICS, MONEY_METRICS
from aftersales.core.urls import mask_url
from aftersales.entrypoints.cli.app import main
from aftersales.entrypoints.cli.render import OutputFormat, is_money, render_records
from aftersales.entrypoints.cli.serve import store_url

RECORD = {"metric": "average_order_value", "period": "2025-01-01", "value": 697872.0712, "orders": 12345}
RECORD |= {"revenue": 1516374.9800000018, "starting_mrr": 2166.0, "share": 0.123456}


def cli(*args: str, cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith("AFTERSALES_")}
    return subprocess.run(
        [sys.executable, "-m", "aftersales", *args],
        cwd=cwd,
        env=base | (env or {}),
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_money_names_come_from_the_contract_and_the_registry():
    assert METRICS.keys() >= MONEY_METRICS
    assert all(is_money(n) for n in ("revenue", "mrr", "amount", "ending_mrr", "revenue_existing", *MONEY_METRICS))
    assert not any(is_money(n) for n in ("orders", "customers", "value", "churn_rate", "n_customers"))


def test_tables_show_money_with_cents_and_never_scientific(capsys):
    render_records([RECORD], OutputFormat.table)
    out = capsys.readouterr().out
    assert "697,872.07" in out and "1,516,374.98" in out and "2,166.00" in out and "12,345" in out
    assert "e+" not in out and "0.1235" in out  # a share keeps four significant digits


def test_json_and_csv_round_money_to_cents(capsys):
    render_records([RECORD], OutputFormat.json)
    row = json.loads(capsys.readouterr().out)[0]
    assert row["revenue"] == 1516374.98 and row["value"] == 697872.07 and row["share"] == 0.123456
    render_records([RECORD], OutputFormat.csv)
    out = capsys.readouterr().out
    assert "1516374.98" in out and "1516374.9800000018" not in out and "697872.07" in out


def test_a_metric_whose_value_is_not_money_keeps_its_precision(capsys):
    render_records([{"metric": "retention_rate", "value": 97.254321}], OutputFormat.json)
    assert json.loads(capsys.readouterr().out)[0]["value"] == 97.254321


def test_tables_off_a_terminal_never_fold_their_headers(capsys):
    """Eleven long column names are wider than 80 (or 100) columns: off a terminal the table keeps its
    natural width, so every header stays on one line."""
    columns = [f"a_rather_long_column_name_{i}" for i in range(11)]
    render_records([dict.fromkeys(columns, 1.5)], OutputFormat.table, title="wide")
    out = capsys.readouterr().out
    assert all(c in out for c in columns), out[:400]


def test_generate_writes_no_progress_bar_into_a_pipe(tmp_path):
    res = cli("generate", "-n", "200", "--seed", "3", "--out", "s", "--as-of", "2025-03-01", "-f", "csv", cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    assert res.stderr == ""  # the bar went to stderr, piped, before the fix
    assert res.stdout.startswith("table,")


def test_metrics_help_lists_every_metric(tmp_path):
    res = cli("metrics", "--help", cwd=tmp_path)
    assert res.returncode == 0
    assert all(name in res.stdout for name in METRICS), res.stdout


def test_mask_url_hides_passwords_only():
    assert mask_url("postgresql://user:PW@host/db") == "postgresql://user:***@host/db"
    assert mask_url("postgresql://user@host/db") == "postgresql://user@host/db"
    assert mask_url("sqlite:////tmp/a.db") == "sqlite:////tmp/a.db"


def test_init_on_postgresql_does_not_print_the_password(postgres_url, tmp_path):
    """The server trusts local connections, so any password works; it must not be printed."""
    with_password = make_url(postgres_url).set(password="S3cretPW").render_as_string(hide_password=False)
    res = cli("init", "--db", with_password, cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    assert "S3cretPW" not in res.stdout + res.stderr and ":***@" in res.stdout


def test_serve_reads_its_url_from_a_file_or_the_settings(tmp_path, monkeypatch, capsys):
    secret = tmp_path / "db-url"
    secret.write_text("postgresql://app:PW@127.0.0.1/prod\n")
    assert store_url(None, secret) == "postgresql://app:PW@127.0.0.1/prod"
    monkeypatch.setenv("AFTERSALES_DATABASE_URL_FILE", str(secret))
    get_settings.cache_clear()
    try:
        assert store_url(None, None) == "postgresql://app:PW@127.0.0.1/prod"
    finally:
        monkeypatch.delenv("AFTERSALES_DATABASE_URL_FILE")
        get_settings.cache_clear()
    assert store_url(None, None) is None  # bootstrap then takes AFTERSALES_DATABASE_URL or ./aftersales.db
    assert store_url("postgresql://app:PW@127.0.0.1/prod", None).endswith("/prod")
    assert "visible to other users" in capsys.readouterr().err  # a password on the command line is warned of


def test_serve_refuses_two_urls_and_an_empty_file(tmp_path, capsys):
    empty = tmp_path / "empty"
    empty.write_text("\n")
    for argv, message in (
        (["serve", "--db", "x.db", "--db-file", str(empty)], "error: give --db or --db-file, not both"),
        (["serve", "--db-file", str(empty)], "the store URL file is empty"),
        (["serve", "--db-file", str(tmp_path / "missing")], "cannot read the store URL file"),
    ):
        with pytest.raises(SystemExit) as exc:
            main(argv)
        assert exc.value.code == 2 and message in capsys.readouterr().err
