"""A real SMTP server on loopback (aiosmtpd) that records every Message-ID it accepts, for the
journey benchmark and the kill -9 soak (bench/bench_journeys.py, bench/soak_journeys.py and the
short soak in tests/integration/journeys).

Run as a process: ``python bench/_smtp_sink.py --port 2525 --log received.txt``; it prints
``ready <port>`` once listening and appends one line per accepted message (its Message-ID), flushed,
so a reader may count while it runs. It is never the process that gets killed.
"""

from __future__ import annotations

import argparse
import contextlib
import email.parser
import signal
import sys
import threading
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller

_HEADERS = email.parser.BytesHeaderParser()


class Recorder:
    def __init__(self, log: Path) -> None:
        self._out = log.open("a", encoding="utf-8")
        self._lock = threading.Lock()
        self.count = 0

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802 - aiosmtpd's name
        message_id = _HEADERS.parsebytes(envelope.content).get("Message-ID", "").strip()
        with self._lock:
            self._out.write(f"{message_id}\n")
            self._out.flush()
            self.count += 1
        return "250 OK"


def serve(port: int, log: Path) -> Controller:
    controller = Controller(Recorder(log), hostname="127.0.0.1", port=port)
    controller.start()
    return controller


def read_ids(log: Path) -> list[str]:
    """The Message-IDs received so far, in order (duplicates kept: the soak counts them)."""
    if not log.exists():
        return []
    return [line for line in log.read_text(encoding="utf-8").splitlines() if line]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--log", type=Path, required=True)
    args = parser.parse_args()
    controller = serve(args.port, args.log)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    print(f"ready {args.port}", flush=True)
    with contextlib.suppress(KeyboardInterrupt):
        stop.wait()
    controller.stop()
    sys.exit(0)


if __name__ == "__main__":
    main()
