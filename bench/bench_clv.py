"""Benchmark of the CLV models against lifetimes 0.11 and pymc-marketing (MAP), side by side.

Run by hand (never in the test suite)::

    .venv/bin/python bench/bench_clv.py               # everything, peers included (first run installs them)
    .venv/bin/python bench/bench_clv.py --no-peers    # aftersales only
    .venv/bin/python bench/bench_clv.py --skip-10m    # without the 10M-customer end-to-end run
    .venv/bin/python bench/bench_clv.py --tasks bgnbd1m --rounds 3   # the 1M BG/NBD fit, 3 rounds

The peers live in their own virtual environments, created here on first use and never product
dependencies: ``bench/.venv-lifetimes`` (lifetimes 0.11.3 needs numpy<2, scipy<1.13, pandas<2.2) and
``bench/.venv-pymc`` (pymc-marketing 0.19.2, the newest for Python 3.11). Every library gets the same
per-customer (frequency, recency, T) rows; pymc-marketing fits with flat priors, so its MAP is the MLE.
Data goes to .bench-data/clv/. Targets (issue 4): 1M BG/NBD fit ≥ 30× faster than lifetimes and ≥ 15×
faster than pymc-marketing with the same parameters to 3 significant digits; Pareto/NBD on 100k
customers < 2 s; scoring 10M customers end to end from Parquet < 60 s with peak RSS < 3 GB.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from aftersales.core.clv import BetaGeo, ParetoNBD
from aftersales.core.clv.value import score

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / ".bench-data" / "clv"
PEERS = {
    "lifetimes": (ROOT / "bench" / ".venv-lifetimes", ["lifetimes==0.11.3", "numpy<2", "scipy<1.13", "pandas<2.2"]),
    "pymc": (ROOT / "bench" / ".venv-pymc", ["pymc-marketing==0.19.2"]),
}
AS_OF = date(2025, 6, 30)


def ensure_peer(name: str) -> Path:
    venv, packages = PEERS[name]
    python = venv / "bin" / "python"
    if not python.exists():
        print(f"installing {name} into {venv} ...", file=sys.stderr)
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        subprocess.run([str(python), "-m", "pip", "install", "-q", *packages], check=True)
    return python


def run_peer(name: str, task: str, rfm: pd.DataFrame, params: dict | None = None) -> dict:
    path = DATA / f"{task}_{len(rfm)}.npz"
    np.savez(path, **{k: rfm[k].to_numpy(float) for k in ("frequency", "recency", "T")})
    cmd = [str(ensure_peer(name)), str(ROOT / "bench" / "clv_peers.py"), name, task, str(path)]
    if params:
        cmd.append(json.dumps(params))
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        return {"error": proc.stderr.strip().splitlines()[-1] if proc.stderr.strip() else "failed"}
    return json.loads(proc.stdout.strip().splitlines()[-1])


# --- data ----------------------------------------------------------------------------------------
def simulate_bgnbd(n: int, r: float, alpha: float, a: float, b: float, seed: int, max_days: int = 730) -> pd.DataFrame:
    """Customers entering uniformly over ``max_days``, weekly unit at daily resolution (days/7)."""
    rng = np.random.default_rng(seed)
    T_days = rng.integers(1, max_days + 1, n)
    lam = rng.gamma(r, 1.0 / alpha, n) / 7.0  # per day
    p = rng.beta(a, b, n)
    clock, last = np.zeros(n), np.zeros(n)
    freq = np.zeros(n)
    idx = np.arange(n)
    while idx.size:
        clock[idx] += rng.exponential(1.0 / np.maximum(lam[idx], 1e-300))
        bought = clock[idx] <= T_days[idx]
        idx = idx[bought]
        freq[idx] += 1
        last[idx] = clock[idx]
        idx = idx[rng.random(idx.size) >= p[idx]]
    recency_days = np.where(freq > 0, np.minimum(np.floor(last), T_days), 0.0)
    return pd.DataFrame({"frequency": freq, "recency": recency_days / 7.0, "T": T_days / 7.0})


def simulate_paretonbd(n: int, r: float, alpha: float, s: float, beta: float, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    T_days = rng.integers(1, 731, n)
    T = T_days / 7.0
    lam, mu = rng.gamma(r, 1.0 / alpha, n), rng.gamma(s, 1.0 / beta, n)
    active = np.minimum(rng.exponential(1.0 / mu), T)
    x = rng.poisson(lam * active).astype(float)
    last = active * rng.random(n) ** (1.0 / np.maximum(x, 1.0))  # max of x uniforms on [0, active]
    recency = np.where(x > 0, np.floor(last * 7.0) / 7.0, 0.0)
    return pd.DataFrame({"frequency": x, "recency": recency, "T": T})


def write_orders(n_customers: int, directory: Path, seed: int = 11) -> int:
    """BG/NBD customers as contract ``orders`` in Parquet, written 1M customers at a time."""
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / "orders.parquet"
    if path.exists() and pq.ParquetFile(path).metadata.num_rows > 0:
        return pq.ParquetFile(path).metadata.num_rows
    schema = pa.schema(
        [("order_id", pa.string()), ("customer_id", pa.string()), ("status", pa.string()),
         ("ordered_at", pa.timestamp("us", tz="UTC")), ("revenue", pa.float64())]
    )  # fmt: skip
    rng = np.random.default_rng(seed)
    end = np.datetime64(AS_OF.isoformat(), "D")
    rows = 0
    with pq.ParquetWriter(path, schema) as writer:
        for start in range(0, n_customers, 1_000_000):
            n = min(1_000_000, n_customers - start)
            lam = rng.gamma(0.25, 1.0 / 4.4, n) / 7.0
            p = rng.beta(0.8, 2.4, n)
            entry = rng.integers(0, 730, n).astype(float)
            cust, day = [np.arange(n)], [entry.copy()]
            clock, idx = entry.copy(), np.arange(n)
            while idx.size:
                clock[idx] += rng.exponential(1.0 / np.maximum(lam[idx], 1e-300))
                idx = idx[clock[idx] < 730]
                cust.append(idx)
                day.append(clock[idx].copy())
                idx = idx[rng.random(idx.size) >= p[idx]]
            c, d = np.concatenate(cust), np.concatenate(day)
            ts = (end - 730).astype("datetime64[us]") + (d * 86_400e6).astype("timedelta64[us]")
            ids = np.arange(rows, rows + c.size)
            writer.write_table(
                pa.table(
                    {
                        "order_id": pa.array(ids).cast(pa.string()),
                        "customer_id": pa.array(c + start).cast(pa.string()),
                        "status": pa.array(np.full(c.size, "placed")),
                        "ordered_at": pa.array(ts, pa.timestamp("us")).cast(pa.timestamp("us", tz="UTC")),
                        "revenue": np.round(rng.gamma(6.0, 5.0, c.size), 2),
                    },
                    schema=schema,
                )
            )
            rows += c.size
    return rows


# --- timings -------------------------------------------------------------------------------------
def timed(fn):
    t0 = time.perf_counter()
    out = fn()
    return time.perf_counter() - t0, out


def max_rel_diff(a: dict, b: dict) -> float:
    return max(abs(a[k] - b[k]) / abs(b[k]) for k in b)


def fit_row(label: str, cls, rfm: pd.DataFrame, task: str, peers: bool, rounds: int = 1, repeats: int = 5) -> dict:
    """One fit, side by side on the same rows. The machine is shared, so timings are medians: each of
    ``rounds`` rounds times our fit ``repeats`` times, then each peer once (interleaved, so load
    changes hit everyone alike); ratios are of the medians."""
    ours: list[float] = []
    peer_s: dict[str, list[float]] = {"lifetimes": [], "pymc": []}
    row: dict = {"task": label, "customers": len(rfm)}
    model = None
    for _ in range(rounds):
        runs = [timed(lambda: cls().fit(rfm)) for _ in range(repeats)]
        ours += [r[0] for r in runs]
        model = runs[0][1]
        for name in peer_s if peers else ():
            res = run_peer(name, task, rfm)
            if "error" in res:
                row[f"{name}_s"] = res["error"]
                continue
            peer_s[name].append(res["seconds"])
            row[f"{name}_max_param_rel_diff"] = max_rel_diff(res["params"], model.params_)
    seconds = float(np.median(ours))
    row.update(distinct_rows=model.n_rows_, iterations=model.iterations_, aftersales_s=seconds)
    row["aftersales_min_s"] = min(ours)
    row["params"] = {k: round(v, 4) for k, v in model.params_.items()}
    for name, times in peer_s.items():
        if times:
            row[f"{name}_s"] = float(np.median(times))
            row[f"{name}_runs_s"] = [round(t, 2) for t in times]
            row[f"{name}_speedup"] = float(np.median(times)) / seconds
    return row


def score_child(directory: str, out: str) -> None:
    """Child process: predict from Parquet; prints wall seconds and peak RSS (MB) as JSON."""
    from aftersales.services.analytical.clv import predict_clv

    t0 = time.perf_counter()
    try:
        from aftersales.adapters.engines import open_source

        try:  # since ClvOptions: one options value, and the scores written by an adapter
            from aftersales.adapters.sources.table_files import write_table
            from aftersales.core.clv.options import ClvOptions

            options = ClvOptions(horizon=52, discount=0.10, margin=0.3, time_unit="week")
            with open_source(directory) as src:
                result = predict_clv(src, options, out=Path(out), write=write_table)
        except ImportError:
            with open_source(directory) as src:
                result = predict_clv(src, out=Path(out), horizon=52, discount=0.10, margin=0.3, time_unit="week")
    except ImportError:
        import ibis

        class _Src:
            backend = ibis.duckdb.connect()

            def table(self, name: str):
                return self.backend.read_parquet(Path(directory) / f"{name}.parquet", table_name=name)

        result = predict_clv(_Src(), out=Path(out), horizon=52, discount=0.10, margin=0.3, time_unit="week")
    seconds = time.perf_counter() - t0
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"seconds": seconds, "peak_rss_mb": rss, "customers": result.n_customers,
                      "distinct_rows": result.n_distinct_rows}))  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--no-peers", action="store_true")
    ap.add_argument("--skip-10m", action="store_true")
    ap.add_argument("--score-customers", type=int, default=10_000_000)
    ap.add_argument("--tasks", default="cdnow,bgnbd1m,pareto100k,score", help="comma-separated subset")
    ap.add_argument("--rounds", type=int, default=1, help="side-by-side rounds of the 1M BG/NBD fit (medians)")
    ap.add_argument("--score-child", nargs=2, metavar=("DIR", "OUT"), help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.score_child:
        score_child(*args.score_child)
        return 0
    DATA.mkdir(parents=True, exist_ok=True)
    peers = not args.no_peers
    rows = []

    sys.path.insert(0, str(ROOT / "tests" / "oracle" / "clv"))
    from conftest import cdnow_summary  # the pandas CDNOW summary of the oracle tests

    tasks = set(args.tasks.split(","))
    print(json.dumps({"load_average_1_5_15": os.getloadavg(), "cpus": os.cpu_count()}))
    if "cdnow" in tasks:
        rows.append(fit_row("BG/NBD fit, CDNOW", BetaGeo, cdnow_summary(), "bgnbd_fit", peers))
    million = simulate_bgnbd(1_000_000, r=0.25, alpha=4.4, a=0.8, b=2.4, seed=1)
    if "bgnbd1m" in tasks:
        rows.append(fit_row("BG/NBD fit, 1M synthetic", BetaGeo, million, "bgnbd_fit", peers, rounds=args.rounds))
    if "pareto100k" in tasks:
        pareto = simulate_paretonbd(100_000, r=0.55, alpha=10.6, s=0.6, beta=11.7, seed=2)
        rows.append(fit_row("Pareto/NBD fit, 100k synthetic", ParetoNBD, pareto, "paretonbd_fit", peers))
    if "score" not in tasks:
        for r in rows:
            print(json.dumps(r, default=str))
        print(json.dumps({"load_average_1_5_15": os.getloadavg()}))
        return 0

    params = {"r": 0.25, "alpha": 4.4, "a": 0.8, "b": 2.4}
    model = BetaGeo.from_params(**params)

    def ours():
        # The product's path: distinct tuples, scored once each, mapped back to customers.
        cols = {k: million[k].to_numpy() for k in ("frequency", "recency", "T")}
        group = pd.DataFrame(cols).groupby(list(cols), sort=False).ngroup().to_numpy()
        first = np.unique(group, return_index=True)[1]
        x, t_x, T = (cols[k][first] for k in cols)
        return model.expected_purchases(52, x, t_x, T)[group], model.probability_alive(x, t_x, T)[group]

    runs = [timed(ours) for _ in range(5)]
    seconds, (e, p) = float(np.median([r[0] for r in runs])), runs[0][1]
    row = {"task": "BG/NBD score (E[Y(52)], P(alive)), 1M", "customers": len(million), "aftersales_s": seconds}
    if peers:
        for name in ("lifetimes", "pymc"):
            res = run_peer(name, "bgnbd_score", million, params)
            row[f"{name}_s"] = res.get("seconds", res.get("error"))
            if "seconds" in res:
                row[f"{name}_speedup"] = res["seconds"] / seconds
                row[f"{name}_checksum_rel_diff"] = abs(res["checksum"] - (e.sum() + p.sum())) / (e.sum() + p.sum())
    rows.append(row)
    distinct = million.drop_duplicates()
    seconds, _ = timed(
        lambda: score(model, *(distinct[k] for k in ("frequency", "recency", "T")), horizon=52,
                      annual_discount=0.10, periods_per_year=52.18)
    )  # fmt: skip
    rows.append({"task": "BG/NBD 52-week discounted CLV multiplier, distinct rows of 1M", "rows": len(distinct),
                 "aftersales_s": seconds})  # fmt: skip

    if not args.skip_10m:
        directory = DATA / f"orders_{args.score_customers}"
        gen_s, n_orders = timed(lambda: write_orders(args.score_customers, directory))
        child = subprocess.run(
            [sys.executable, __file__, "--score-child", str(directory), str(DATA / "scores.parquet")],
            capture_output=True, text=True, check=False,
        )  # fmt: skip
        res = json.loads(child.stdout.strip().splitlines()[-1]) if child.returncode == 0 else {"error": child.stderr}
        rows.append({"task": f"predict end to end from Parquet ({n_orders:,} orders)", **res, "generate_s": gen_s})

    for r in rows:
        print(json.dumps(r, default=str))
    print(json.dumps({"load_average_1_5_15": os.getloadavg()}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
