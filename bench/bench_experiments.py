"""Benchmark: analyse 100 metrics × 5 variants × 50 slices (25,000 rows) from summary statistics.

Run by hand: ``.venv/bin/python bench/bench_experiments.py`` (target: under 1 s on 2 cores).
Prints, per method, the best of ``--repeat`` wall times for validation (``summary_table``) and the
analysis (``analyze``, with Holm over all 20,000 comparisons where p-values exist).
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import pandas as pd

from aftersales.core.experiments.analysis import AnalysisOptions, analyze
from aftersales.core.experiments.table import summary_table


def make_stats(metrics: int, variants: int, slices: int, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    rows = metrics * variants * slices
    n = rng.integers(1_000, 50_000, rows).astype(float)
    mean = rng.uniform(1, 100, rows)
    sd = mean * rng.uniform(0.5, 3, rows)
    pre_mean, pre_sd = mean * 0.9, sd
    cov = 0.5 * sd * pre_sd
    return pd.DataFrame(
        {
            "metric": np.repeat([f"metric_{m}" for m in range(metrics)], variants * slices),
            "segment": np.tile(np.repeat([f"slice_{s}" for s in range(slices)], variants), metrics),
            "variant": np.tile([f"v{v}" for v in range(variants)], metrics * slices),
            "n": n,
            "sum": n * mean,
            "sum_squares": (n - 1) * sd**2 + n * mean**2,
            "pre_sum": n * pre_mean,
            "pre_sum_squares": (n - 1) * pre_sd**2 + n * pre_mean**2,
            "cross_sum": (n - 1) * cov + n * mean * pre_mean,
        }
    )


def best(fn, repeat: int) -> tuple[float, object]:
    times, out = [], None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
    return min(times), out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--metrics", type=int, default=100)
    ap.add_argument("--variants", type=int, default=5)
    ap.add_argument("--slices", type=int, default=50)
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args()
    frame = make_stats(args.metrics, args.variants, args.slices)
    print(f"{len(frame):,} rows ({args.metrics} metrics × {args.variants} variants × {args.slices} slices), CUPED on")
    print(f"{'step':<34}{'best s':>10}{'comparisons':>14}")
    t_val, table = best(lambda: summary_table(frame), args.repeat)
    print(f"{'validate (summary_table)':<34}{t_val:>10.3f}{'':>14}")
    for method, correction in (("frequentist", "holm"), ("frequentist", "bh"), ("sequential", "holm"),
                               ("bayesian", "none")):  # fmt: skip
        opt = AnalysisOptions(method=method, correction=correction)  # type: ignore[arg-type]
        t, out = best(lambda opt=opt: analyze(table, opt), args.repeat)
        label = f"analyze {method}/{correction}"
        print(f"{label:<34}{t:>10.3f}{len(out):>14,}")
        t_all, _ = best(lambda opt=opt: analyze(summary_table(frame), opt), args.repeat)
        print(f"{'  validate + analyze':<34}{t_all:>10.3f}")


if __name__ == "__main__":
    main()
