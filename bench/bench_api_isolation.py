"""Event ingestion latency while long analytics requests run (issue 12, item 8), as a ratio.

    .venv/bin/python bench/bench_api_isolation.py [--customers 5000] [--readers 6] [--seconds 20]

A generated store (``--customers``) is imported once into ``.bench-data/api-isolation-<N>.db`` (or
``--db URL``); ``aftersales serve`` runs on it in a subprocess on a free loopback port. The bench
then times single-event ``POST /v1/events`` and ``GET /healthz``, one after the other: first on an
idle server, then while ``--readers`` clients loop on a deliberately heavy metric (``retention_rate``
per day over a year, the request of the issue's report). It prints median and p95 latency in both
phases and their ratio, and how many analytics requests were answered and how many were refused
with 429 (the concurrency limit, ``ANALYTICS_CONCURRENCY`` per process). The issue's report before
the limit: median ingestion 9 ms idle, 921 ms under six such readers (ratio ~100).
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import threading
import time
import uuid
from datetime import date
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / ".bench-data"
HEAVY = {"name": "retention_rate", "period": "day", "from": "2025-01-01", "to": "2026-01-01"}


def _store(customers: int) -> str:
    """A SQLite store of a generated shop (as of 2026-01-01), imported once."""
    from aftersales import bootstrap
    from aftersales.core import contract

    db = DATA / f"api-isolation-{customers}.db"
    url = f"sqlite:///{db}"
    if db.exists():
        return url
    files = DATA / f"api-isolation-{customers}"
    gen = bootstrap.generate_store(customers, 1, date(2026, 1, 1), files)
    for table in contract.TABLES:
        if table in gen.paths:
            bootstrap.import_file(table, str(gen.paths[table]), db=url)
    return url


def _keys(url: str) -> dict[str, str]:
    from aftersales import bootstrap
    from aftersales.services.operational import api_keys

    bootstrap.init_store(url)
    uow = bootstrap.unit_of_work(url)
    return {scope: api_keys.create_key(uow, scope, name="bench-isolation").key for scope in ("ingest", "read")}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait_ready(base: str, proc: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"the server exited with {proc.returncode}")
        try:
            if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise SystemExit("the server did not become ready in 60 s")


def _probe(base: str, key: str, seconds: float) -> tuple[list[float], list[float]]:
    """(ingestion latencies, health latencies) in ms, one request after the other for ``seconds``."""
    ingest, health = [], []
    headers = {"Authorization": f"Bearer {key}"}
    with httpx.Client(base_url=base, timeout=60) as c:
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            event = {
                "event_id": uuid.uuid4().hex,
                "name": "checkout_started",
                "customer_id": "c1",
                "occurred_at": "2025-12-01T10:00:00Z",
            }
            t = time.perf_counter()
            r = c.post("/v1/events", json={"events": [event]}, headers=headers)
            ingest.append((time.perf_counter() - t) * 1000)
            assert r.status_code == 202, r.text
            t = time.perf_counter()
            assert c.get("/healthz").status_code == 200
            health.append((time.perf_counter() - t) * 1000)
            time.sleep(0.02)
    return ingest, health


def _reader(base: str, key: str, stop: threading.Event, counts: dict[int, int], lock: threading.Lock) -> None:
    with httpx.Client(base_url=base, timeout=600, headers={"Authorization": f"Bearer {key}"}) as c:
        while not stop.is_set():
            r = c.get("/v1/metrics", params=HEAVY)
            with lock:
                counts[r.status_code] = counts.get(r.status_code, 0) + 1
            if r.status_code == 429:
                stop.wait(0.5)  # a polite client would wait Retry-After; retry sooner to keep the pressure on


def _stats(xs: list[float]) -> tuple[float, float]:
    return statistics.median(xs), statistics.quantiles(xs, n=20)[-1] if len(xs) >= 20 else max(xs)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--customers", type=int, default=5_000)
    ap.add_argument("--db", default=None, help="store URL (default: a generated SQLite store)")
    ap.add_argument("--readers", type=int, default=6, help="concurrent analytics clients")
    ap.add_argument("--seconds", type=float, default=20.0, help="length of each phase")
    args = ap.parse_args()
    DATA.mkdir(exist_ok=True)
    url = args.db or _store(args.customers)
    keys = _keys(url)
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    cmd = [str(ROOT / ".venv/bin/aftersales"), "serve", "--db", url, "--port", str(port), "--log-level", "warning"]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        _wait_ready(base, proc)
        idle = _probe(base, keys["ingest"], args.seconds)
        stop, lock, counts = threading.Event(), threading.Lock(), {}
        readers = [
            threading.Thread(target=_reader, args=(base, keys["read"], stop, counts, lock), daemon=True)
            for _ in range(args.readers)
        ]
        for t in readers:
            t.start()
        time.sleep(2)  # let the analytics requests get going
        load = os.getloadavg()[0]
        busy = _probe(base, keys["ingest"], args.seconds)
        stop.set()
        for t in readers:
            t.join(600)
    finally:
        proc.terminate()
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
    print(f"store {url}; {args.readers} analytics clients on {HEAVY}; load {load:.1f}; {os.cpu_count()} CPUs\n")
    print(f"{'request':22} {'idle med ms':>12} {'idle p95':>9} {'busy med ms':>12} {'busy p95':>9} {'ratio':>6}")
    for name, i in (("POST /v1/events", 0), ("GET /healthz", 1)):
        (m0, p0), (m1, p1) = _stats(idle[i]), _stats(busy[i])
        print(f"{name:22} {m0:12.1f} {p0:9.1f} {m1:12.1f} {p1:9.1f} {m1 / m0:6.1f}")
    answered = sum(n for s, n in counts.items() if s == 200)
    print(f"\nanalytics answered {answered}, refused 429: {counts.get(429, 0)}, other: ", end="")
    print({s: n for s, n in counts.items() if s not in (200, 429)} or "none")
    print(f"samples: {len(idle[0])} idle, {len(busy[0])} busy")


if __name__ == "__main__":
    sys.exit(main())
