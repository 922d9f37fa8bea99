"""Benchmark ``aftersales refresh`` on the generator's store, and RFM cells in the engine vs pandas.

    .venv/bin/python bench/bench_refresh.py --customers 100000          # issue 14 asks 1M: --customers 1000000
    .venv/bin/python bench/bench_refresh.py --customers 1000000 --skip-rfm --only Parquet

Generates the store's Parquet files once (``.bench-data/store-<n>``, reused when present) and
bulk-loads them into a SQLite store (``<data>.db``, reused when it holds as many customers) with the
bench-only loader ``bench/_bulk_store.py`` (executemany in large transactions: the importer validates
every row and is too slow for 1M customers). ``--segments N`` (default 20) saves N segments in the
store (profile fields and behaviour), so each refresh also diffs N memberships.

The store's refresh outputs (profiles, CLV scores, memberships, segment sizes and events, queued
webhooks) are then emptied, so every run of the benchmark does the same work, and three refreshes run,
each in a fresh process under ``/usr/bin/time`` (wall time, CPU time and peak RSS of the whole command,
imports included), with the 1-minute load average read just before it (other work on the machine slows
the wall time; the CPU time moves less):

* ``SQLite store, first``: ``aftersales refresh --db <store> --as-of <as-of − 2 days>``: the store's
  tables scanned into DuckDB, profiles with CLV fit and scoring, RFM cells, lookalike scores, the bulk
  write, the CLV scores, and the first membership of every segment (every member enters: the
  heaviest membership write there is);
* ``SQLite store, next day``: the same at ``<as-of − 1 day>``: the daily refresh (memberships diffed
  against the previous day's);
* ``Parquet, next day``: ``--source <data>`` (DuckDB over the Parquet files) at ``<as-of>``, written
  to the same store: the daily refresh from files.

Each row shows the refresh's own stage timings (``timings_s`` of its JSON: ``history`` includes
reading the store's tables on SQLite).

Last, in this process: the RFM cells (R, F, M scores and the named segment) through the profile's
Ibis expressions on DuckDB over the Parquet orders, against a pandas implementation of the same
definition (``rank(method="min")``), both timed with the Parquet read inside, and compared customer
by customer (they must be equal). The load average is printed: other work slows wall times.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import subprocess
import sys
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(Path(__file__).resolve().parent))


def _generate(customers: int, seed: int, as_of: date, data: Path) -> None:
    if (data / "orders.parquet").exists():
        return
    from aftersales import bootstrap

    print(f"generating {customers:,} customers into {data} ...", flush=True)
    bootstrap.generate_store(customers, seed, as_of, data)


def _load(data: Path, db: Path, customers: int) -> None:
    import sqlite3

    if db.exists():
        with sqlite3.connect(db) as conn:
            try:
                if conn.execute("SELECT count(*) FROM customers").fetchone()[0] == customers:
                    return
            except sqlite3.OperationalError:
                pass
        for suffix in ("", "-wal", "-shm"):
            Path(f"{db}{suffix}").unlink(missing_ok=True)
    from _bulk_store import load_store

    print(f"bulk-loading {data} into {db} ...", flush=True)
    print(load_store(data, f"sqlite:///{db}"), flush=True)


SEGMENTS = (
    "clv_tier = 'above_average'",
    "churn_risk in ('high', 'medium') and email_consent",
    "rfm_segment = 'champions'",
    "rfm_segment in ('at_risk', 'cannot_lose')",
    "last_nps_class = 'detractor'",
    "open_tickets > 0",
    "p_alive < 0.3 and orders >= 2",
    "no_order_for(120 days) and orders >= 2 and rfm_segment in ('at_risk', 'cannot_lose')",
    "ordered(within = 90 days)",
    "next_maintenance_due_on is not null and sms_consent",
)


def _segments(db: Path, n: int) -> int:
    """Save ``n`` segments (the definitions above, then order-count thresholds) unless the store has some."""
    from aftersales import bootstrap
    from aftersales.services.operational import segments

    uow = bootstrap.unit_of_work(f"sqlite:///{db}")
    if segments.list_segments(uow)["items"]:
        return len(segments.list_segments(uow)["items"])
    wheres = [*SEGMENTS, *(f"orders >= {k} and revenue > {50 * k}" for k in range(1, n + 1))][:n]
    for i, where in enumerate(wheres):
        segments.create(uow, f"bench-{i:02d}", where=where)
    return n


_OUTPUTS = (
    "DELETE FROM customer_profiles",
    "DELETE FROM clv_scores",
    "DELETE FROM segment_memberships",
    "DELETE FROM segment_sizes",
    "DELETE FROM events WHERE name IN ('segment.entered', 'segment.exited')",
    "DELETE FROM webhook_attempts",
    "DELETE FROM webhook_deliveries",
)


def _reset(db: Path) -> None:
    """Empty what refreshes write, so the next refresh is a store's first again."""
    import sqlite3

    with sqlite3.connect(db) as conn:
        for statement in _OUTPUTS:
            with contextlib.suppress(sqlite3.OperationalError):  # a table the store lacks (not migrated yet)
                conn.execute(statement)
    with sqlite3.connect(db) as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")


def _moved(db: Path) -> int:
    """Membership changes (entered + exited) stored by the latest refresh."""
    import sqlite3

    with sqlite3.connect(db) as conn:
        latest = "(SELECT max(refreshed_at) FROM segment_sizes)"
        sql = f"SELECT sum(entered + exited) FROM segment_sizes WHERE refreshed_at = {latest}"
        return int(conn.execute(sql).fetchone()[0] or 0)


def _timed(args: list[str]) -> tuple[float, float, float, dict]:
    """(wall seconds, peak RSS in MB, CPU seconds (user + system), the command's JSON output) of one
    fresh process. CPU seconds move less than wall time when other work shares the cores."""
    cmd = ["/usr/bin/time", "-f", "__time %e %M %U %S", *args]
    done = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT)
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(args)} failed:\n{done.stderr[-3000:]}")
    line = [x for x in done.stderr.splitlines() if x.startswith("__time ")][-1]
    wall, rss_kb, user, system = line.split()[1:]
    return float(wall), int(rss_kb) / 1024, float(user) + float(system), json.loads(done.stdout)


def _rfm_engine(data: Path, now: datetime) -> tuple[float, dict[str, tuple]]:
    import ibis

    from aftersales.adapters.engines import open_source
    from aftersales.core.profiles import orders as facts
    from aftersales.core.profiles.rfm import rfm_segment_expr, score_expr

    started = time.perf_counter()
    with open_source(str(data)) as src:
        s = facts.order_summary(src.table("orders"), now)
        now_s = ibis.literal(now.timestamp(), type="float64")
        s = s.mutate(days=((now_s - facts.epoch_seconds(s.last_order_at)) / 86400.0).floor().cast("int64"))
        s = s.select(
            "customer_id",
            r=score_expr(s.days, better="lower"),
            f=score_expr(s.orders),
            m=score_expr(s.revenue),
        )
        s = s.mutate(segment=rfm_segment_expr(s.r, s.f))
        table = src.to_arrow(s)
    seconds = time.perf_counter() - started
    cols = [table.column(n).to_pylist() for n in ("customer_id", "r", "f", "m", "segment")]
    return seconds, {c: (r, f, m, seg) for c, r, f, m, seg in zip(*cols, strict=True)}


def _rfm_pandas(data: Path, now: datetime) -> tuple[float, dict[str, tuple]]:
    import numpy as np
    import pandas as pd

    from aftersales.core.profiles.rfm import RFM_CELLS

    started = time.perf_counter()
    cols = ["customer_id", "ordered_at", "status", "revenue", "returned_at", "cancelled_at"]
    o = pd.read_parquet(data / "orders.parquet", columns=cols)
    keep = (
        ~o["status"].isin(["returned", "cancelled"])
        & o["returned_at"].isna()
        & o["cancelled_at"].isna()
        & (o["ordered_at"] < pd.Timestamp(now))
    )
    o = o[keep]
    g = o.groupby("customer_id", sort=False).agg(
        last=("ordered_at", "max"), orders=("ordered_at", "size"), revenue=("revenue", "sum")
    )
    g["revenue"] = g["revenue"].round(2)  # the exact cents sum, as the engine sums money (core.profiles.orders)
    days = np.floor((pd.Timestamp(now) - g["last"]).dt.total_seconds() / 86400.0)
    n = len(g)

    def score(values: pd.Series, ascending: bool) -> np.ndarray:
        below = values.rank(method="min", ascending=ascending).to_numpy() - 1  # strictly worse values
        return (np.floor(5.0 * below / n) + 1).astype(int)

    r, f, m = score(days, ascending=False), score(g["orders"], True), score(g["revenue"].astype(float), True)
    seg = [RFM_CELLS[(a, b)] for a, b in zip(r.tolist(), f.tolist(), strict=True)]
    out = dict(zip(g.index, zip(r.tolist(), f.tolist(), m.tolist(), seg, strict=True), strict=True))
    return time.perf_counter() - started, out


def _table(a: argparse.Namespace, n_segments: int, rows: list[tuple[str, ...]]) -> None:
    print(f"\n{a.customers:,} customers, {n_segments} saved segments, as of {a.as_of}, 2 shared cores")
    print(f"{'step':<26} {'wall s':>7} {'CPU s':>7} {'peak MB':>8} {'load':>5}  notes")
    for label, wall, cpu, rss, load, notes in rows:
        print(f"{label:<26} {wall:>7} {cpu:>7} {rss:>8} {load:>5}  {notes}")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--customers", type=int, default=100_000)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--as-of", default="2026-01-01")
    p.add_argument("--segments", type=int, default=20, help="saved segments whose memberships each refresh diffs")
    p.add_argument("--data", type=Path, default=None, help="generator output (default .bench-data/store-<n>)")
    p.add_argument(
        "--only",
        default="",
        help="run only the refreshes whose label contains this (e.g. Parquet; the first one run then enters everyone)",
    )
    p.add_argument("--skip-rfm", action="store_true", help="leave out the RFM cells' engine-vs-pandas comparison")
    a = p.parse_args()
    as_of = date.fromisoformat(a.as_of)
    data = a.data or ROOT / ".bench-data" / f"store-{a.customers}"
    db = Path(f"{data}.db")
    _generate(a.customers, a.seed, as_of, data)
    _load(data, db, a.customers)
    n_segments = _segments(db, a.segments) if a.segments else 0
    _reset(db)

    exe = [sys.executable, "-c", "from aftersales.entrypoints.cli.app import main; main()"]
    refresh = [*exe, "refresh", "--db", f"sqlite:///{db}", "--format", "json"]
    rows = []
    runs = (
        ("SQLite store, first", as_of - timedelta(days=2), []),
        ("SQLite store, next day", as_of - timedelta(days=1), []),
        ("Parquet, next day", as_of, ["--source", str(data)]),
    )
    for label, day, extra in runs:
        if a.only and a.only not in label:
            continue
        load = os.getloadavg()[0]
        wall, rss, cpu, out = _timed([*refresh, "--as-of", day.isoformat(), *extra])
        steps = ", ".join(f"{k.removesuffix('_s')} {v:.1f}" for k, v in out["timings_s"].items())
        notes = f"{out['profiles_written']:,} profiles, {_moved(db):,} membership changes; {steps}"
        rows.append((label, f"{wall:.1f}", f"{cpu:.1f}", f"{rss:,.0f}", f"{load:.1f}", notes))
        print(f"{label}: predictive {out['predictive']} ({out['predictive_note'] or 'ok'})", flush=True)
    if a.skip_rfm:
        _table(a, n_segments, rows)
        return

    now = datetime.combine(as_of, datetime.min.time(), tzinfo=UTC)
    load = f"{os.getloadavg()[0]:.1f}"
    t_engine, engine = _rfm_engine(data, now)
    t_pandas, pandas = _rfm_pandas(data, now)
    same = engine == pandas
    rows.append(("RFM cells, Ibis on DuckDB", f"{t_engine:.2f}", "", "", load, f"{len(engine):,} customers"))
    rows.append(("RFM cells, pandas", f"{t_pandas:.2f}", "", "", load, f"equal to the engine's: {same}"))
    _table(a, n_segments, rows)
    if not same:
        diff = [c for c in engine if engine[c] != pandas.get(c)][:5]
        raise SystemExit(f"RFM cells differ, e.g. {[(c, engine[c], pandas.get(c)) for c in diff]}")


if __name__ == "__main__":
    main()
