"""A worker process killed with SIGKILL in the middle of an SMTP transaction: the message it was
sending becomes ``unknown`` once its lease ends (reported, never resent), every other message is sent
exactly once by the next worker, and the SMTP server never receives one Message-ID twice."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

WORKER = textwrap.dedent(
    """
    import sys
    from dataclasses import replace
    from aftersales.adapters.sql.engine import make_engine
    from aftersales.adapters.sql.repositories import unit_of_work_factory
    from aftersales.bootstrap.delivery import delivery_sender
    from aftersales.config import Settings
    from aftersales.services.clock import SystemClock

    url, port = sys.argv[1], int(sys.argv[2])
    settings = Settings(
        database_url=url, email_transport="smtp", smtp_port=int(port), secret_key="k" * 32,
        quiet_hours="off", frequency_cap="off", mail_from="Shop <noreply@shop.example>",
    )
    sender = delivery_sender(unit_of_work_factory(make_engine(url)), SystemClock(), settings, limit=4)
    sender.config = replace(sender.config, lease_s=2.0)
    while sender().claimed:
        pass
    """
)


@pytest.mark.slow
def test_a_worker_killed_mid_send_leaves_one_unknown_and_no_duplicate(seed: Any, smtp_sink: Any) -> None:
    now = datetime.now(UTC)
    for c in range(3):
        seed.customer(f"c{c}")
    ids = [
        seed.message(f"c{c}", f"s{i}", category="transactional", params={"template": "thank-you"},
                     not_before=now - timedelta(minutes=1)).message_id
        for c in range(3) for i in range(4)
    ]  # fmt: skip
    gate, inside = threading.Event(), threading.Event()
    original = smtp_sink.on_data

    def hold_the_sixth() -> None:  # the sixth message's DATA is received, its reply never comes
        if len(smtp_sink.messages) == 6:
            inside.set()
            gate.wait(30)

    smtp_sink.on_data = hold_the_sixth
    env = {k: v for k, v in os.environ.items() if not k.startswith("AFTERSALES_")}
    worker = subprocess.Popen([sys.executable, "-c", WORKER, seed.url, str(smtp_sink.port)], env=env)
    try:
        assert inside.wait(120), "the worker never reached the sixth message"
        worker.send_signal(signal.SIGKILL)
        worker.wait(30)
    finally:
        gate.set()
        smtp_sink.on_data = original
        if worker.poll() is None:
            worker.kill()
    statuses = [seed.get(i).status for i in ids]
    assert statuses.count("sending") == 1 and statuses.count("sent") == 5
    time.sleep(2.2)  # the dead worker's lease ends
    second = subprocess.run([sys.executable, "-c", WORKER, seed.url, str(smtp_sink.port)], env=env, timeout=120)
    assert second.returncode == 0
    final = {i: seed.get(i) for i in ids}
    unknown = [m for m in final.values() if m.status == "unknown"]
    assert len(unknown) == 1 and unknown[0].attempts == 1
    assert sum(m.status == "sent" for m in final.values()) == len(ids) - 1
    received = smtp_sink.message_ids()
    assert len(received) == len(set(received)) == len(ids)  # the unknown one did reach the server, once
    assert unknown[0].rfc_message_id in received
