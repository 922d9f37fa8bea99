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


@pytest.fixture
def server(tmp_path: Path) -> Iterator[tuple[str, str, subprocess.Popen[str]]]:
    db = str(tmp_path / "store.db")
    port = _port()
    proc = subprocess.Popen(
        [*CLI, "serve", "--port", str(port), "--db", db],
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
