"""Customers' time zones and locales through the importers (CSV, JSON Lines, Parquet), on every store:
unknown ones are rejected with their row and column, the rest stored in normal form."""

from __future__ import annotations

import json

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from aftersales import bootstrap

ROWS = [
    {"customer_id": "c1", "timezone": "europe/berlin", "locale": "de-CH"},
    {"customer_id": "c2", "timezone": "Mars/Olympus_Mons", "locale": "en_US"},
    {"customer_id": "c3", "timezone": "America/New_York", "locale": "EN-us"},
    {"customer_id": "c4", "timezone": "", "locale": ""},
    {"customer_id": "c5", "timezone": "Asia/Tokyo", "locale": "xx_YY"},
    {"customer_id": "c6", "timezone": "Europe/Oslo", "locale": "nb_NO.UTF-8"},
]
STORED = {
    "c1": ("Europe/Berlin", "de_CH"),
    "c3": ("America/New_York", "en_US"),
    "c4": (None, None),
    "c6": ("Europe/Oslo", "nb_NO"),
}
REASONS = {
    "2": "timezone: unknown time zone 'Mars/Olympus_Mons' (use an IANA name such as Europe/Berlin)",
    "5": "locale: unknown language 'xx' in locale 'xx_YY' (use a language code such as en, en_US or de-CH)",
}


def _write(tmp_path, fmt: str):
    if fmt == "csv":
        import csv

        path = tmp_path / "customers.csv"
        with path.open("w", newline="") as f:
            w = csv.DictWriter(f, fieldnames=["customer_id", "timezone", "locale"])
            w.writeheader()
            w.writerows(ROWS)
    elif fmt == "jsonl":
        path = tmp_path / "customers.jsonl"
        path.write_text("".join(json.dumps({k: v or None for k, v in r.items()}) + "\n" for r in ROWS))
    else:
        path = tmp_path / "customers.parquet"
        columns = {k: [r[k] or None for r in ROWS] for k in ROWS[0]}
        pq.write_table(pa.table(columns), path)
    return path


@pytest.mark.parametrize("fmt", ["csv", "jsonl", "parquet"])
def test_bad_zones_and_locales_are_rejected_by_row_and_column(store_url, probe, tmp_path, fmt):
    path = _write(tmp_path, fmt)
    result = bootstrap.import_file("customers", str(path), db=store_url)
    assert (result.read, result.inserted, result.rejected) == (6, 4, 2)
    stored = {r["customer_id"]: (r["timezone"], r["locale"]) for r in probe.rows("customers")}
    assert stored == STORED
    rejects = probe.rejects(path)
    assert {r["row"]: r["reason"] for r in rejects} == REASONS
    assert {r["row"]: r["customer_id"] for r in rejects} == {"2": "c2", "5": "c5"}  # original values kept
    assert rejects[0]["timezone"] == "Mars/Olympus_Mons"


def test_reimporting_normal_forms_changes_nothing(store_url, probe, tmp_path):
    path = _write(tmp_path, "csv")
    bootstrap.import_file("customers", str(path), db=store_url)
    again = bootstrap.import_file("customers", str(path), db=store_url)
    assert (again.inserted, again.updated, again.unchanged, again.rejected) == (0, 0, 4, 2)
