"""Benchmark the metrics engine: time and peak memory of each contender, one subprocess each.

    .venv/bin/python bench/bench_metrics.py --customers 1000000          # 10M orders (generated once)
    .venv/bin/python bench/bench_metrics.py --customers 100000 --spark   # add PySpark local[2]

Contenders: a bare count of orders per customer (the floor), the RFM summary through Ibis on
DuckDB, the same in hand-written DuckDB SQL, in pandas, lifetimes' ``summary_data_from_transaction_data``
(in its own venv, bench/.venv-metrics, created on first use), the headline scorecard plus the
cohort matrix through the service, and optionally the RFM summary on Spark.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PY = sys.executable
LIFETIMES_VENV = ROOT / "bench" / ".venv-metrics"
END = "2026-01-01"

SNIPPETS = {
    "count per customer (floor)": """
import duckdb
duckdb.sql("SELECT customer_id, count(*) FROM read_parquet('{orders}') GROUP BY 1").fetchall()
""",
    "RFM: Ibis on DuckDB": """
from datetime import date
from aftersales.adapters.engines import open_source
from aftersales.core.metrics.rfm import rfm_summary
with open_source('{data}') as s:
    s.backend.to_pyarrow(rfm_summary(s.table('orders'), observation_end=date.fromisoformat('{end}')))
""",
    "RFM: hand-written DuckDB SQL": """
import duckdb
duckdb.sql('''
WITH d AS (SELECT customer_id, CAST(floor(epoch(ordered_at) / 86400) AS BIGINT) AS u, sum(revenue) AS v
           FROM read_parquet('{orders}')
           WHERE status NOT IN ('returned', 'cancelled') AND returned_at IS NULL AND cancelled_at IS NULL
           GROUP BY 1, 2)
SELECT customer_id, count(*) - 1 AS frequency, max(u) - min(u) AS recency,
       (DATE '{end}' - DATE '1970-01-01') - min(u) AS T,
       CASE WHEN count(*) > 1 THEN (sum(v) - arg_min(v, u)) / (count(*) - 1) ELSE 0 END AS monetary_value
FROM d WHERE u <= (DATE '{end}' - DATE '1970-01-01') GROUP BY 1''').arrow()
""",
    "RFM: pandas": """
import pandas as pd
o = pd.read_parquet('{orders}', columns=['customer_id', 'ordered_at', 'revenue', 'status',
                                         'returned_at', 'cancelled_at'])
o = o[~o.status.isin(['returned', 'cancelled']) & o.returned_at.isna() & o.cancelled_at.isna()]
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
    "scorecard + cohort matrix (service)": """
from aftersales.adapters.engines import open_source
from aftersales.services.metrics import compute, scorecard
with open_source('{data}') as s:
    scorecard(s, period='month')
    compute(s, ['cohort_retention'], period='month')
""",
}

LIFETIMES = """
import pandas as pd
from lifetimes.utils import summary_data_from_transaction_data
o = pd.read_parquet('{orders}', columns=['customer_id', 'ordered_at', 'revenue', 'status',
                                         'returned_at', 'cancelled_at'])
o = o[~o.status.isin(['returned', 'cancelled']) & o.returned_at.isna() & o.cancelled_at.isna()]
o['ordered_at'] = o.ordered_at.dt.tz_localize(None)
summary_data_from_transaction_data(o, 'customer_id', 'ordered_at', 'revenue', observation_period_end='{end}')
"""

SPARK = """
from datetime import date
from aftersales.adapters.engines import open_source
from aftersales.core.metrics.rfm import rfm_summary
with open_source('{data}', 'spark') as s:
    s.backend.to_pyarrow(rfm_summary(s.table('orders'), observation_end=date.fromisoformat('{end}')))
"""


def _run(python: str, code: str) -> tuple[float, float]:
    """Wall seconds and peak RSS (MB) of ``code`` in a fresh interpreter."""
    wrapper = (
        "import resource, time, json\nt = time.perf_counter()\n"
        + code
        + "\nprint(json.dumps([time.perf_counter() - t, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024]))"
    )
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    out = subprocess.run([python, "-c", wrapper], capture_output=True, text=True, check=False, cwd=ROOT)
    if out.returncode != 0:
        print(f"failed: {out.stderr.strip().splitlines()[-1]}", file=sys.stderr)
        return float("nan"), float("nan")
    seconds, rss = json.loads(out.stdout.strip().splitlines()[-1])
    child = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return seconds, max(rss, child if child > before / 1024 else rss)


def _lifetimes_python() -> str:
    py = LIFETIMES_VENV / "bin" / "python"
    if not py.exists():
        subprocess.run([PY, "-m", "venv", str(LIFETIMES_VENV)], check=True)
        subprocess.run(
            [str(py), "-m", "pip", "install", "-q", "lifetimes==0.11.3", "pandas<2", "pyarrow", "numpy<2"], check=True
        )
    return str(py)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--customers", type=int, default=1_000_000)
    ap.add_argument("--data", type=Path, default=None, help="store folder (default .bench-data/store-<customers>)")
    ap.add_argument("--spark", action="store_true", help="also time the RFM summary on PySpark local[2]")
    ap.add_argument("--no-lifetimes", action="store_true")
    args = ap.parse_args()
    data = args.data or ROOT / ".bench-data" / f"store-{args.customers}"
    if not (data / "orders.parquet").exists():
        cmd = [str(ROOT / ".venv/bin/aftersales"), "generate", "--customers", str(args.customers), "--seed", "1"]
        subprocess.run([*cmd, "--as-of", END, "--out", str(data)], check=True, capture_output=True)
    fmt = {"data": data, "orders": data / "orders.parquet", "end": END}
    import pyarrow.parquet as pq

    n_orders = pq.ParquetFile(fmt["orders"]).metadata.num_rows
    print(f"store {data}: {n_orders:,} orders, {args.customers:,} customers\n")
    rows = [(name, *_run(PY, code.format(**fmt))) for name, code in SNIPPETS.items()]
    if not args.no_lifetimes:
        rows.append(("RFM: lifetimes", *_run(_lifetimes_python(), LIFETIMES.format(**fmt))))
    if args.spark:
        rows.append(("RFM: Ibis on PySpark local[2]", *_run(PY, SPARK.format(**fmt))))
    floor = rows[0][1]
    print(f"{'contender':40} {'seconds':>9} {'x floor':>8} {'peak RSS MB':>12}")
    for name, seconds, rss in rows:
        print(f"{name:40} {seconds:9.2f} {seconds / floor:8.1f} {rss:12.0f}")


if __name__ == "__main__":
    main()
