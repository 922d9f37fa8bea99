"""The kill -9 soak, short (the long one is bench/soak_journeys.py, the same code): 2,000 e-mails of a
journey (split, e-mail, branch, exit) sent by worker processes to a real SMTP server on loopback while
a worker is killed with SIGKILL 3 times at random moments and restarted at once. The SMTP server
receives no Message-ID twice, every message is sent or unknown (at most one unknown per kill), every
enrollment completes. Two workers on PostgreSQL, one on SQLite (its writers take turns).

Builds on the delivery test that kills a worker once mid-SMTP-transaction
(tests/integration/messaging/delivery/test_killed_worker.py) and the runtime's
(tests/integration/journeys/runtime/test_worker_sharing.py): here the whole worker, advancing and
sending, is killed repeatedly at moments nobody chose."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

BENCH = Path(__file__).resolve().parents[3] / "bench"


def _soak_module() -> ModuleType:
    spec = importlib.util.spec_from_file_location("soak_journeys", BENCH / "soak_journeys.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("soak_journeys", module)
    spec.loader.exec_module(module)
    return module


@pytest.mark.slow
def test_workers_killed_with_sigkill_send_each_message_at_most_once_and_lose_no_step(store_url, tmp_path) -> None:
    soak = _soak_module()
    workers = 2 if store_url.startswith("postgresql") else 1
    result = soak.soak(store_url, n=2000, kills=3, workers=workers, lease_s=3.0, seed=7, folder=tmp_path, timeout_s=300)
    assert result.duplicates == []
    assert result.problems == [], result.problems
    assert result.enrollments == {"completed": 2000}
    assert set(result.messages) <= {"sent", "unknown"} and sum(result.messages.values()) == 2000
    assert result.messages.get("unknown", 0) <= 3
    assert result.received >= result.messages["sent"]
