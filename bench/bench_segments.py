"""Segments at scale (issue 14): one 6-condition segment over N synthetic profiles, and the membership
refresh of 20 saved segments over the same profiles.

The profile table is made directly with numpy/pyarrow (seeded; ``--rows``, default 1M) and served by
DuckDB; the memberships go to a SQLite store in a temporary folder (or ``--db URL``, e.g.
PostgreSQL). Timings are the best of ``--runs`` and also given as CPU seconds, the fairer figure on a
loaded machine (wall time then includes waiting for a core).

* **evaluate**: the 6-condition segment's member ids as Arrow (``segment_members`` -> ``to_arrow``),
  and its preview (count + a 10-row sample), target < 1 s at 1M;
* **diff**: the 20 segments evaluated in one query (one boolean column each) and diffed against the
  previous refresh's members with Arrow set operations, no store writes;
* **refresh 1**: the first ``refresh_memberships`` (every member enters: rows, events, sizes written);
* **refresh 2**: after 1% of the customers changed, the steady-state refresh (only the changes written).

    .venv/bin/python bench/bench_segments.py [--rows 1000000] [--runs 3] [--db URL]
"""

from __future__ import annotations

import argparse
import resource
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from sqlalchemy import text

from aftersales.adapters.engines import open_tables
from aftersales.adapters.sql.engine import make_engine
from aftersales.adapters.sql.migrate import upgrade
from aftersales.adapters.sql.repositories import unit_of_work_factory
from aftersales.core.segments import compile_condition, parse, profile_schema
from aftersales.services.operational import segments
from aftersales.services.operational.segment_changes import membership_changes

NOW = datetime(2024, 6, 30, 12, tzinfo=UTC)
SIX = (
    "clv_tier = 'above_average' and churn_risk in ('high', 'medium') and email_consent and orders >= 2 "
    "and last_order_at > now - 365 days and categories_bought contains 'bikes'"
)
TWENTY = [
    SIX,
    "orders >= 2",
    "orders = 1",
    "email_consent and sms_consent",
    "churn_risk = 'high'",
    "churn_risk = 'low' and clv_tier = 'above_average'",
    "rfm_segment in ('champions', 'loyal')",
    "rfm_segment in ('at_risk', 'cannot_lose', 'hibernating')",
    "country = 'DE'",
    "country in ('FR', 'IT', 'ES')",
    "categories_bought contains 'helmets'",
    "not categories_bought contains 'bikes'",
    "last_order_at > now - 90 days",
    "last_order_at <= now - 365 days",
    "p_alive < 0.3",
    "lookalike_score >= 0.8 and clv_tier = 'below_average'",
    "revenue between 100 and 500",
    "aov > 150",
    "orders >= 5 or revenue > 1000",
    "not email_consent and orders >= 3",
]
CATEGORIES = np.array(["bikes", "helmets", "locks", "lights", "tools"])
COUNTRIES = np.array(["DE", "FR", "IT", "ES", "NL", "GB", "US", "SE", "NO", "DK"])


def profiles(n: int, seed: int = 7) -> pa.Table:
    """``n`` synthetic profiles in the catalogue's schema (the columns the benchmark's segments read)."""
    rng = np.random.default_rng(seed)
    orders = rng.poisson(1.6, n)
    revenue = np.round(orders * rng.gamma(2.0, 40.0, n), 2)
    last_days = rng.integers(0, 900, n)
    last_order = np.datetime64(NOW.replace(tzinfo=None), "us") - last_days.astype("timedelta64[D]")
    # categories_bought: 0-3 distinct categories per customer, as a list column built from offsets
    counts = np.minimum(orders, rng.integers(0, 4, n))
    offsets = np.concatenate([[0], np.cumsum(counts)]).astype(np.int32)
    values = CATEGORIES[rng.integers(0, len(CATEGORIES), int(offsets[-1]))]
    cols: dict[str, Any] = {
        "customer_id": pa.array(np.char.add("c", np.arange(n).astype(str))),
        "orders": orders,
        "revenue": revenue,
        "aov": np.where(orders > 0, revenue / np.maximum(orders, 1), np.nan),
        "last_order_at": pa.array(np.where(orders > 0, last_order, np.datetime64("NaT")), pa.timestamp("us", "UTC")),
        "p_alive": rng.beta(2, 2, n),
        "churn_risk": rng.choice(np.array(["low", "medium", "high"]), n),
        "rfm_segment": rng.choice(np.array(["champions", "loyal", "at_risk", "cannot_lose", "hibernating", "new"]), n),
        "clv_tier": rng.choice(np.array(["above_average", "below_average"]), n, p=[0.3, 0.7]),
        "categories_bought": pa.ListArray.from_arrays(pa.array(offsets), pa.array(values)),
        "email_consent": rng.random(n) < 0.6,
        "sms_consent": rng.random(n) < 0.3,
        "country": rng.choice(COUNTRIES, n),
        "lookalike_score": rng.random(n),
    }
    schema = profile_schema().to_pyarrow()
    arrays = [
        cols[f.name] if isinstance(cols.get(f.name), pa.Array) else pa.array(cols.get(f.name, [None] * n), f.type)
        for f in schema
    ]
    arrays = [a if a.type == f.type else a.cast(f.type) for a, f in zip(arrays, schema, strict=True)]
    return pa.Table.from_arrays(arrays, schema=schema)


def changed(table: pa.Table, share: float, seed: int = 8) -> pa.Table:
    """``table`` with ``share`` of the customers moved: another churn risk and one more order."""
    rng = np.random.default_rng(seed)
    hit = pa.array(rng.random(table.num_rows) < share)
    risk = pc.if_else(
        hit, pa.array(rng.choice(np.array(["low", "medium", "high"]), table.num_rows)), table["churn_risk"]
    )
    orders = pc.if_else(hit, pc.add(table["orders"], 1), table["orders"])
    table = table.set_column(table.schema.get_field_index("churn_risk"), "churn_risk", risk)
    return table.set_column(table.schema.get_field_index("orders"), "orders", orders)


def timed(fn: Callable[[], Any], runs: int) -> tuple[float, float, Any]:
    """Best wall seconds, CPU seconds of that run, and the last result."""
    best, best_cpu, out = float("inf"), 0.0, None
    for _ in range(runs):
        r0, t0 = resource.getrusage(resource.RUSAGE_SELF), time.perf_counter()
        out = fn()
        wall = time.perf_counter() - t0
        r1 = resource.getrusage(resource.RUSAGE_SELF)
        if wall < best:
            best, best_cpu = wall, (r1.ru_utime - r0.ru_utime) + (r1.ru_stime - r0.ru_stime)
    return best, best_cpu, out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--db", help="store URL for the memberships (default: a SQLite file in a temporary folder)")
    args = ap.parse_args()
    results: list[tuple[str, float, float, str]] = []

    t0 = time.perf_counter()
    table = profiles(args.rows)
    print(f"{args.rows:,} profiles made in {time.perf_counter() - t0:.1f} s")
    six = parse(SIX)
    with open_tables({"customer_profiles": table}) as src:
        wall, cpu, ids = timed(
            lambda: src.to_arrow(segments.segment_members(src, six, NOW).select("customer_id")), args.runs
        )
        results.append(("evaluate 6 conditions (member ids)", wall, cpu, f"{ids.num_rows:,} members"))
        wall, cpu, pv = timed(lambda: segments.preview(src, where=SIX, now=NOW), args.runs)
        results.append(("preview 6 conditions (count + sample)", wall, cpu, f"{pv.count:,} of {pv.total:,}"))

        def diff_only() -> int:
            """The refresh's engine and Arrow part: previous members = this run's minus the last 1%."""
            tbl = src.table("customer_profiles")
            exprs = {f"s{i}": compile_condition(parse(w), tbl, NOW) for i, w in enumerate(TWENTY)}
            out = src.to_arrow(tbl.select("customer_id", **exprs))
            moved = 0
            for k in exprs:
                members = pc.filter(out["customer_id"], out[k])
                previous = members.combine_chunks().slice(0, max(0, len(members) - len(members) // 100))
                entered, exited = membership_changes(members, previous)
                moved += len(entered) + len(exited)
            return moved

        wall, cpu, moved = timed(diff_only, args.runs)
        results.append(("diff 20 segments (1 query + Arrow sets)", wall, cpu, f"{moved:,} changes"))

    with tempfile.TemporaryDirectory() as tmp:
        url = args.db or f"sqlite:///{Path(tmp) / 'bench.db'}"
        engine = make_engine(url)
        upgrade(engine)
        uow = unit_of_work_factory(engine)
        with engine.begin() as conn:  # a reused --db: start from no segments
            for t in ("segment_sizes", "segment_memberships", "segments"):
                conn.exec_driver_sql(f"DELETE FROM {t}")
            conn.execute(text("DELETE FROM events WHERE event_id LIKE :p"), {"p": "seg:%"})
        for i, where in enumerate(TWENTY):
            segments.create(uow, f"bench {i:02d}", where=where)
        for label, data, at in (
            ("refresh 1: 20 segments, all enter", table, NOW),
            ("refresh 2: 20 segments, 1% changed", changed(table, 0.01), NOW + timedelta(days=1)),
        ):
            with open_tables({"customer_profiles": data}) as src:
                wall, cpu, res = timed(lambda src=src, at=at: segments.refresh_memberships(uow, src, at), 1)
            moved = sum(s.entered + s.exited for s in res.segments)
            results.append((label, wall, cpu, f"{moved:,} rows + events ({engine.dialect.name})"))
        engine.dispose()

    print(f"\n{'step':<42} {'wall s':>8} {'cpu s':>8}  result")
    for name, wall, cpu, note in results:
        print(f"{name:<42} {wall:>8.3f} {cpu:>8.3f}  {note}")


if __name__ == "__main__":
    main()
