"""``aftersales audiences`` as a user runs it: export with counts of who was left out and why, exit 2
and no file for a mismatching extension or an unknown segment, destinations, and a sync to a
loopback receiver (allowed through AFTERSALES_WEBHOOK_ALLOW_HOSTS, as in development)."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from sqlalchemy import insert

from aftersales.adapters.sql.engine import make_engine
from aftersales.adapters.sql.migrate import upgrade
from aftersales.adapters.sql.segment_tables import segment_memberships, segments
from aftersales.adapters.sql.tables import TABLES

T0 = datetime(2024, 6, 30, 12, tzinfo=UTC)
CUSTOMERS = [  # customer_id, email, phone, name, country, email_consent, sms_consent
    ("c1", "Ann.Lee@Gmail.com", "020 7946 0958", "Ann Lee", "GB", True, False),
    ("c2", None, "0170 1234567", "Jörg Maß", "DE", False, True),
    ("c3", "no@example.com", None, "No Consent", "US", False, False),
    ("c4", None, None, "Nobody", "US", True, True),
]


def run(*args: str, cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith("AFTERSALES_")}
    return subprocess.run(
        [sys.executable, "-m", "aftersales", *args],
        cwd=cwd,
        env={**base, **(env or {})},
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.fixture
def db(tmp_path: Path) -> str:
    """A SQLite store with segment ``vip`` holding c1..c4."""
    url = f"sqlite:///{tmp_path / 'store.db'}"
    engine = make_engine(url)
    upgrade(engine)
    keys = ("customer_id", "email", "phone", "name", "country", "email_consent", "sms_consent")
    with engine.begin() as conn:
        conn.execute(insert(TABLES["customers"]), [dict(zip(keys, c, strict=True)) for c in CUSTOMERS])
        conn.execute(insert(segments).values(segment_id="seg_vip", name="vip", definition_json="{}",
                                             definition_text="true", created_at=T0, updated_at=T0))  # fmt: skip
        conn.execute(insert(segment_memberships), [dict(segment_id="seg_vip", customer_id=c[0], entered_at=T0)
                                                   for c in CUSTOMERS])  # fmt: skip
    engine.dispose()
    return url


def test_export_prints_who_left_and_why(db: str, tmp_path: Path) -> None:
    res = run("audiences", "export", "vip", "--format", "meta", "--out", "vip.csv", "--db", db, cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    assert res.stdout.strip() == (
        "exported 2 of 4 members of segment 'vip' to vip.csv (meta: 1 e-mail, 1 phone); "
        "left out 2 (no e-mail or phone 1, no consent 1)"
    )
    with (tmp_path / "vip.csv").open(encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    assert list(rows[0]) == ["EMAIL", "PHONE", "FN", "LN", "COUNTRY"]
    assert len(rows) == 2 and all(len(v) == 64 for v in rows[1].values() if v)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["vip", "--format", "parquet", "--out", "vip.csv"],
         "error: output file vip.csv is named csv (.csv) but --format parquet writes parquet (.parquet)"),
        (["vip", "--format", "google", "--out", "vip.parquet"],
         "error: output file vip.parquet is named parquet (.parquet) but --format google writes csv (.csv)"),
        (["nope", "--format", "csv", "--out", "nope.csv"], "error: no segment 'nope'"),
    ],
)  # fmt: skip
def test_bad_exports_exit_2_and_write_nothing(db: str, tmp_path: Path, args: list[str], message: str) -> None:
    before = set(tmp_path.iterdir())
    res = run("audiences", "export", *args, "--db", db, cwd=tmp_path)
    assert res.returncode == 2
    assert res.stderr.startswith(message), res.stderr
    assert set(tmp_path.iterdir()) == before


class Receiver:
    def __init__(self) -> None:
        self.bodies: list[dict] = []
        self.status = 200
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                receiver.bodies.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
                self.send_response(receiver.status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/audience"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    yield r
    r.server.shutdown()
    r.server.server_close()


def test_destinations_and_sync(db: str, tmp_path: Path, receiver: Receiver) -> None:
    allow = {"AFTERSALES_WEBHOOK_ALLOW_HOSTS": "127.0.0.0/8"}
    refused = run("audiences", "destinations", "add", "crm", "--url", receiver.url, "--db", db, cwd=tmp_path)
    assert refused.returncode == 2 and "not a public address" in refused.stderr
    added = run("audiences", "destinations", "add", "crm", "--url", receiver.url, "--db", db, cwd=tmp_path, env=allow)
    assert added.returncode == 0, added.stderr
    assert added.stdout.strip().startswith("whsec_")
    listed = run("audiences", "destinations", "list", "--format", "json", "--db", db, cwd=tmp_path)
    assert [(d["name"], d["url"]) for d in json.loads(listed.stdout)] == [("crm", receiver.url)]
    assert "whsec_" not in listed.stdout

    receiver.status = 503
    failed = run("audiences", "sync", "vip", "--to", "crm", "--db", db, cwd=tmp_path, env=allow)
    assert failed.returncode == 1
    assert "error: destination 'crm' did not acknowledge a batch (HTTP 503); run the sync again" in failed.stderr

    receiver.status = 200
    synced = run("audiences", "sync", "vip", "--to", "crm", "--db", db, cwd=tmp_path, env=allow)
    assert synced.returncode == 0, synced.stderr
    assert synced.stdout.startswith("sent 2 adds and 0 removes in 1 batches (1 resent from an earlier sync)")
    assert receiver.bodies[0] == receiver.bodies[1]  # the retry resent the very same batch
    assert receiver.bodies[1]["adds"] == [
        {"customer_id": "c1", "email": "ann.lee@gmail.com"},
        {"customer_id": "c2", "phone": "+491701234567"},
    ]
    deleted = run("audiences", "destinations", "delete", "crm", "--db", db, cwd=tmp_path)
    assert deleted.returncode == 0 and "deleted" in deleted.stdout
