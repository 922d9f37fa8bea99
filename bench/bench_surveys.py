"""Surveys (issue 16): theming comments, the response page under load, and driver analysis at scale.

* **themes**: ``--comments`` comments written by the generator's phrase bank (``core/synthetic/
  feedback.py``, six themes) through ``find_themes`` (TF-IDF + NMF, 8 themes): wall time and the
  adjusted Rand index against the true themes; then VADER sentiment on all of them (timed apart).
* **page**: ``aftersales serve`` (one process, no journey worker) on a fresh store (SQLite, or
  ``--pg URL`` for PostgreSQL), ``--sends`` invitations; then open-loop load at ``--rate`` requests
  per second for ``--seconds`` from ``--clients`` threads: a third each of GET /s/{token} (view),
  GET ?score=N (records a score) and POST (the follow-up form), each on a random send. Achieved
  rate, status counts, p50/p99/max latency (from the request's scheduled start, so a server that
  falls behind shows it).
* **drivers**: ``--responses`` generated CES responses (6 rows each) in DuckDB through
  ``survey_drivers`` (the engine pivots and sums cross-products; Python solves): wall time.

    .venv/bin/python bench/bench_surveys.py [--comments 100000] [--responses 1000000] [--rate 200] [--pg URL]
"""

from __future__ import annotations

import argparse
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pyarrow as pa

KEY = "bench-surveys-signing-key-of-32-bytes!"
DOC = {
    "name": "bench-nps",
    "kind": "nps",
    "question": {"en": "How likely are you to recommend us?", "de": "Wie wahrscheinlich empfehlen Sie uns?"},
    "dimensions": [{"id": d, "question": {"en": f"How was the {d}?"}} for d in ("shipping", "product", "support")],
    "comment": {"en": "Anything else?"},
    "throttle": {"survey": "0d", "global": "0d"},
}


def bench_themes(n: int) -> None:
    from sklearn.metrics import adjusted_rand_score

    from aftersales.core.surveys.themes import find_themes
    from aftersales.core.synthetic.feedback import THEMES, _comment
    from aftersales.services.analytical.surveys_text import sentiment_scores

    rng = np.random.default_rng(0)
    truth = rng.integers(0, len(THEMES), n)
    comments = [_comment(rng, THEMES[t]) for t in truth]
    t0, c0 = time.perf_counter(), time.process_time()
    fit = find_themes(comments, 8)
    themed, themed_cpu = time.perf_counter() - t0, time.process_time() - c0
    ari = adjusted_rand_score(truth, fit.labels)
    t0, c0 = time.perf_counter(), time.process_time()
    sentiment_scores(comments)
    scored, scored_cpu = time.perf_counter() - t0, time.process_time() - c0
    print(f"themes: {n:,} comments, 8 themes in {themed:.1f} s wall / {themed_cpu:.1f} s CPU (ARI vs the 6 true "
          f"themes {ari:.2f}; vocabulary {fit.vocabulary_size}); VADER sentiment {scored:.1f} s wall / "
          f"{scored_cpu:.1f} s CPU")  # fmt: skip


def bench_drivers(n: int) -> None:
    from aftersales.adapters.engines import open_dataframes
    from aftersales.core.synthetic.feedback import CES_SURVEY, WEIGHTS, draw_feedback
    from aftersales.services.analytical.surveys_drivers import survey_drivers

    rng = np.random.default_rng(1)
    orders = int(n / 0.06 * 1.02)
    delivered = rng.uniform(0, 900, orders)
    returned = np.where(rng.random(orders) < 0.06, delivered + 5, np.nan)
    feedback = draw_feedback(
        np.random.default_rng(2), order_customer=np.zeros(orders, dtype=np.int64), delivered=delivered,
        returned=returned, late=rng.random(orders) < 0.12, customer_ids=pa.array(["C1"]), order_width=9,
        end_day=1000.0,
    )  # fmt: skip
    table = feedback.table
    with open_dataframes({"survey_responses": table}) as src:
        t0, c0 = time.perf_counter(), time.process_time()
        report = survey_drivers(src, CES_SURVEY)
        took, cpu = time.perf_counter() - t0, time.process_time() - c0
    got = {c.name: round(c.estimate, 3) for c in report.drivers.coefficients}
    print(f"drivers: {report.responses:,} responses ({table.num_rows:,} rows) in {took:.1f} s wall / {cpu:.1f} s "
          f"CPU on DuckDB; "
          f"estimates {got} vs weights {WEIGHTS}")  # fmt: skip


def _cpu_seconds(pid: int) -> float:
    """User + system CPU time of process ``pid`` (Linux /proc), in seconds."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _serve(url: str, port: int, log: Path) -> subprocess.Popen[bytes]:
    env = {**os.environ, "AFTERSALES_SECRET_KEY": KEY, "AFTERSALES_PUBLIC_URL": f"http://127.0.0.1:{port}"}
    cmd = [sys.executable, "-m", "aftersales", "serve", "--db", url, "--port", str(port), "--no-worker",
           "--log-level", "warning"]  # fmt: skip
    return subprocess.Popen(cmd, env=env, stdout=log.open("wb"), stderr=subprocess.STDOUT)


def bench_page(url: str, sends: int, rate: float, seconds: float, clients: int) -> None:
    import httpx

    from aftersales import bootstrap
    from aftersales.core.surveys.parse import parse_survey
    from aftersales.services.operational.surveys import definitions
    from aftersales.services.operational.surveys import sends as sending
    from aftersales.services.operational.surveys.links import SurveyLinks

    bootstrap.init_store(url)
    uow = bootstrap.unit_of_work(url)
    now = datetime.now(UTC)
    with uow() as u:
        u.resources.insert("customers", [{"customer_id": f"c{i}", "created_at": now} for i in range(sends)])
    definitions.apply(uow, parse_survey(DOC), now=now)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    links = SurveyLinks(KEY.encode(), f"http://127.0.0.1:{port}")
    tokens = []
    for i in range(sends):
        opened = sending.open_send(uow, "bench-nps", f"c{i}", key=str(i), now=now)
        assert opened.send is not None
        tokens.append(links.token(opened.send))
    log = Path(tempfile.mkdtemp()) / "serve.log"
    server = _serve(url, port, log)
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/v1/health", timeout=2).status_code < 500:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline or server.poll() is not None:
                raise RuntimeError(f"the server did not start: {log.read_text()[-2000:]}")
            time.sleep(0.2)
        total = int(rate * seconds)
        rnd = random.Random(3)
        plan = [(rnd.choice(tokens), i % 3, rnd.randint(0, 10)) for i in range(total)]
        latencies: list[float] = []
        statuses: Counter[int] = Counter()
        lock = threading.Lock()
        start = time.perf_counter() + 0.5

        def worker(k: int) -> None:
            with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30) as http:
                http.get(f"/s/{tokens[k]}")  # connect and warm up outside the measurement
                for i in range(k, total, clients):
                    token, what, score = plan[i]
                    due = start + i / rate
                    pause = due - time.perf_counter()
                    if pause > 0:
                        time.sleep(pause)
                    if what == 0:
                        r = http.get(f"/s/{token}")
                    elif what == 1:
                        r = http.get(f"/s/{token}", params={"score": score})
                    else:
                        r = http.post(f"/s/{token}", data={"score": str(score), "dim_shipping": "7", "comment": "ok"})
                    took = time.perf_counter() - due
                    with lock:
                        latencies.append(took)
                        statuses[r.status_code] += 1

        cpu_before = _cpu_seconds(server.pid)
        threads = [threading.Thread(target=worker, args=(k,)) for k in range(clients)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        elapsed = time.perf_counter() - start
        server_ms = (_cpu_seconds(server.pid) - cpu_before) / total * 1000
        latencies.sort()
        p = lambda q: latencies[min(len(latencies) - 1, int(q * len(latencies)))] * 1000  # noqa: E731
        print(f"page ({url.split(':')[0]}): {total:,} requests at {rate:.0f}/s offered, {total / elapsed:.0f}/s "
              f"achieved; p50 {p(0.5):.1f} ms, p99 {p(0.99):.1f} ms, max {latencies[-1] * 1000:.0f} ms, "
              f"mean {statistics.fmean(latencies) * 1000:.1f} ms; statuses {dict(statuses)}; server CPU "
              f"{server_ms:.2f} ms per request (one core serves about {1000 / server_ms:.0f}/s); load average "
              f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")  # fmt: skip
    finally:
        server.terminate()
        server.wait(30)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--comments", type=int, default=100_000)
    parser.add_argument("--responses", type=int, default=1_000_000)
    parser.add_argument("--sends", type=int, default=2_000)
    parser.add_argument("--rate", type=float, default=200.0)
    parser.add_argument("--seconds", type=float, default=15.0)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--pg", help="a PostgreSQL database URL (emptied and used) for the page benchmark too")
    parser.add_argument("--only", choices=["themes", "page", "drivers"], action="append")
    args = parser.parse_args()
    only = set(args.only or ["themes", "page", "drivers"])
    if "themes" in only:
        bench_themes(args.comments)
    if "drivers" in only:
        bench_drivers(args.responses)
    if "page" in only:
        with tempfile.TemporaryDirectory() as tmp:
            bench_page(f"sqlite:///{tmp}/bench.db", args.sends, args.rate, args.seconds, args.clients)
        if args.pg:
            bench_page(args.pg, args.sends, args.rate, args.seconds, args.clients)


if __name__ == "__main__":
    main()
