"""Benchmark of the synthetic store generator: time per phase, total and peak memory.

Run by hand (never in the test suite)::

    .venv/bin/python bench/bench_generate.py                  # 1M customers, Parquet
    .venv/bin/python bench/bench_generate.py --customers 20000 --csv

Target (issue 2): 1M customers / about 10M orders in under a minute on 2 cores, files included.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import sys
import time
from datetime import date
from pathlib import Path

from aftersales.adapters.sources.store_files import write_store_files
from aftersales.core.synthetic import generate_store


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--customers", type=int, default=1_000_000)
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--as-of", default="2025-06-01")
    ap.add_argument("--csv", action="store_true")
    ap.add_argument("--out", type=Path, default=Path(__file__).resolve().parents[1] / ".bench-data" / "generate")
    args = ap.parse_args(argv)
    shutil.rmtree(args.out, ignore_errors=True)

    marks: list[tuple[str, float]] = []
    t0 = time.perf_counter()
    last = t0

    def mark(name: str) -> None:
        nonlocal last
        now = time.perf_counter()
        marks.append((name, now - last))
        last = now

    store = generate_store(args.customers, args.seed, date.fromisoformat(args.as_of), on_phase=mark)
    t_gen = time.perf_counter() - t0
    t1 = time.perf_counter()
    last = t1
    write_store_files(
        store.tables,
        store.truth,
        store.customer_truth,
        args.out,
        fmt="csv" if args.csv else "parquet",
        on_table=lambda name: mark(f"write {name}"),
    )
    t_write = time.perf_counter() - t1
    total = time.perf_counter() - t0
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    counts = store.row_counts()
    size_mib = sum(p.stat().st_size for p in args.out.iterdir()) / 2**20
    fmt = "csv" if args.csv else "parquet"
    print(f"customers={args.customers:,} seed={args.seed} cpus={os.cpu_count()} format={fmt}")
    print(f"{'phase':<32}{'seconds':>10}{'rows':>14}")
    for name, secs in marks:
        rows = counts.get(name.removeprefix("write "), "")
        print(f"{name:<32}{secs:>10.2f}{rows:>14,}" if rows != "" else f"{name:<32}{secs:>10.2f}{'':>14}")
    print(f"{'generate (in memory)':<32}{t_gen:>10.2f}")
    print(f"{'write files':<32}{t_write:>10.2f}{'':>14}  {size_mib:,.0f} MiB")
    print(f"{'total':<32}{total:>10.2f}")
    print(f"{'orders':<32}{counts['orders']:>24,}")
    print(f"{'peak RSS (MiB)':<32}{peak_mib:>10,.0f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
