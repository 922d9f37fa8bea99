"""``aftersales keys`` and ``aftersales serve`` as processes: keys printed once and revocable, JSON logs
without keys or PII, graceful shutdown that completes an in-flight request."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

CLI = [sys.executable, "-c", "from aftersales.entrypoints.cli.app import main; main()"]


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*CLI, *args], capture_output=True, text=True, timeout=120)


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _serve(db: str, *args: str) -> tuple[str, subprocess.Popen[str]]:
    port = _port()
    proc = subprocess.Popen(
        [*CLI, "serve", "--port", str(port), "--db", db, *args],
        stderr=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            if httpx.get(f"{url}/readyz", timeout=1).status_code == 200:
                break
        except httpx.HTTPError:
            pass
        assert proc.poll() is None and time.monotonic() < deadline, "server did not become ready"
        time.sleep(0.1)
    return url, proc


@pytest.fixture
def server(tmp_path: Path) -> Iterator[tuple[str, str, subprocess.Popen[str]]]:
    db = str(tmp_path / "store.db")
    url, proc = _serve(db)
    yield url, db, proc
    if proc.poll() is None:
        proc.kill()
        proc.wait()


def test_keys_serve_revoke_and_clean_logs(server) -> None:
    url, db, proc = server
    created = _cli("keys", "create", "--scope", "ingest", "--name", "shop", "--db", db)
    assert created.returncode == 0, created.stderr
    key = created.stdout.strip()
    assert key.startswith("as_") and "not shown again" in created.stderr
    listed = _cli("keys", "list", "--db", db, "--format", "json")
    (row,) = json.loads(listed.stdout)
    assert row["scope"] == "ingest" and row["name"] == "shop" and key not in listed.stdout
    headers = {"Authorization": f"Bearer {key}"}
    body = {"customer_id": "c-1", "email": "ann.person@example.com", "phone": "+4791234567"}
    assert httpx.post(f"{url}/v1/customers", json=body, headers=headers).status_code == 201
    assert httpx.get(f"{url}/v1/customers/c-1", headers=headers).status_code == 403  # ingest cannot read
    assert _cli("keys", "revoke", row["key_id"], "--db", db).returncode == 0
    assert httpx.post(f"{url}/v1/customers", json={"customer_id": "c-2"}, headers=headers).status_code == 401
    assert _cli("keys", "revoke", "nope", "--db", db).returncode == 2
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode in (0, -signal.SIGTERM)  # uvicorn re-raises the signal after a clean shutdown
    assert "Application shutdown complete" in err
    records = [json.loads(line) for line in err.splitlines() if line.startswith("{")]
    access = [r for r in records if r.get("msg") == "request" and r.get("path", "").startswith("/v1")]
    assert len(access) == 3 and {r["status"] for r in access} == {201, 403, 401}
    for secret in (key, key.split("_", 2)[2], "ann.person@example.com", "+4791234567"):
        assert secret not in err


def test_sigterm_lets_an_in_flight_request_finish(server) -> None:
    url, db, proc = server
    key = _cli("keys", "create", "--scope", "ingest", "--db", db).stdout.strip()
    events = {
        "events": [
            {"event_id": f"e{i}", "anonymous_id": "d", "name": "n", "occurred_at": "2024-01-01T00:00:00Z"}
            for i in range(200)
        ]
    }
    payload = json.dumps(events).encode()

    def slow_body() -> Iterator[bytes]:
        yield payload[:100]
        proc.send_signal(signal.SIGTERM)  # the request is in flight: headers sent, body not finished
        time.sleep(1.0)
        yield payload[100:]

    r = httpx.post(
        f"{url}/v1/events",
        content=slow_body(),
        headers={"Authorization": f"Bearer {key}", "Content-Type": "application/json"},
        timeout=30,
    )
    assert r.status_code == 202 and r.json()["inserted"] == 200
    proc.wait(timeout=60)
    assert proc.returncode in (0, -signal.SIGTERM)


@pytest.mark.postgres
def test_workers_share_the_port_and_store_each_event_once(fresh_postgres_database, worker_id) -> None:
    """``serve --workers 2`` on PostgreSQL: the store is migrated once, two worker processes answer on one
    port, overlapping batches sent in parallel are stored once, and SIGTERM stops every process."""
    db = fresh_postgres_database(f"aftersales_serve_workers_{worker_id}")
    assert _cli("init", "--db", db).returncode == 0  # keys need the schema; serve would migrate it too
    key = _cli("keys", "create", "--scope", "ingest", "--db", db).stdout.strip()
    url, proc = _serve(db, "--workers", "2")
    try:
        children = subprocess.run(["pgrep", "-P", str(proc.pid)], capture_output=True, text=True).stdout.split()
        assert len(children) >= 2  # the two workers (plus, maybe, multiprocessing's resource tracker)

        def post(first: int) -> int:
            batch = [
                {"event_id": f"w{i}", "anonymous_id": "d", "name": "n", "occurred_at": "2024-01-01T00:00:00Z"}
                for i in range(first, first + 300)
            ]
            headers = {"Authorization": f"Bearer {key}"}
            r = httpx.post(f"{url}/v1/events", json={"events": batch}, headers=headers, timeout=60)
            assert r.status_code == 202, r.text
            return r.json()["inserted"]

        with ThreadPoolExecutor(4) as pool:
            inserted = sum(pool.map(post, [0, 100, 200, 300, 0, 600]))
        assert inserted == 900  # ids w0..w899, each stored once whichever worker took it
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.communicate(timeout=60)
    assert proc.returncode in (0, -signal.SIGTERM)
    deadline = time.monotonic() + 20
    while (alive := [p for p in children if _running(p)]) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not alive, [Path(f"/proc/{p}/cmdline").read_bytes() for p in alive]


def _running(pid: str) -> bool:
    try:
        return "zombie" not in Path(f"/proc/{pid}/status").read_text().lower()
    except OSError:
        return False
