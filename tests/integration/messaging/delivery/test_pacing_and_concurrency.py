"""The send rate drains a backlog at the set rate (counted per simulated second, never failed), and two
workers sending at once never hand the SMTP server one Message-ID twice."""

from __future__ import annotations

import threading
from collections import Counter
from dataclasses import replace
from datetime import timedelta
from typing import Any

from aftersales.adapters.channels.smtp import SmtpTransport
from aftersales.adapters.sql.engine import make_engine
from aftersales.adapters.sql.repositories import unit_of_work_factory


def _sent_per_second(seed: Any, ids: list[str]) -> list[int]:
    starts = Counter(seed.get(i).started_at for i in ids)
    seconds = Counter(s.replace(microsecond=0) for s in starts.elements())
    return [seconds[k] for k in sorted(seconds)]


def test_a_backlog_drains_at_the_send_rate_and_nothing_fails(delivery: Any, smtp_sink: Any) -> None:
    seed = delivery.seed
    delivery.rate = 5.0
    seed.customer("c1")
    ids = [seed.message("c1", f"s{i:02d}", category="transactional").message_id for i in range(23)]
    per_second = []
    for _ in range(8):
        before = len(smtp_sink.messages)
        first = delivery.run()
        second = delivery.run()  # a second worker in the same second finds no free slot
        assert second.attempted == 0 and first.failed == 0
        per_second.append(len(smtp_sink.messages) - before)
        delivery.clock.advance(timedelta(seconds=1))
    assert per_second == [5, 5, 5, 5, 3, 0, 0, 0]
    assert _sent_per_second(seed, ids) == [5, 5, 5, 5, 3]
    assert {seed.get(i).status for i in ids} == {"sent"}


def test_rows_without_a_slot_stay_queued_until_the_next_one(delivery: Any, smtp_sink: Any) -> None:
    seed = delivery.seed
    delivery.rate = 100 / 3600  # a small host's 100 an hour: one every 36 s
    seed.customer("c1")
    ids = [seed.message("c1", f"s{i}", category="transactional").message_id for i in range(3)]
    assert delivery.run().sent == 1
    delivery.clock.advance(timedelta(seconds=35))
    assert delivery.run().attempted == 0
    delivery.clock.advance(timedelta(seconds=1))
    assert delivery.run().sent == 1
    waiting = [seed.get(i) for i in ids if seed.get(i).status == "queued"]
    assert len(waiting) == 1 and waiting[0].attempts == 0


def test_two_concurrent_workers_never_send_one_message_twice(delivery: Any, smtp_sink: Any) -> None:
    seed = delivery.seed
    for c in range(20):
        seed.customer(f"c{c}")
    ids = [seed.message(f"c{c}", f"s{i}", category="transactional").message_id for c in range(20) for i in range(6)]
    errors: list[BaseException] = []
    engines = [make_engine(seed.url, **({} if seed.url.startswith("sqlite") else {"pool_size": 4})) for _ in range(2)]
    start = threading.Barrier(2)
    sent = [0, 0]

    def worker(n: int) -> None:
        transport = SmtpTransport("127.0.0.1", smtp_sink.port, timeout=10)
        mine = replace(delivery, email=transport)
        uow = unit_of_work_factory(engines[n])
        try:
            start.wait()
            while (done := mine.run(limit=7, uow=uow)).claimed:
                sent[n] += done.sent
        except BaseException as exc:  # noqa: BLE001 - reported by the test thread
            errors.append(exc)
        finally:
            transport.close()

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    for e in engines:
        e.dispose()
    assert not errors, errors
    received = smtp_sink.message_ids()
    assert len(received) == len(set(received)) == len(ids)
    assert {seed.get(i).status for i in ids} == {"sent"}
    assert {seed.get(i).attempts for i in ids} == {1}
    assert sum(sent) == len(ids)
    if not seed.url.startswith("sqlite"):  # PostgreSQL: both claimed at once (SKIP LOCKED), both sent
        assert min(sent) > 0, sent
