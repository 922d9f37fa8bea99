"""send_due against a real SMTP server (aiosmtpd on loopback) and the .eml outbox, on SQLite and
PostgreSQL, with a manual clock: headers and parts, the policy at send time, outcomes and events."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import select

from aftersales.adapters.channels.outbox_dir import EmlOutbox
from aftersales.adapters.sql.tables import TABLES
from aftersales.core.messaging.mime import message_id_for
from aftersales.services.ports_messages import SuppressionRecord

T0 = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)
EVENTS = TABLES["events"]


def _events(seed: Any) -> list[tuple[str, str, dict[str, Any]]]:
    with seed.engine.connect() as conn:
        rows = conn.execute(select(EVENTS.c.event_id, EVENTS.c.name, EVENTS.c.properties)).all()
    return sorted((r[0], r[1], json.loads(r[2])) for r in rows)


def test_marketing_email_over_smtp_has_both_parts_a_stable_id_and_one_click_unsubscribe(
    delivery: Any, smtp_sink: Any
) -> None:
    seed = delivery.seed
    seed.customer("c1")
    m = seed.message("c1")
    done = delivery.run()
    assert (done.claimed, done.sent, done.failed) == (1, 1, 0)
    [mail] = smtp_sink.messages
    assert mail["Message-ID"] == message_id_for(m.message_id, "shop.example")
    assert mail["Subject"] == "Thanks, Ana"
    assert mail["To"] == "c1@example.com" and mail["X-Aftersales-Message"] == m.message_id
    unsubscribe = str(mail["List-Unsubscribe"])
    assert unsubscribe.startswith("<http://127.0.0.1:8000/v1/unsubscribe?token=") and unsubscribe.endswith(">")
    assert mail["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    plain, html = mail.get_body(("plain",)).get_content(), mail.get_body(("html",)).get_content()
    assert "Hello Ana" in plain and "Hello Ana" in html and "/preferences?token=" in html
    row = seed.get(m.message_id)
    assert (row.status, row.attempts, row.rfc_message_id) == ("sent", 1, mail["Message-ID"])
    assert row.started_at == T0 and row.finished_at == T0
    [(event_id, name, props)] = _events(seed)
    assert (event_id, name) == (f"msg:{m.message_id}:sent", "message.sent")
    assert props["message_id"] == m.message_id and "c1@example.com" not in json.dumps(props)


def test_transactional_email_has_no_unsubscribe_header_and_locale_falls_back(delivery: Any, smtp_sink: Any) -> None:
    seed = delivery.seed
    seed.customer("c1", locale="de_CH", consent=False)
    seed.message("c1", category="transactional")
    assert delivery.run().sent == 1
    [mail] = smtp_sink.messages
    assert mail["List-Unsubscribe"] is None and mail["List-Unsubscribe-Post"] is None
    assert mail["Subject"] == "Danke, Ana"  # de_CH -> de


def test_eml_outbox_holds_one_file_per_message(delivery: Any, tmp_path: Path) -> None:
    seed = delivery.seed
    delivery.email = EmlOutbox(tmp_path / "outbox")
    seed.customer("c1")
    m = seed.message("c1")
    assert delivery.run().sent == 1
    [summary] = EmlOutbox(tmp_path / "outbox").messages()
    mail = EmlOutbox(tmp_path / "outbox").read(m.message_id)
    assert mail["Message-ID"] == message_id_for(m.message_id, "shop.example") == f"<{summary.message_id.strip('<>')}>"
    assert mail["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert mail.get_body(("plain",)) is not None and mail.get_body(("html",)) is not None


def test_consent_revoked_after_queueing_skips_marketing(delivery: Any, smtp_sink: Any) -> None:
    seed = delivery.seed
    seed.customer("c1")
    m = seed.message("c1")
    seed.set_customer("c1", email_consent=False)
    done = delivery.run()
    assert (done.skipped, done.sent, smtp_sink.messages) == (1, 0, [])
    row = seed.get(m.message_id)
    assert (row.status, row.detail, row.attempts) == ("skipped", "no consent", 0)


def test_suppressions_are_checked_at_send_time(delivery: Any, smtp_sink: Any) -> None:
    seed = delivery.seed
    for c in ("topic", "all", "other", "bounced", "moved"):
        seed.customer(c)
    on_topic, on_all, other = seed.message("topic"), seed.message("all"), seed.message("other", topic="tips")
    bounced = seed.message("bounced", category="transactional")
    moved = seed.message("moved", category="transactional")
    from aftersales.services.operational.messaging.rules import address_hash

    with seed.uow() as u:
        u.messages.add_suppression(SuppressionRecord("topic", "email", "post_purchase", "unsubscribed", T0))
        u.messages.add_suppression(SuppressionRecord("all", "email", "*", "manual", T0))
        u.messages.add_suppression(SuppressionRecord("other", "email", "post_purchase", "unsubscribed", T0))
        hashed = address_hash("BOUNCED@example.com")
        u.messages.add_suppression(SuppressionRecord("bounced", "email", "!hard_bounce", "hard_bounce", T0, hashed))
        u.messages.add_suppression(
            SuppressionRecord("moved", "email", "!hard_bounce", "hard_bounce", T0, address_hash("old@example.com"))
        )
    done = delivery.run()
    assert (done.suppressed, done.sent) == (3, 2)
    statuses = {m.customer_id: seed.get(m.message_id).status for m in (on_topic, on_all, other, bounced, moved)}
    assert statuses == {
        "topic": "suppressed", "all": "suppressed", "other": "sent", "bounced": "suppressed", "moved": "sent",
    }  # fmt: skip
    assert sorted(str(m["To"]) for m in smtp_sink.messages) == ["moved@example.com", "other@example.com"]
    assert seed.get(bounced.message_id).detail == "suppressed: hard_bounce"


def test_quiet_hours_defer_in_the_customers_zone_and_send_when_they_end(delivery: Any, smtp_sink: Any) -> None:
    seed = delivery.seed
    seed.customer("ny", timezone="America/New_York")  # 07:00 there: quiet until 08:00 = 13:00 UTC
    seed.customer("berlin", timezone="Europe/Berlin")  # 13:00 there
    ny, berlin = seed.message("ny"), seed.message("berlin")
    done = delivery.run()
    assert (done.sent, done.deferred) == (1, 1)
    row = seed.get(ny.message_id)
    assert (row.status, row.not_before, row.detail) == ("queued", T0 + timedelta(hours=1), "quiet hours")
    assert seed.get(berlin.message_id).status == "sent"
    delivery.clock.advance(timedelta(minutes=59))
    assert delivery.run().claimed == 0
    delivery.clock.advance(timedelta(minutes=1))
    assert delivery.run().sent == 1
    assert sorted(str(m["To"]) for m in smtp_sink.messages) == ["berlin@example.com", "ny@example.com"]


def test_frequency_cap_defers_marketing_but_not_transactional(delivery: Any, smtp_sink: Any) -> None:
    seed = delivery.seed
    delivery.cap = "2/7d"
    seed.customer("c1")
    marketing = [seed.message("c1", step) for step in ("a", "b", "c")]
    receipt = seed.message("c1", "receipt", category="transactional")
    done = delivery.run()
    assert (done.sent, done.deferred) == (3, 1)
    statuses = [seed.get(m.message_id).status for m in marketing]
    assert sorted(statuses) == ["queued", "sent", "sent"] and seed.get(receipt.message_id).status == "sent"
    [waiting] = [seed.get(m.message_id) for m in marketing if seed.get(m.message_id).status == "queued"]
    assert (waiting.not_before, waiting.detail) == (T0 + timedelta(days=7), "frequency cap")
    delivery.clock.set(T0 + timedelta(days=7))
    assert delivery.run().sent == 1


def test_temporary_failures_retry_with_backoff_then_fail(delivery: Any, smtp_sink: Any) -> None:
    seed = delivery.seed
    seed.customer("c1", email="busy@example.com")
    m = seed.message("c1", category="transactional")
    smtp_sink.refuse["busy@example.com"] = "451 4.7.1 busy@example.com greylisted, try again"
    assert delivery.run().retried == 1
    row = seed.get(m.message_id)
    assert (row.status, row.attempts, row.not_before) == ("queued", 1, T0 + timedelta(seconds=60))
    assert "busy@example.com" not in (row.detail or "") and "451" in (row.detail or "")
    delivery.clock.advance(timedelta(seconds=60))
    assert delivery.run().retried == 1  # second attempt; the next back-off doubles
    assert seed.get(m.message_id).not_before == T0 + timedelta(seconds=180)
    delivery.clock.advance(timedelta(seconds=120))
    assert delivery.run().failed == 1
    row = seed.get(m.message_id)
    assert (row.status, row.attempts) == ("failed", 3) and (row.detail or "").startswith("gave up after 3 attempts")
    assert smtp_sink.messages == []


def test_a_hard_bounce_fails_the_message_and_suppresses_the_address(delivery: Any, smtp_sink: Any) -> None:
    seed = delivery.seed
    seed.customer("c1", email="gone@example.com")
    first = seed.message("c1", "a", category="transactional")
    smtp_sink.refuse["gone@example.com"] = "550 5.1.1 <gone@example.com>: no such user"
    assert delivery.run().failed == 1
    assert seed.get(first.message_id).status == "failed"
    with seed.uow() as u:
        [s] = u.messages.suppressions_of(["c1"], "email")
    assert (s.topic, s.reason, s.source) == ("!hard_bounce", "hard_bounce", first.message_id)
    assert [name for _, name, _ in _events(seed)] == ["message.bounced"]
    second = seed.message("c1", "b", category="transactional")
    assert delivery.run().suppressed == 1 and seed.get(second.message_id).status == "suppressed"
    seed.set_customer("c1", email="new@example.com")  # a new address is mailed again
    third = seed.message("c1", "c", category="transactional")
    assert delivery.run().sent == 1 and seed.get(third.message_id).status == "sent"


def test_a_template_error_fails_without_sending(delivery: Any, smtp_sink: Any) -> None:
    seed = delivery.seed
    seed.customer("c1")
    m = seed.message("c1", params={"template": "broken"})
    assert delivery.run().failed == 1
    row = seed.get(m.message_id)
    assert (row.status, row.attempts) == ("failed", 0) and (row.detail or "").startswith("not rendered")
    assert smtp_sink.messages == []


def test_an_expired_sending_lease_becomes_unknown_and_is_never_resent(delivery: Any, smtp_sink: Any) -> None:
    seed = delivery.seed
    seed.customer("c1")
    m = seed.message("c1")
    with seed.uow() as u:  # a worker that claimed and started it, then died
        u.messages.claim_due(T0, 1, token="dead", lease_until=T0 + timedelta(seconds=60), channels=("email",))
        assert u.messages.start_sending(m.message_id, "dead", T0, T0 + timedelta(seconds=60), "<x@shop.example>")
    assert delivery.run().unknown == 0  # the lease still holds
    delivery.clock.advance(timedelta(seconds=61))
    done = delivery.run()
    assert (done.unknown, done.unknown_ids, done.sent) == (1, (m.message_id,), 0)
    for _ in range(3):
        delivery.clock.advance(timedelta(hours=1))
        assert delivery.run().attempted == 0
    row = seed.get(m.message_id)
    assert (row.status, row.attempts) == ("unknown", 1) and smtp_sink.messages == []


def test_cancelled_messages_are_not_sent(delivery: Any, smtp_sink: Any) -> None:
    seed = delivery.seed
    seed.customer("c1")
    m = seed.message("c1")
    with seed.uow() as u:
        u.messages.cancel_queued(enrollment_ids=[m.enrollment_id], at=T0, reason="exited: order.placed")
    assert delivery.run().claimed == 0 and smtp_sink.messages == []


def test_message_events_reach_webhook_subscribers(delivery: Any, smtp_sink: Any) -> None:
    from aftersales.services.operational import webhooks
    from aftersales.services.operational.webhook_destinations import DestinationPolicy

    seed = delivery.seed
    sub = webhooks.register(
        seed.uow, "http://127.0.0.1:9/hook", ["message.sent", "message.bounced"],
        destinations=DestinationPolicy.parse(["127.0.0.0/8"]),
    )  # fmt: skip
    seed.customer("ok")
    seed.customer("gone", email="gone@example.com")
    smtp_sink.refuse["gone@example.com"] = "550 5.1.1 no such user"
    sent, bounced = seed.message("ok", category="transactional"), seed.message("gone", category="transactional")
    assert (delivery.run().sent, seed.get(bounced.message_id).status) == (1, "failed")
    with seed.uow() as u:
        found = u.webhooks.list_deliveries(subscription_id=sub.subscription_id, status=None, after=None, limit=10)
    payloads = {d.event_type: json.loads(d.payload)["data"] for d in found}
    assert set(payloads) == {"message.sent", "message.bounced"}
    assert payloads["message.sent"]["message_id"] == sent.message_id
    assert payloads["message.bounced"]["message_id"] == bounced.message_id
    assert "gone@example.com" not in json.dumps(payloads)
