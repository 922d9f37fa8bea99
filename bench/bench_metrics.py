"""Benchmark the metrics engine: time, CPU time and peak memory of each contender, one subprocess each.

    .venv/bin/aftersales generate --customers 1000000 --seed 1 --as-of 2026-01-01 --out .bench-data/store-1m
    .venv/bin/python bench/bench_metrics.py --data .bench-data/store-1m --spark      # 10M orders
    .venv/bin/python bench/bench_metrics.py --customers 20000 --stores --no-lifetimes  # + the stores

``--stores`` also imports the generated files into a SQLite store (``<data>.db``) and a PostgreSQL
database (``aftersales_bench_metrics_<customers>`` on ``--postgres``'s server) through the path of
``aftersales import`` (which runs ANALYZE on PostgreSQL), once (a store holding as many orders as the
files is reused), and times the scorecard on each: DuckDB over the SQLite store (the embedded
default) against PostgreSQL in place. Target: PostgreSQL within 3x.

Contenders, each in a fresh interpreter (so peak RSS is its own), run one after the other:
a bare count of orders per customer (the floor no metric can beat), the RFM summary through
Ibis on DuckDB (``core.metrics.rfm.rfm_summary``), the same in hand-written DuckDB SQL, in pandas,
lifetimes' ``summary_data_from_transaction_data`` (in its own venv, bench/.venv-metrics,
created on first use), the headline scorecard plus the 12-month cohort matrix through the
service, and optionally the RFM summary on PySpark local[2].

Imports, connecting and starting Spark are set-up, outside the timing; reading the Parquet file
is inside it for every contender. The DuckDB contenders run ``--repeat`` times in each of
``--rounds`` fresh processes, the rounds interleaved (floor, Ibis, SQL, scorecard, floor, ...), and
report the median. ``cpu s`` is user + system CPU time of the timed part (DuckDB uses both cores,
so it is up to 2× the wall time on an idle machine); on a shared machine it is the steadier
figure. Peak RSS is the process's high-water mark plus that of its live children (Spark's JVM).
The load average at the start of each contender is printed: other work on the machine slows
wall times.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PY = sys.executable
LIFETIMES_VENV = ROOT / "bench" / ".venv-metrics"
LIFETIMES_PACKAGES = ["lifetimes==0.11.3", "pandas<2", "numpy<2", "pyarrow<16"]  # pyarrow 16+ needs numpy 2
END = "2026-01-01"
END_DAY = 20454  # 2026-01-01 as days since 1970-01-01
END_NEXT = "2026-01-02"  # the day after END: the hand-written RFM keeps orders before its UTC midnight
KEEP = "(status IS NULL OR status NOT IN ('returned', 'cancelled')) AND returned_at IS NULL AND cancelled_at IS NULL"
VIEW = """import duckdb
con = duckdb.connect()
con.sql("SET TimeZone = 'UTC'")  # as Ibis does on connect
con.sql("CREATE VIEW orders AS SELECT * FROM read_parquet('{orders}')")"""
PANDAS_READ = """
o = pd.read_parquet('{orders}', columns=['customer_id', 'ordered_at', 'revenue', 'status',
                                         'returned_at', 'cancelled_at'])
o = o[~o.status.isin(['returned', 'cancelled']) & o.returned_at.isna() & o.cancelled_at.isna()]
"""

# name -> (setup, timed code, default repeats)
CONTENDERS: dict[str, tuple[str, str, int]] = {
    "count per customer (floor)": (
        VIEW,
        "con.sql('SELECT customer_id, count(*) FROM orders GROUP BY 1').arrow()",
        3,
    ),
    "RFM: Ibis on DuckDB": (
        "from datetime import date\nfrom aftersales.adapters.engines import open_source\n"
        "from aftersales.core.metrics.rfm import rfm_summary\nimport ibis.backends.duckdb.converter  # lazy import\n"
        "s = open_source('{data}')\n"
        "expr = rfm_summary(s.table('orders'), observation_end=date.fromisoformat('{end}'))",
        "s.backend.to_pyarrow(expr)",
        3,
    ),
    # The fastest formulation we found: cut at the end on the time stamp (a filter on the day is
    # pushed below the projection and computes every order's day twice), a 4-byte day from
    # EPOCH_US (EPOCH on a TIMESTAMPTZ goes through ICU; a cast to DATE costs 1.2 CPU-s).
    "RFM: hand-written DuckDB SQL": (
        VIEW,
        f"""con.sql('''
WITH d AS (SELECT customer_id, CAST(floor(epoch_us(ordered_at) / 86400000000) AS INTEGER) AS u, sum(revenue) AS v
           FROM orders WHERE {KEEP} AND ordered_at < TIMESTAMPTZ '{END_NEXT} 00:00:00+00' GROUP BY 1, 2)
SELECT customer_id, CAST(count(*) - 1 AS DOUBLE) AS frequency, CAST(max(u) - min(u) AS DOUBLE) AS recency,
       CAST({END_DAY} - min(u) AS DOUBLE) AS T,
       CASE WHEN count(*) > 1 THEN (sum(v) - arg_min(v, u)) / (count(*) - 1) ELSE 0.0 END AS monetary_value
FROM d GROUP BY 1''').arrow()""",
        3,
    ),
    "RFM: pandas": (
        "import pandas as pd",
        PANDAS_READ
        + """
o['day'] = o.ordered_at.dt.floor('D')
d = o.groupby(['customer_id', 'day'], sort=False).revenue.sum().reset_index()
g = d.groupby('customer_id')
first = d.loc[g.day.idxmin()].set_index('customer_id')
s = pd.DataFrame({{'n': g.size(), 'first': g.day.min(), 'last': g.day.max(), 'total': g.revenue.sum()}})
s['frequency'] = s.n - 1
s['recency'] = (s['last'] - s['first']).dt.days
s['T'] = (pd.Timestamp('{end}', tz='UTC') - s['first']).dt.days
s['monetary_value'] = ((s.total - first.revenue) / s.frequency).where(s.frequency > 0, 0.0)
""",
        1,
    ),
    "scorecard + cohort matrix (service)": (
        "from aftersales.adapters.engines import open_source\n"
        "from aftersales.services.analytical.metrics import compute, scorecard\n"
        "import ibis.backends.duckdb.converter  # lazy import\ns = open_source('{data}')",
        "scorecard(s, period='month')\ncompute(s, ['cohort_retention'], period='month')",
        3,
    ),
}

LIFETIMES = (
    "import pandas as pd\nfrom lifetimes.utils import summary_data_from_transaction_data",
    PANDAS_READ
    + """
o = o[o.customer_id.str[1:].astype('int64') % {sample} == 0] if {sample} > 1 else o
o['ordered_at'] = o.ordered_at.dt.tz_localize(None)
summary_data_from_transaction_data(o, 'customer_id', 'ordered_at', 'revenue', observation_period_end='{end}')
""",
    1,
)

STORES: dict[str, tuple[str, str, int]] = {
    name: (
        "from aftersales.adapters.engines import open_source\n"
        "from aftersales.services.analytical.metrics import scorecard\n"
        "import ibis.backends.duckdb.converter  # lazy import",
        f"with open_source('{{{key}}}') as s:\n    scorecard(s, period='month')",
        1,
    )
    for name, key in (
        ("scorecard: DuckDB over the SQLite store", "sqlite_store"),
        ("scorecard: PostgreSQL store", "pg_store"),
    )
}
PG_DEFAULT = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


def _orders_in(url: str) -> int:
    from sqlalchemy import text

    from aftersales.adapters.sql.engine import make_engine

    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            return int(conn.execute(text("SELECT count(*) FROM orders")).scalar_one())
    except Exception:  # noqa: BLE001 - no database or no table yet: load it
        return -1
    finally:
        engine.dispose()


def _load_stores(data: Path, n_orders: int, customers: int, postgres: str, bulk: bool = False) -> dict[str, str]:
    """The files of ``data`` imported into a SQLite and a PostgreSQL store, unless already there."""
    import time

    from sqlalchemy import text

    from aftersales import bootstrap
    from aftersales.adapters.sql.engine import make_engine
    from aftersales.core import contract

    base = postgres.rsplit("/", 1)[0]
    urls = {"sqlite_store": f"sqlite:///{data}.db", "pg_store": f"{base}/aftersales_bench_metrics_{customers}"}
    for url in urls.values():
        if _orders_in(url) == n_orders:
            continue
        if url.startswith("sqlite"):
            for suffix in ("", "-wal", "-shm"):
                Path(f"{data}.db{suffix}").unlink(missing_ok=True)
        else:
            admin = make_engine(f"{base}/postgres", isolation_level="AUTOCOMMIT")
            name = url.rsplit("/", 1)[1]
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
                conn.execute(text(f'CREATE DATABASE "{name}"'))
            admin.dispose()
        t0 = time.perf_counter()
        if bulk:  # bench/_bulk_store.py: COPY / executemany without validation (1M customers in minutes)
            sys.path.insert(0, str(Path(__file__).parent))
            from _bulk_store import load_store

            load_store(data, url)
        else:
            for table in contract.TABLES:  # parents first
                path = data / f"{table}.parquet"
                if path.exists():
                    bootstrap.import_file(table, str(path), db=url)
        print(f"  loaded {url.split('://')[0]} store in {time.perf_counter() - t0:.0f} s", file=sys.stderr)
    return urls


SPARK = (
    "from datetime import date\nfrom aftersales.adapters.engines import open_source\n"
    "from aftersales.core.metrics.rfm import rfm_summary\ns = open_source('{data}', 'spark')\n"
    "expr = rfm_summary(s.table('orders'), observation_end=date.fromisoformat('{end}'))",
    "s.backend.to_pyarrow(expr)",
    1,
)

WRAPPER = """
import json, os, resource, statistics, time
{setup}
def _cpu():
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime
def _peak_kb(pid):
    try:
        for line in open(f'/proc/{{pid}}/status'):
            if line.startswith('VmHWM:'):
                return int(line.split()[1])
    except OSError:
        pass
    return 0
walls, cpus = [], []
for _ in range({repeat}):
    c, t = _cpu(), time.perf_counter()
{body}
    walls.append(time.perf_counter() - t)
    cpus.append(_cpu() - c)
def _children():
    for p in os.listdir('/proc'):
        try:
            if p.isdigit() and open(f'/proc/{{p}}/stat').read().rsplit(') ', 1)[1].split()[1] == str(os.getpid()):
                yield p
        except OSError:
            pass
peak = _peak_kb('self') + sum(_peak_kb(k) for k in _children())
print(json.dumps([statistics.median(walls), statistics.median(cpus), peak / 1024]))
"""


def _run(python: str, contender: tuple[str, str, int], fmt: dict, repeat: int | None) -> tuple[float, float, float]:
    """Median wall seconds, median CPU seconds and peak RSS (MB) of a contender in a fresh interpreter."""
    setup, body, default_repeat = contender
    code = WRAPPER.format(
        setup=setup.format(**fmt),
        body=textwrap.indent(body.format(**fmt), "    "),
        repeat=repeat or default_repeat,
    )
    out = subprocess.run([python, "-c", code], capture_output=True, text=True, check=False, cwd=ROOT)
    if out.returncode != 0:
        lines = out.stderr.strip().splitlines() or ["no output"]
        print(f"failed: {lines[-1]}", file=sys.stderr)
        return float("nan"), float("nan"), float("nan")
    wall, cpu, rss = json.loads(out.stdout.strip().splitlines()[-1])
    return wall, cpu, rss


def _lifetimes_python() -> str:
    py = LIFETIMES_VENV / "bin" / "python"
    if not py.exists():
        subprocess.run([PY, "-m", "venv", str(LIFETIMES_VENV)], check=True)
    probe = "import lifetimes.utils, pandas, pyarrow.parquet"
    if subprocess.run([str(py), "-c", probe], capture_output=True, check=False).returncode != 0:
        subprocess.run([str(py), "-m", "pip", "install", "-q", *LIFETIMES_PACKAGES], check=True)
    return str(py)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--customers", type=int, default=1_000_000, help="store size when --data is not given")
    ap.add_argument("--data", type=Path, default=None, help="store folder (default .bench-data/store-<customers>)")
    ap.add_argument("--repeat", type=int, default=None, help="runs per fast contender and process (default 3)")
    ap.add_argument("--rounds", type=int, default=3, help="fresh processes per DuckDB contender, interleaved")
    ap.add_argument("--spark", action="store_true", help="also time the RFM summary on PySpark local[2]")
    ap.add_argument("--stores", action="store_true", help="also time the scorecard on SQLite and PostgreSQL stores")
    ap.add_argument("--postgres", default=PG_DEFAULT, help="PostgreSQL server for --stores (a database is made)")
    ap.add_argument("--no-lifetimes", action="store_true")
    ap.add_argument(
        "--bulk-load",
        action="store_true",
        help="with --stores: load the stores with bench/_bulk_store.py (COPY / executemany, no validation)",
    )
    ap.add_argument(
        "--lifetimes-sample", type=int, default=1, help="lifetimes on every k-th customer only (time scaled up by k)"
    )
    args = ap.parse_args()
    data = args.data or ROOT / ".bench-data" / f"store-{args.customers}"
    if not (data / "orders.parquet").exists():
        cmd = [str(ROOT / ".venv/bin/aftersales"), "generate", "--customers", str(args.customers), "--seed", "1"]
        subprocess.run([*cmd, "--as-of", END, "--out", str(data)], check=True, capture_output=True)
    fmt = {"data": data, "orders": data / "orders.parquet", "end": END, "sample": args.lifetimes_sample}
    import pyarrow.parquet as pq

    n_orders = pq.ParquetFile(fmt["orders"]).metadata.num_rows
    print(f"store {data}: {n_orders:,} orders; {os.cpu_count()} CPUs\n")
    fast = [n for n, c in CONTENDERS.items() if c[2] > 1]
    samples: dict[str, list[tuple[float, float, float, float]]] = {}
    for _ in range(args.rounds):  # interleaved, so that drifting load hits every contender alike
        for name in fast:
            load = os.getloadavg()[0]
            samples.setdefault(name, []).append((*_run(PY, CONTENDERS[name], fmt, args.repeat), load))
    jobs = [(name, PY, c) for name, c in CONTENDERS.items() if name not in fast]
    if not args.no_lifetimes:
        k = args.lifetimes_sample
        label = "RFM: lifetimes" + (f" (1/{k} of customers, time ×{k})" if k > 1 else "")
        jobs.append((label, _lifetimes_python(), LIFETIMES))
    if args.spark:
        jobs.append(("RFM: Ibis on PySpark local[2]", PY, SPARK))
    if args.stores:
        fmt.update(_load_stores(data, n_orders, args.customers, args.postgres, args.bulk_load))
        jobs += [(name, PY, contender) for name, contender in STORES.items()]
    for name, python, contender in jobs:
        load = os.getloadavg()[0]
        wall, cpu, rss = _run(python, contender, fmt, args.repeat)
        if name.startswith("RFM: lifetimes") and args.lifetimes_sample > 1:
            wall, cpu = wall * args.lifetimes_sample, cpu * args.lifetimes_sample
        samples[name] = [(wall, cpu, rss, load)]
        print(f"  {name}: {wall:.2f} s", file=sys.stderr, flush=True)
    rows = [
        (
            name,
            statistics.median(x[0] for x in v),
            statistics.median(x[1] for x in v),
            max(x[2] for x in v),
            statistics.mean(x[3] for x in v),
        )
        for name, v in samples.items()
    ]
    floor = rows[0][1]
    print(f"{'contender':52} {'wall s':>7} {'cpu s':>7} {'x floor':>8} {'peak RSS MB':>12} {'load':>5}")
    print("-" * 96)
    for name, wall, cpu, rss, load in rows:
        print(f"{name:52} {wall:7.2f} {cpu:7.2f} {wall / floor:8.1f} {rss:12.0f} {load:5.1f}")
    _targets({name: (wall, cpu, rss) for name, wall, cpu, rss, _ in rows})


def _targets(r: dict[str, tuple[float, float, float]]) -> None:
    ibis_rfm, hand, floor = r["RFM: Ibis on DuckDB"], r["RFM: hand-written DuckDB SQL"], r["count per customer (floor)"]
    life = next((v for k, v in r.items() if k.startswith("RFM: lifetimes")), None)
    card = r["scorecard + cohort matrix (service)"]
    print("\ntargets (wall; cpu in brackets)")
    if life is not None:
        print(f"  RFM ≥ 5× faster than lifetimes:   {life[0] / ibis_rfm[0]:5.1f}× [{life[1] / ibis_rfm[1]:5.1f}×]")
    print(f"  RFM ≤ 1.25× hand-written SQL:     {ibis_rfm[0] / hand[0]:5.2f}× [{ibis_rfm[1] / hand[1]:5.2f}×]")
    print(f"  RFM ≤ 4× count floor:             {ibis_rfm[0] / floor[0]:5.2f}× [{ibis_rfm[1] / floor[1]:5.2f}×]")
    print(f"  scorecard + cohort matrix < 10 s: {card[0]:5.2f} s")
    ours = [v[2] for k, v in r.items() if "pandas" not in k and "lifetimes" not in k and "Spark" not in k]
    print(f"  peak RSS < 2 GB (DuckDB paths):   {max(ours):5.0f} MB")
    pg, lite = r.get("scorecard: PostgreSQL store"), r.get("scorecard: DuckDB over the SQLite store")
    if pg is not None and lite is not None:
        print(f"  scorecard PostgreSQL ≤ 3× DuckDB over SQLite: {pg[0] / lite[0]:5.2f}× [{pg[1] / lite[1]:5.2f}×]")


if __name__ == "__main__":
    main()
