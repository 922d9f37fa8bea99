"""Re-imports change nothing; an import killed halfway leaves a consistent store and resumes."""

from __future__ import annotations

import json

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from aftersales import bootstrap
from aftersales.core.errors import MissingColumnError, UnknownFormatError, UnusableInputError


def _orders(n: int) -> list[dict[str, str]]:
    return [
        {
            "order_id": f"o{i:05d}",
            "customer_id": f"c{i % 50}",
            "ordered_at": f"2024-01-{1 + i % 28:02d}T12:00:00Z",
            "revenue": f"{i % 97}.50",
        }
        for i in range(n)
    ]


def test_reimport_changes_nothing_and_edits_are_updates(store_url, probe, write_csv):
    path = write_csv("orders.csv", _orders(120))
    first = bootstrap.import_file("orders", str(path), db=store_url, create_missing_customers=True, batch_size=50)
    again = bootstrap.import_file("orders", str(path), db=store_url, create_missing_customers=True, batch_size=50)
    assert (first.inserted, first.updated, first.unchanged) == (120, 0, 0)
    assert (again.inserted, again.updated, again.unchanged, again.created_customers) == (0, 0, 120, 0)
    edited = _orders(120)
    edited[7]["revenue"] = "1000.00"
    path2 = write_csv("orders2.csv", [*edited, {**edited[0], "order_id": "new"}])
    third = bootstrap.import_file("orders", str(path2), db=store_url, batch_size=50)
    assert (third.inserted, third.updated, third.unchanged) == (1, 1, 119)
    assert probe.count("orders") == 121 and probe.count("customers") == 50


class Killed(BaseException):
    """Stands in for the process being killed between two batches."""


def test_interrupted_import_resumes_without_duplicates(store_url, probe, write_csv):
    path = write_csv("orders.csv", _orders(500))

    def kill_after_three(result):
        if result.read >= 300:
            raise Killed

    with pytest.raises(Killed):
        bootstrap.import_file(
            "orders", str(path), db=store_url, create_missing_customers=True, batch_size=100, on_batch=kill_after_three
        )
    assert probe.count("orders") == 300  # whole batches only: the store is consistent
    resumed = bootstrap.import_file("orders", str(path), db=store_url, create_missing_customers=True, batch_size=100)
    assert (resumed.inserted, resumed.unchanged, resumed.rejected) == (200, 300, 0)
    assert probe.count("orders") == 500


def test_parquet_and_json_lines(store_url, probe, tmp_path, customers):
    table = pa.table(
        {
            "customer_id": ["p1", "p2"],
            "created_at": pa.array([1_700_000_000_000_000, None], pa.timestamp("us", tz="Europe/Oslo")),
            "email_consent": [True, False],
        }
    )
    pq.write_table(table, tmp_path / "c.parquet")
    res = bootstrap.import_file("customers", str(tmp_path / "c.parquet"), db=store_url)
    assert (res.inserted, res.rejected) == (2, 0)
    naive = pa.table({"customer_id": ["p3"], "created_at": pa.array([0], pa.timestamp("us"))})
    pq.write_table(naive, tmp_path / "naive.parquet")
    res = bootstrap.import_file("customers", str(tmp_path / "naive.parquet"), db=store_url)
    assert res.rejected == 1 and probe.rejects(tmp_path / "naive.parquet")[0]["reason"].startswith(
        "created_at: no time zone"
    )
    lines = [
        json.dumps(
            {
                "event_id": "e1",
                "name": "checkout_started",
                "occurred_at": "2024-01-01T00:00:00Z",
                "properties": {"cart": 3},
            }
        ),
        "{not json",
        json.dumps({"event_id": "e2", "name": "checkout_completed", "occurred_at": "2024-01-01T00:05:00+00:00"}),
    ]
    (tmp_path / "events.jsonl").write_text("\n".join(lines) + "\n")
    res = bootstrap.import_file("events", str(tmp_path / "events.jsonl"), db=store_url)
    assert (res.inserted, res.rejected) == (2, 1)
    assert probe.rejects(tmp_path / "events.jsonl")[0]["row"] == "2"
    assert json.loads(probe.rows("events")[0]["properties"]) == {"cart": 3}


def test_map_renames_file_columns(store_url, probe, write_csv):
    path = write_csv("c.csv", [{"id": "x1", "mail": "x@example.com", "extra": "?"}])
    res = bootstrap.import_file("customers", str(path), db=store_url, mapping={"id": "customer_id", "mail": "email"})
    assert res.inserted == 1 and res.ignored_columns == ("extra",)
    assert probe.rows("customers")[0]["email"] == "x@example.com"


@pytest.mark.parametrize(
    ("content", "name", "fmt", "error", "message"),
    [
        (None, "missing.csv", None, UnusableInputError, "no such file"),
        ("", "empty.csv", None, UnusableInputError, "no header row"),
        ("customer_id\nc1\n", "c.xlsx", None, UnknownFormatError, "pass --format"),
        ("customer_id\nc1\n", "c.csv", "excel", UnknownFormatError, "unknown format 'excel'"),
        ("order_id,revenue\no1,3\n", "o.csv", None, MissingColumnError, "required column(s) absent: customer_id"),
    ],
)
def test_unusable_input_writes_nothing(store_url, probe, tmp_path, content, name, fmt, error, message):
    path = tmp_path / name
    if content is not None:
        path.write_text(content)
    table = "orders" if name == "o.csv" else "customers"
    with pytest.raises(error, match=message.replace("(", r"\(").replace(")", r"\)")):
        bootstrap.import_file(table, str(path), db=store_url, fmt=fmt)
    assert probe.count(table) == 0
