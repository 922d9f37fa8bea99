"""Bench-only: the processes of the journey benchmark and the kill -9 soak: the SMTP sink
(bench/_smtp_sink.py) and journey workers (bench/_journey_worker.py), each its own process, their
CPU time, and the machine's load average. Never used by the product."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

__all__ = ["clean_env", "cpu_s", "load", "start_sink", "start_worker", "stop", "wait_until"]

HERE = Path(__file__).resolve().parent


def load() -> str:
    """The machine's load average over 1, 5 and 15 minutes."""
    return "{:.2f} {:.2f} {:.2f}".format(*os.getloadavg())


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def clean_env() -> dict[str, str]:
    """The environment without ``AFTERSALES_*`` (a worker's settings are the bench's alone)."""
    return {k: v for k, v in os.environ.items() if not k.startswith("AFTERSALES_")}


def _ready(proc: subprocess.Popen[str], what: str) -> None:
    line = proc.stdout.readline() if proc.stdout else ""
    if not line.startswith("ready"):
        proc.kill()
        raise RuntimeError(f"{what} did not start (exit {proc.wait()})")


def start_sink(folder: Path) -> tuple[subprocess.Popen[str], int, Path]:
    """A fresh SMTP sink on a free loopback port writing to a new log in ``folder``: (process, port, log)."""
    port, log = free_port(), folder / f"received-{time.monotonic_ns()}.txt"
    cmd = [sys.executable, str(HERE / "_smtp_sink.py"), "--port", str(port), "--log", str(log)]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True, env=clean_env())
    _ready(proc, "the SMTP sink")
    return proc, port, log


def start_worker(url: str, port: int, report: Path | None, *extra: str) -> subprocess.Popen[str]:
    """A journey worker process on the store ``url`` sending to the sink at ``port``, once it is ready
    (``report``: where it writes what it did when stopped with SIGTERM; ``extra``: its options)."""
    cmd = [sys.executable, str(HERE / "_journey_worker.py"), url, "--smtp-port", str(port)]
    if report is not None:
        cmd += ["--report", str(report)]
    proc = subprocess.Popen([*cmd, *extra], stdout=subprocess.PIPE, text=True, env=clean_env())
    _ready(proc, "a worker")
    return proc


def stop(proc: subprocess.Popen[str], timeout: float = 120) -> None:
    """SIGTERM, then wait (a worker finishes its round and writes its report)."""
    if proc.poll() is None:
        proc.terminate()
    try:
        proc.wait(timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def cpu_s(pid: int) -> float:
    """User + system CPU seconds of a live process (``/proc/<pid>/stat``; 0 when it is gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def wait_until(done: Callable[[], bool], timeout: float, what: str, every: float = 0.25) -> None:
    deadline = time.monotonic() + timeout
    while not done():
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(every)
