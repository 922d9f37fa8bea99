"""bootstrap.delivery: the link signer's key (configured, or generated once and shared through the
store) and the worker's sender (the settings' transport, the shipped templates, batches until done)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from aftersales.adapters.channels.outbox_dir import EmlOutbox
from aftersales.adapters.sql.engine import make_engine
from aftersales.adapters.sql.repositories import unit_of_work_factory
from aftersales.bootstrap.delivery import delivery_sender, link_signer, send_policy
from aftersales.config import Settings
from aftersales.core.tokens import verify_token
from aftersales.services.clock import ManualClock


def test_the_generated_signing_key_is_made_once_and_shared(seed: Any) -> None:
    settings = Settings(database_url=seed.url)
    other = make_engine(seed.url)
    try:
        a = link_signer(seed.uow, settings)
        b = link_signer(unit_of_work_factory(other), settings)  # another process, the same store
    finally:
        other.dispose()
    assert a.key == b.key and len(a.key) == 32
    token = a.token("unsubscribe", "c1", datetime.now(UTC), {"topic": "*"})
    assert verify_token(b.key, token, "unsubscribe", now=datetime.now(UTC)).subject == "c1"
    configured = link_signer(seed.uow, Settings(database_url=seed.url, secret_key="x" * 20))
    assert configured.key == b"x" * 20


def test_the_workers_sender_sends_through_the_settings_transport_in_batches(seed: Any, tmp_path: Path) -> None:
    outbox = tmp_path / "outbox"
    settings = Settings(
        database_url=seed.url, email_transport="outbox", outbox_dir=str(outbox), quiet_hours="off",
        frequency_cap="off", mail_from="Shop <hello@shop.example>", public_url="https://shop.example/as",
    )  # fmt: skip
    assert send_policy(settings).quiet is None
    seed.customer("c1")
    ids = [seed.message("c1", f"s{i}", params={"template": "thank-you"}).message_id for i in range(5)]
    sender = delivery_sender(seed.uow, ManualClock(seed.t0), settings, limit=2)
    try:
        done = sender()
    finally:
        sender.close()
    assert (done.claimed, done.sent, done.failed) == (5, 5, 0)
    mail = EmlOutbox(outbox).read(ids[0])
    assert str(mail["List-Unsubscribe"]).startswith("<https://shop.example/as/v1/unsubscribe?token=")
    assert str(mail["Message-ID"]).endswith("@shop.example>")
    assert len(EmlOutbox(outbox).messages()) == 5
