"""Sustained event ingestion through POST /v1/events into PostgreSQL, beside COPY of the same rows.

Run by hand (PostgreSQL on 127.0.0.1:5432, trust auth):

    .venv/bin/python bench/bench_ingest.py [--events 200000] [--concurrency 4] [--repeat 3]

It creates the database ``aftersales_bench``, starts ``aftersales serve --workers N`` (log level
warning; N from ``--workers``, by default 1 then 2) on a free loopback port, and generates load from a
second process (httpx, one thread per connection, payloads serialised before the clock starts). For
batches of 100 and 1,000 events it prints throughput and p50/p99 request latency, then the rate of
``COPY ... FROM STDIN`` of the same rows into an identical table (the practical limit; a COPY run
follows each run of batches of 1,000, so that both see the same load from the rest of the machine).
Each figure is the median of ``--repeat`` runs (the machine is shared, so single runs are noisy). It
also prints the CPU time the API processes and the PostgreSQL backends spent per event (from /proc,
Linux): less noisy than rates, and it shows where the time goes.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import time
import uuid

import psycopg

ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"
DB = "aftersales_bench"
URL = f"postgresql+psycopg://postgres@127.0.0.1:5432/{DB}"

LOADGEN = r"""
import json, sys, threading, time, httpx
url, key, run = sys.argv[1], sys.argv[2], sys.argv[6]
batch, total, conc = int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
def payload(w, i):
    return json.dumps({"events": [{"event_id": f"{run}-{w}-{i}-{j}", "customer_id": f"c{(i * batch + j) % 50000}",
        "name": "checkout_completed", "occurred_at": "2024-03-01T10:00:00+01:00",
        "properties": {"value": j, "currency": "EUR"}} for j in range(batch)]}).encode()
per = total // batch // conc
bodies = [[payload(w, i) for i in range(per)] for w in range(conc)]
lat, errors = [], []
def worker(w):
    with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {key}", "Content-Type": "application/json"},
                      timeout=60) as c:
        for body in bodies[w]:
            t = time.perf_counter(); r = c.post("/v1/events", content=body); lat.append(time.perf_counter() - t)
            if r.status_code != 202: errors.append(r.status_code)
threads = [threading.Thread(target=worker, args=(w,)) for w in range(conc)]
start = time.perf_counter()
for t in threads: t.start()
for t in threads: t.join()
elapsed = time.perf_counter() - start
lat.sort()
print(json.dumps({"events": per * conc * batch, "elapsed": elapsed, "p50": lat[len(lat) // 2],
                  "p99": lat[min(len(lat) - 1, int(len(lat) * 0.99))], "errors": len(errors)}))
"""


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _fresh_database() -> None:
    with psycopg.connect(ADMIN, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{DB}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{DB}"')


def _cli(*args: str) -> str:
    code = "from aftersales.entrypoints.cli.app import main; main()"
    return subprocess.run([sys.executable, "-c", code, *args], check=True, capture_output=True, text=True).stdout


def _cpu_s(pids: list[int]) -> float:
    """User + system CPU seconds of ``pids`` so far (0 where /proc is not there)."""
    total, tick = 0.0, os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
    for pid in pids:
        try:
            with open(f"/proc/{pid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += (int(fields[11]) + int(fields[12])) / tick
    return total


def _backends() -> list[int]:
    with psycopg.connect(ADMIN, autocommit=True) as conn:
        rows = conn.execute("SELECT pid FROM pg_stat_activity WHERE datname = %s", (DB,)).fetchall()
    return [r[0] for r in rows]


def _copy_once(n: int, k: int) -> float:
    rows = [
        (
            f"copy-{i}",
            f"c{i % 50000}",
            None,
            "checkout_completed",
            "2024-03-01 09:00:00+00",
            json.dumps({"value": i % 1000, "currency": "EUR"}),
        )
        for i in range(n)
    ]
    with psycopg.connect(f"postgresql://postgres@127.0.0.1:5432/{DB}") as conn:
        conn.execute(f"CREATE TABLE events_copy_{k} (LIKE events INCLUDING ALL)")
        start = time.perf_counter()
        with conn.cursor().copy(
            f"COPY events_copy_{k} (event_id, customer_id, anonymous_id, name, occurred_at, properties) FROM STDIN"
        ) as cp:
            for r in rows:
                cp.write_row(r)
        conn.commit()
        return n / (time.perf_counter() - start)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--events", type=int, default=200_000)
    ap.add_argument("--concurrency", type=int, default=4)
    ap.add_argument("--repeat", type=int, default=3, help="runs per figure; the median is shown")
    ap.add_argument("--workers", type=int, nargs="+", default=[1, 2], help="API worker processes to try")
    args = ap.parse_args()
    _fresh_database()
    _cli("init", "--db", URL)
    key = _cli("keys", "create", "--scope", "ingest", "--db", URL).strip()
    results, copies = [], []
    for workers in args.workers:
        results += _serve_and_load(key, workers, args, copies)
    copy = statistics.median(copies)
    print(f"{'path':<42} {'events/s':>10} {'p50 ms':>8} {'p99 ms':>8} {'errors':>6} {'of COPY':>8} {'CPU us/ev':>10}")
    for name, r, cpu in results:
        rate = r["events"] / r["elapsed"]
        print(
            f"{name:<42} {rate:>10,.0f} {r['p50'] * 1000:>8.1f} {r['p99'] * 1000:>8.1f} {r['errors']:>6} "
            f"{rate / copy:>8.0%} {cpu * 1e6:>10.1f}"
        )
    print(f"{'COPY FROM STDIN (psycopg)':<42} {copy:>10,.0f} {'':>8} {'':>8} {'':>6} {'100%':>8}")
    print(
        f"\n{args.events:,} events per run, median of {args.repeat} runs, {args.concurrency} client connections, "
        f"cores: {os.cpu_count()}; CPU = API processes + PostgreSQL backends"
    )


def _serve_and_load(
    key: str, workers: int, args: argparse.Namespace, copies: list[float]
) -> list[tuple[str, dict, float]]:
    """Start ``aftersales serve --workers N``, run both batch sizes against it, stop it. A COPY run
    follows every run of batches of 1,000 (its rate is appended to ``copies``), so that the two are
    measured under the same load from the rest of the machine."""
    port = _port()
    code = "from aftersales.entrypoints.cli.app import main; main()"
    cmd = ["serve", "--port", str(port), "--db", URL, "--log-level", "warning", "--workers", str(workers)]
    server = subprocess.Popen([sys.executable, "-c", code, *cmd], stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    results = []
    try:
        import httpx

        for _ in range(600):
            try:
                if httpx.get(f"{url}/readyz").status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.1)
        time.sleep(1.0 if workers > 1 else 0.0)  # the other workers finish starting
        for batch in (100, 1000):
            runs = []
            for _ in range(args.repeat):
                pids = [server.pid, *_children(server.pid), *_backends()]
                before = _cpu_s(pids)
                r = _load(url, key, batch, args.events, args.concurrency)
                r["cpu"] = (_cpu_s(pids) - before) / r["events"]
                runs.append(r)
                if batch == 1000:
                    copies.append(_copy_once(args.events, len(copies)))
            r = sorted(runs, key=lambda x: x["events"] / x["elapsed"])[len(runs) // 2]
            name = f"POST /v1/events, batch {batch}, {workers} worker{'s' if workers > 1 else ''}"
            results.append((name, r, statistics.median(x["cpu"] for x in runs)))
    finally:
        server.terminate()
        server.wait()
    return results


def _children(pid: int) -> list[int]:
    """Child processes of ``pid`` (uvicorn's workers), from /proc (Linux; empty elsewhere)."""
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as f:
            return [int(p) for p in f.read().split()]
    except OSError:
        return []


def _load(url: str, key: str, batch: int, events: int, concurrency: int) -> dict:
    cmd = [sys.executable, "-c", LOADGEN, url, key, str(batch), str(events), str(concurrency), uuid.uuid4().hex[:8]]
    return json.loads(subprocess.run(cmd, check=True, capture_output=True, text=True).stdout)


if __name__ == "__main__":
    main()
