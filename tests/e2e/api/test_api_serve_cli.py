"""``aftersales keys`` and ``aftersales serve`` as processes: keys printed once and revocable, JSON logs
without keys or PII, graceful shutdown that completes an in-flight request, workers that stop with
their supervisor. Every server started here is stopped, with its workers, whatever the test did."""

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
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

import httpx
import pytest

CLI = [sys.executable, "-c", "from aftersales.entrypoints.cli.app import main; main()"]


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*CLI, *args], capture_output=True, text=True, timeout=120)


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def _served(db: str, *args: str, stderr: Any = subprocess.PIPE) -> Iterator[tuple[str, subprocess.Popen[str]]]:
    """``aftersales serve`` on a free loopback port, ready; stopped on the way out whatever happened,
    a failed readiness check included: SIGTERM, then SIGKILL to its whole process group (the server is
    started in a session of its own, so its workers are in that group)."""
    port = _port()
    proc = subprocess.Popen(
        [*CLI, "serve", "--port", str(port), "--db", db, *args],
        stderr=stderr,
        stdout=subprocess.DEVNULL,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
        start_new_session=True,
    )
    try:
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 180  # a bound, not a speed check: a loaded 2-core machine took ~60 s
        while True:
            try:
                if httpx.get(f"{url}/readyz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert proc.poll() is None and time.monotonic() < deadline, "server did not become ready"
            time.sleep(0.1)
        yield url, proc
    finally:
        _stop_group(proc)


def _stop_group(proc: subprocess.Popen[str]) -> None:
    if proc.poll() is None:
        proc.terminate()
        with suppress(subprocess.TimeoutExpired):
            proc.communicate(timeout=30)
    with suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)  # whatever is left of its group: a hung supervisor, orphans
    if proc.poll() is None:
        proc.wait(timeout=30)


@pytest.fixture
def server(tmp_path: Path) -> Iterator[tuple[str, str, subprocess.Popen[str]]]:
    db = str(tmp_path / "store.db")
    with _served(db) as (url, proc):
        yield url, db, proc


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
def test_workers_share_the_port_and_store_each_event_once(fresh_postgres_database) -> None:
    """``serve --workers 2`` on PostgreSQL: the store is migrated once, two worker processes answer on one
    port, overlapping batches sent in parallel are stored once, and SIGTERM stops every process."""
    db = fresh_postgres_database("aftersales_serve_workers")
    assert _cli("init", "--db", db).returncode == 0  # keys need the schema; serve would migrate it too
    key = _cli("keys", "create", "--scope", "ingest", "--db", db).stdout.strip()
    with _served(db, "--workers", "2") as (url, proc):
        children = _children(proc.pid)
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
        proc.send_signal(signal.SIGTERM)
        proc.communicate(timeout=60)
        assert proc.returncode in (0, -signal.SIGTERM)
        assert not _still_running(children)


@pytest.mark.skipif(not Path("/proc").is_dir(), reason="reads the process table from /proc")
def test_workers_exit_when_the_supervisor_is_killed(tmp_path: Path) -> None:
    """``kill -9`` of the ``serve --workers 2`` supervisor: the workers notice (parent-death signal, and
    a watchdog on the parent), stop, and the port is free for the next start. Before, they were
    re-parented and went on serving, and the next ``serve`` on the port failed."""
    db = str(tmp_path / "store.db")
    with (tmp_path / "serve.log").open("w") as log, _served(db, "--workers", "2", stderr=log) as (url, proc):
        port = int(url.rsplit(":", 1)[1])
        deadline = time.monotonic() + 180
        while len(workers := [p for p in _children(proc.pid) if b"spawn_main" in _cmdline(p)]) < 2:
            assert time.monotonic() < deadline, "two workers did not start"
            time.sleep(0.1)
        proc.kill()
        proc.wait(timeout=30)
        alive = _still_running(workers, wait_s=90)
        assert not alive, [_cmdline(p) for p in alive]
        with socket.socket() as s:  # as uvicorn binds: only a listening socket can refuse this
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            s.bind(("127.0.0.1", port))
    assert "is gone: stopping this worker" in (tmp_path / "serve.log").read_text()


def _children(pid: int) -> list[str]:
    return subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True).stdout.split()


def _cmdline(pid: str) -> bytes:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return b""


def _still_running(pids: list[str], wait_s: float = 20) -> list[str]:
    """The processes of ``pids`` still running after waiting up to ``wait_s`` seconds for them to end."""
    deadline = time.monotonic() + wait_s
    while (alive := [p for p in pids if _running(p)]) and time.monotonic() < deadline:
        time.sleep(0.1)
    return alive


def _running(pid: str) -> bool:
    try:
        return "zombie" not in Path(f"/proc/{pid}/status").read_text().lower()
    except OSError:
        return False
