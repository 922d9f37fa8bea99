"""Progress counts per journey and overall, the measured rate and the estimated finish; the message list."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from aftersales.core.errors import NotFoundError, UnusableInputError
from aftersales.services.operational.messaging.progress import delivery_progress, messages_page


def test_progress_counts_rate_and_estimated_finish(delivery: Any, smtp_sink: Any) -> None:
    seed = delivery.seed
    delivery.rate = 2.0
    seed.customer("c1")
    seed.customer("nope", consent=False)
    t0 = delivery.clock.now()
    seed.message("nope", "m", not_before=t0 - timedelta(minutes=1))  # claimed first, skipped (no consent)
    for i in range(6):
        seed.message("c1", f"s{i}", category="transactional")
    seed.message("c1", "other", journey_id="jny_other", category="transactional", not_before=t0 + timedelta(hours=1))
    with seed.uow() as u:  # nothing sent yet: the configured rate is the estimate
        p = delivery_progress(u, "jny_test", now=t0, send_rate_per_s=2.0)
    assert (p.total, p.remaining, p.rate_per_s, p.estimated_finish) == (7, 7, None, t0 + timedelta(seconds=3.5))
    delivery.run()  # two slots a second: 'nope' skipped and one sent
    delivery.clock.advance(timedelta(seconds=1))
    delivery.run()  # two sent
    now = delivery.clock.now()
    with seed.uow() as u:
        p = delivery_progress(u, "jny_test", now=now, send_rate_per_s=2.0)
        everything = delivery_progress(u, now=now)
    assert (p.total, p.sent, p.skipped, p.started) == (7, 3, 1, 3)
    assert (p.remaining, p.deferred, p.failed, p.unknown) == (3, 0, 0, 0)
    assert p.rate_per_s == pytest.approx(3.0)  # 3 sent, the first 1 s ago
    assert p.estimated_finish == now + timedelta(seconds=1)
    assert everything.total == 8 and everything.remaining == 4 and everything.deferred == 1
    with seed.uow() as u:
        other = delivery_progress(u, "jny_other", now=now, send_rate_per_s=2.0)
    assert other.estimated_finish == t0 + timedelta(hours=1)  # not before it comes due
    for _ in range(3):
        delivery.clock.advance(timedelta(seconds=1))
        delivery.run()
    with seed.uow() as u:
        done = delivery_progress(u, "jny_test", now=delivery.clock.now())
    assert (done.sent, done.remaining, done.estimated_finish) == (6, 0, None)


def test_messages_page_filters_and_pages(delivery: Any) -> None:
    seed = delivery.seed
    seed.customer("c1")
    seed.customer("c2")
    ids = sorted(seed.message(c, s).message_id for c in ("c1", "c2") for s in ("a", "b"))
    first = messages_page(seed.uow, limit=3)
    rest = messages_page(seed.uow, limit=3, cursor=first["next_cursor"])
    assert [m["message_id"] for m in first["items"] + rest["items"]] == ids and rest["next_cursor"] is None
    by_name = messages_page(seed.uow, journey_id="test", customer_id="c2")
    assert {m["customer_id"] for m in by_name["items"]} == {"c2"} and len(by_name["items"]) == 2
    assert "email" not in {k for m in first["items"] for k in m} - {"channel"}
    with pytest.raises(NotFoundError):
        messages_page(seed.uow, journey_id="nope")
    with pytest.raises(UnusableInputError):
        messages_page(seed.uow, cursor="garbage")
