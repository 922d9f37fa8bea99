"""Start-up cost of the ``aftersales`` command (issue 11 item 7): wall time and what is imported.

Runs each command in a fresh interpreter (``python -m aftersales``, as the console script does),
``--runs`` times, and prints the median and best wall time; then, from one ``python -X importtime`` run
of each, the top-level imports with the largest cumulative time, and whether pandas, SciPy, Ibis or
Arrow were loaded. The target: ``aftersales --help`` and ``aftersales keys create`` under 0.5 s.

    .venv/bin/python bench/bench_startup.py [--runs 5] [--top 8]
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HEAVY = ("pandas", "scipy", "ibis", "pyarrow")


def commands(workdir: Path) -> dict[str, list[str]]:
    db = str(workdir / "bench.db")
    return {
        "aftersales --help": ["--help"],
        "aftersales keys create": ["keys", "create", "--scope", "read", "--db", db],
        "aftersales metrics --help": ["metrics", "--help"],
    }


def _env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith("AFTERSALES_")}


def wall(args: list[str], cwd: Path) -> tuple[float, float]:
    """Wall seconds and CPU seconds (user + system) of one run. CPU time is the fairer figure on a
    loaded machine: wall time then includes waiting for a core."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t = time.perf_counter()
    subprocess.run([sys.executable, "-m", "aftersales", *args], cwd=cwd, env=_env(), capture_output=True, check=True)
    elapsed = time.perf_counter() - t
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return elapsed, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def import_times(args: list[str], cwd: Path) -> list[tuple[float, float, str]]:
    """``(self s, cumulative s, module)`` for every import, from ``-X importtime``."""
    res = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "aftersales", *args], cwd=cwd, env=_env(), capture_output=True
    )
    rows = []
    for line in res.stderr.decode().splitlines():
        if not line.startswith("import time:") or "|" not in line or "self [us]" in line:
            continue
        own, cumulative, name = line.removeprefix("import time:").split("|")
        rows.append((int(own) / 1e6, int(cumulative) / 1e6, name.rstrip()))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--top", type=int, default=8)
    opts = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        cwd = Path(tmp)
        cmds = commands(cwd)
        wall(cmds["aftersales keys create"], cwd)  # create the store once: later runs time a key, not migrations
        print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
        print(f"{'command':28} {'median s':>9} {'best s':>8} {'median cpu s':>13}  heavy modules loaded")
        details = {}
        for label, args in cmds.items():
            runs = [wall(args, cwd) for _ in range(opts.runs)]
            times, cpu = [r[0] for r in runs], [r[1] for r in runs]
            rows = import_times(args, cwd)
            loaded = sorted({name.strip().split(".")[0] for _, _, name in rows} & set(HEAVY))
            details[label] = rows
            med, best, med_cpu = statistics.median(times), min(times), statistics.median(cpu)
            print(f"{label:28} {med:9.3f} {best:8.3f} {med_cpu:13.3f}  {', '.join(loaded) or 'none'}")
        for label, rows in details.items():
            top = [r for r in rows if len(r[2]) - len(r[2].lstrip()) == 1]  # depth 0: not imported by another
            top.sort(key=lambda r: r[1], reverse=True)
            total = sum(r[1] for r in top)
            print(f"\n{label}: top-level imports by cumulative time (all top-level: {total:.3f} s)")
            print(f"  {'cumulative s':>12} {'self s':>8}  module")
            for own, cumulative, name in top[: opts.top]:
                print(f"  {cumulative:12.3f} {own:8.3f}  {name.strip()}")


if __name__ == "__main__":
    main()
