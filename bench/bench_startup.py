"""Start-up cost of the ``aftersales`` command (issue 11 item 7): wall and CPU time, and what is imported.

Runs each command in a fresh interpreter (``python -m aftersales``, as the console script does),
``--runs`` times, and prints the median and best wall time and the median and best CPU time (user +
system of the child: on a loaded machine wall time includes waiting for a core, so CPU time is the
fairer figure); then, from one ``python -X importtime`` run of each, the top-level imports with the
largest cumulative time, and which heavy modules were loaded. The target: ``aftersales --help`` and
``aftersales keys create`` under 0.5 s of CPU.

``keys create`` runs on a store already at the head (the bench creates it first), with ``--db`` and
as a user types it, on the settings' default store ``sqlite:///aftersales.db`` in the working folder;
``--postgres URL`` adds it on a PostgreSQL database (which it migrates). ``--compare SRC`` also runs
every command from another source tree (``PYTHONPATH=SRC``, e.g. ``git archive`` of an older commit
unpacked, its ``src`` folder), alternating run by run with this one, for a fair A/B on a busy machine
(the PostgreSQL row only for this tree: the two trees' migrations may differ).

    .venv/bin/python bench/bench_startup.py [--runs 5] [--top 8] [--postgres URL] [--compare SRC]
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

HEAVY = ("pandas", "scipy", "ibis", "pyarrow", "sqlalchemy", "alembic", "psycopg", "pydantic_settings", "typer")


def commands(workdir: Path, postgres: str | None) -> dict[str, list[str]]:
    db = str(workdir / "bench.db")
    cmds = {
        "aftersales --help": ["--help"],
        "keys create --db FILE": ["keys", "create", "--scope", "read", "--db", db],
        "keys create (default store)": ["keys", "create", "--scope", "ingest"],
        "aftersales metrics --help": ["metrics", "--help"],
    }
    if postgres:
        cmds["keys create --db postgresql"] = ["keys", "create", "--scope", "read", "--db", postgres]
    return cmds


def _env(src: str | None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AFTERSALES_")}
    if src:
        env["PYTHONPATH"] = src
    return env


def timed(args: list[str], cwd: Path, src: str | None = None) -> tuple[float, float]:
    """Wall seconds and CPU seconds (user + system) of one run."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t = time.perf_counter()
    subprocess.run([sys.executable, "-m", "aftersales", *args], cwd=cwd, env=_env(src), capture_output=True, check=True)
    elapsed = time.perf_counter() - t
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return elapsed, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def import_times(args: list[str], cwd: Path, src: str | None = None) -> list[tuple[float, float, str]]:
    """``(self s, cumulative s, module)`` for every import, from ``-X importtime``."""
    res = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "aftersales", *args], cwd=cwd, env=_env(src), capture_output=True
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
    parser.add_argument("--postgres", help="a PostgreSQL URL to time keys create on (the store is migrated)")
    parser.add_argument("--compare", help="another source tree's src folder, run alternately (A/B)")
    opts = parser.parse_args()
    sources: dict[str, str | None] = {"this": None, **({"compare": opts.compare} if opts.compare else {})}
    with tempfile.TemporaryDirectory() as tmp:
        dirs = {label: Path(tmp) / label for label in sources}
        cmds = {label: commands(dirs[label], opts.postgres if label == "this" else None) for label in sources}
        for label, src in sources.items():
            dirs[label].mkdir()
            for name, args in cmds[label].items():  # create the stores once: later runs time a key, not migrations
                if name.startswith("keys create"):
                    timed(args, dirs[label], src)
        print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores, {opts.runs} runs each")
        head = f"{'command':30} {'tree':8} {'med wall':>8} {'best wall':>9} {'med cpu':>8} {'best cpu':>8}"
        print(f"{head}  heavy modules loaded")
        details = {}
        for name in cmds["this"]:
            trees = {label: src for label, src in sources.items() if name in cmds[label]}
            runs: dict[str, list[tuple[float, float]]] = {label: [] for label in trees}
            for _ in range(opts.runs):
                for label, src in trees.items():
                    runs[label].append(timed(cmds[label][name], dirs[label], src))
            for label, src in trees.items():
                rows = import_times(cmds[label][name], dirs[label], src)
                loaded = sorted({m.strip().split(".")[0] for _, _, m in rows} & set(HEAVY))
                details[(name, label)] = rows
                walls, cpus = [r[0] for r in runs[label]], [r[1] for r in runs[label]]
                print(
                    f"{name:30} {label:8} {statistics.median(walls):8.3f} {min(walls):9.3f} "
                    f"{statistics.median(cpus):8.3f} {min(cpus):8.3f}  {', '.join(loaded) or 'none'}"
                )
        for (name, label), rows in details.items():
            top = [r for r in rows if len(r[2]) - len(r[2].lstrip()) == 1]  # depth 0: not imported by another
            top.sort(key=lambda r: r[1], reverse=True)
            total = sum(r[1] for r in top)
            print(f"\n{name} [{label}]: top-level imports by cumulative time (all top-level: {total:.3f} s)")
            print(f"  {'cumulative s':>12} {'self s':>8}  module")
            for own, cumulative, module in top[: opts.top]:
                print(f"  {cumulative:12.3f} {own:8.3f}  {module.strip()}")


if __name__ == "__main__":
    main()
