"""Benchmark of audience exports: N customers, all members of one saved segment, exported as Google
Customer Match and Meta files (hashed) and as plain CSV, from a SQLite store.

Run by hand (never in the test suite)::

    .venv/bin/python bench/bench_audiences.py                      # 1M customers, google + meta + csv
    .venv/bin/python bench/bench_audiences.py --customers 100000 --formats meta

The store is built directly (migrated schema, rows written with sqlite3's executemany; no importer
validation) in .bench-data/audiences/, once per size. Customers follow the generator's shares: 62%
e-mail consent; 55% have a phone (E.164, as the contract stores them; 5% of those in a national
format, which goes through the full phone parser), 45% of them with SMS consent; names from a
list with accents and punctuation; countries US/GB/DE. Target (issue 14): 1M hashed rows < 10 s.
Each export is timed end to end through the service (read members from the store, consent,
normalise, hash, write the file) in a fresh process, with its peak RSS, after a warm-up export of
2,000 members (segment ``warm``) that loads phonenumbers' per-country metadata; the warm-up's time
is shown too.
"""

from __future__ import annotations

import argparse
import json
import resource
import sqlite3
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / ".bench-data" / "audiences"
FIRST = ["Anna", "José", "Zoë", "Mary Ann", "Li", "O'Neil", "Jean-Luc", "Søren", "Ava", "Noah"]
LAST = ["Smith", "Pérez", "O'Brien", "Müller-Lüdenscheidt", "van Dyke", "Nguyen", "Kowalski", "Lee"]
NATIONAL = {"US": "(415) 555-{:04d}", "GB": "020 7946 {:04d}", "DE": "0170 123{:04d}"}


def build_store(n: int) -> Path:
    """A migrated SQLite store with ``n`` customers, all current members of segment ``seg_all``."""
    from aftersales.adapters.sql.engine import make_engine
    from aftersales.adapters.sql.migrate import upgrade

    path = DATA / f"store_{n}.db"
    if path.exists():
        return path
    DATA.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".partial")
    partial.unlink(missing_ok=True)
    engine = make_engine(f"sqlite:///{partial}")
    upgrade(engine)
    engine.dispose()
    rng = np.random.default_rng(7)
    countries = np.array(["US", "GB", "DE"])[rng.integers(0, 3, n)]
    has_phone = rng.random(n) < 0.55
    national = rng.random(n) < 0.05
    e_ok, p_ok = rng.random(n) < 0.62, has_phone & (rng.random(n) < 0.45)
    first, last = rng.integers(0, len(FIRST), n), rng.integers(0, len(LAST), n)
    now = datetime(2024, 6, 30, tzinfo=UTC).isoformat()
    codes = {"US": "+1555", "GB": "+447700", "DE": "+49170"}
    digits = {"US": 10_000_000, "GB": 1_000_000, "DE": 10_000_000}  # national numbers of 10 digits each

    def phone(i: int) -> str | None:
        if not has_phone[i]:
            return None
        c = str(countries[i])
        if national[i]:
            return NATIONAL[c].format(i % 10_000)
        width = len(str(digits[c])) - 1
        return f"{codes[c]}{i % digits[c]:0{width}d}"

    with sqlite3.connect(partial) as conn:
        rows = (
            (f"c{i:07d}", f"C{i:07d}.Name@Example.com", phone(i), f"{FIRST[first[i]]} {LAST[last[i]]}",
             str(countries[i]), int(e_ok[i]), int(p_ok[i]))
            for i in range(n)
        )  # fmt: skip
        conn.executemany(
            "INSERT INTO customers (customer_id, email, phone, name, country, email_consent, sms_consent) "
            "VALUES (?, ?, ?, ?, ?, ?, ?)",
            rows,
        )
        conn.execute(
            "INSERT INTO segments (segment_id, name, definition_json, definition_text, created_at, updated_at) "
            "VALUES ('seg_all', 'all', '{}', 'true', ?, ?)",
            (now, now),
        )
        conn.execute(
            "INSERT INTO segments (segment_id, name, definition_json, definition_text, created_at, updated_at) "
            "VALUES ('seg_warm', 'warm', '{}', 'true', ?, ?)",
            (now, now),
        )
        conn.executemany(
            "INSERT INTO segment_memberships (segment_id, customer_id, entered_at) VALUES (?, ?, ?)",
            (
                (seg, f"c{i:07d}", now)
                for i in range(n)
                for seg in (("seg_all", "seg_warm") if i < 2000 else ("seg_all",))
            ),
        )
    partial.rename(path)
    return path


def export_once(store: Path, fmt: str) -> dict[str, object]:
    """One export through the service, timed (run in a fresh process by :func:`main`)."""
    from aftersales.adapters.sources.audience_files import open_audience_writer
    from aftersales.adapters.sql.engine import make_engine
    from aftersales.adapters.sql.repositories.audiences import audience_store
    from aftersales.services.operational.audiences import export_audience

    out = DATA / f"out_{fmt}.{'parquet' if fmt == 'parquet' else 'csv'}"
    engine = make_engine(f"sqlite:///{store}")
    cold = time.perf_counter()
    # Warm-up on 2,000 members: the first export in a process imports phonenumbers' metadata for each
    # country met (hundreds of modules; seconds where no bytecode is cached, as in this venv).
    export_audience(audience_store(engine), "warm", fmt, out, open_writer=open_audience_writer)
    cold = time.perf_counter() - cold
    start, cpu = time.perf_counter(), time.process_time()
    result = export_audience(audience_store(engine), "all", fmt, out, open_writer=open_audience_writer)
    seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
    engine.dispose()
    return {
        "format": fmt,
        "members": result.members,
        "rows": result.rows,
        "seconds": round(seconds, 2),
        "cpu_s": round(cpu, 2),
        "warm_up_s": round(cold, 2),
        "rows_per_s": int(result.members / seconds),
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024,
        "left_out": sum(result.left_out.values()),
        "file_mb": round(out.stat().st_size / 2**20, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--formats", default="google,meta,csv")
    parser.add_argument("--child", nargs=2, metavar=("STORE", "FORMAT"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(export_once(Path(args.child[0]), args.child[1])))
        return
    start = time.perf_counter()
    store = build_store(args.customers)
    print(f"store with {args.customers:,} members ready in {time.perf_counter() - start:.1f} s: {store}")
    head = ("format", "members", "rows out", "left out", "seconds", "CPU s", "rows/s", "peak RSS MB", "file MB",
            "warm-up s")  # fmt: skip
    print("| " + " | ".join(head) + " |")
    print("|---|" + "---:|" * (len(head) - 1))
    for fmt in args.formats.split(","):
        res = subprocess.run(
            [sys.executable, __file__, "--child", str(store), fmt], capture_output=True, text=True, check=True
        )
        r = json.loads(res.stdout.strip().splitlines()[-1])
        keys = ("members", "rows", "left_out", "seconds", "cpu_s", "rows_per_s", "peak_rss_mb", "file_mb", "warm_up_s")
        print(f"| {r['format']} | " + " | ".join(f"{r[k]:,}" for k in keys) + " |")


if __name__ == "__main__":
    main()
