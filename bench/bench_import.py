"""Import throughput: a generated store imported table by table into SQLite and PostgreSQL.

    .venv/bin/python bench/bench_import.py [--customers 20000] [--postgres URL]

Prints rows/s per table for a first import (all inserts) and a re-import (all unchanged), through the
same path as ``aftersales import`` (streamed Parquet, contract validation, one transaction per batch).
"""

from __future__ import annotations

import argparse
import time
from datetime import date
from pathlib import Path

from sqlalchemy import text

from aftersales import bootstrap
from aftersales.adapters.sources.store_files import write_store_files
from aftersales.adapters.sql.engine import make_engine
from aftersales.core import contract
from aftersales.services.generate import generate_files

ROOT = Path(__file__).resolve().parents[1] / ".bench-data"


def _fresh_pg(url: str) -> str:
    admin = make_engine(url.rsplit("/", 1)[0] + "/postgres", isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text('DROP DATABASE IF EXISTS "aftersales_bench_import" WITH (FORCE)'))
        conn.execute(text('CREATE DATABASE "aftersales_bench_import"'))
    admin.dispose()
    return url.rsplit("/", 1)[0] + "/aftersales_bench_import"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--customers", type=int, default=20_000)
    ap.add_argument("--postgres", default="postgresql+psycopg://postgres@127.0.0.1:5432/test")
    args = ap.parse_args()
    out = ROOT / f"import-{args.customers}"
    gen = generate_files(args.customers, 7, date(2025, 6, 1), out, write=write_store_files)
    db = out / "bench.db"
    for suffix in ("", "-wal", "-shm"):
        Path(f"{db}{suffix}").unlink(missing_ok=True)
    stores = {"sqlite": f"sqlite:///{db}", "postgres": _fresh_pg(args.postgres)}
    print(f"{'store':9} {'table':22} {'rows':>10} {'first s':>8} {'rows/s':>9} {'again s':>8} {'rows/s':>9}")
    for store, url in stores.items():
        totals = [0, 0.0, 0.0]
        for name in contract.TABLES:
            path = gen.paths.get(name)
            if path is None:
                continue
            t0 = time.perf_counter()
            first = bootstrap.import_file(name, str(path), db=url)
            t1 = time.perf_counter()
            again = bootstrap.import_file(name, str(path), db=url)
            t2 = time.perf_counter()
            assert first.rejected == 0 and again.unchanged == again.read, (name, first, again)
            n = first.read
            totals = [totals[0] + n, totals[1] + t1 - t0, totals[2] + t2 - t1]
            print(
                f"{store:9} {name:22} {n:>10,} {t1 - t0:>8.2f} {n / (t1 - t0):>9,.0f} {t2 - t1:>8.2f} "
                f"{n / (t2 - t1):>9,.0f}"
            )
        n, a, b = totals
        print(f"{store:9} {'ALL':22} {n:>10,} {a:>8.2f} {n / a:>9,.0f} {b:>8.2f} {n / b:>9,.0f}")


if __name__ == "__main__":
    main()
