"""The mirror sync against a loopback receiver (allowed as AFTERSALES_WEBHOOK_ALLOW_HOSTS would in
development), on SQLite and PostgreSQL: first sync sends every add, the next only the changes, a
receiver failing midway (before applying, or after applying with the answer lost) and a retried sync
leave the receiver's mirror equal to the audience with nothing applied twice."""

from __future__ import annotations

import pytest

from aftersales.adapters.channels.webhooks import HttpWebhookSender
from aftersales.core.errors import ConflictError, NotFoundError, ValidationError
from aftersales.services.operational import audiences
from aftersales.services.operational.webhook_destinations import DestinationPolicy

LOOPBACK = DestinationPolicy.parse(["127.0.0.0/8"])
AUDIENCE = {  # what may leave of segment vip (see conftest)
    "c01": {"customer_id": "c01", "email": "john.smith@gmail.com", "phone": "+442079460958"},
    "c02": {"customer_id": "c02", "phone": "+491701234567"},
    "c03": {"customer_id": "c03", "phone": "+14155552671"},
    "c04": {"customer_id": "c04", "email": "x@example.com"},
}


@pytest.fixture
def sender():
    s = HttpWebhookSender(10.0, LOOPBACK)
    yield s
    s.close()


def _destination(audience, receiver) -> str:
    dst = audiences.add_destination(audience, "crm", receiver.url, destinations=LOOPBACK)
    receiver.secret = dst.secret
    return dst.destination_id


def _sync(audience, sender, **kw):
    return audiences.sync_audience(audience, "vip", "crm", sender=sender, **kw)


def test_first_sync_adds_all_then_only_changes(audience, receiver, sender, store, set_membership, set_customer):
    _destination(audience, receiver)
    first = _sync(audience, sender, batch_size=3)
    assert (first.adds, first.removes, first.batches, first.pending, first.error) == (4, 0, 2, 0, None)
    assert (first.members, first.audience) == (7, 4)
    assert first.left_out == {"no_identifier": 1, "no_consent": 1, "unparseable_phone": 1, "invalid_email": 0}
    assert receiver.mirror == AUDIENCE and receiver.bad_signatures == 0
    assert [b["sequence"] for _, b in receiver.requests] == [1, 2]
    assert [len(b["adds"]) for _, b in receiver.requests] == [3, 1]

    again = _sync(audience, sender)
    assert (again.adds, again.removes, again.batches) == (0, 0, 0)
    assert len(receiver.requests) == 2  # nothing changed: nothing sent

    set_membership(store, "seg_vip", leave=["c02"], enter=["c08"])  # c02 leaves, c08 (e-mail consent) comes back
    set_customer(store, "c04", sms_consent=True)  # c04's phone may now leave too
    set_customer(store, "c01", email_consent=False)  # c01 withdraws e-mail consent: phone only
    third = _sync(audience, sender)
    assert (third.adds, third.removes, third.batches) == (3, 1, 1)
    body = receiver.requests[-1][1]
    assert [a["customer_id"] for a in body["adds"]] == ["c01", "c04", "c08"]
    assert body["removes"] == [{"customer_id": "c02"}]
    assert receiver.mirror == {
        "c01": {"customer_id": "c01", "phone": "+442079460958"},
        "c03": AUDIENCE["c03"],
        "c04": {"customer_id": "c04", "email": "x@example.com", "phone": "+16505551212"},
        "c08": {"customer_id": "c08", "email": "gone@example.com"},
    }

    set_customer(store, "c03", sms_consent=False)  # c03 had only a phone: no longer leaves
    fourth = _sync(audience, sender)
    assert (fourth.adds, fourth.removes) == (0, 1)
    assert "c03" not in receiver.mirror


@pytest.mark.parametrize("mode", ["before", "after"])
def test_a_receiver_failing_midway_then_a_retried_sync_applies_nothing_twice(audience, receiver, sender, mode):
    """Batch 2 of 4 fails: ``before`` the receiver applied it, or ``after`` (the answer is lost). The
    sync stops there; the retry resends batch 2 with the same key and body, then batches 3 and 4."""
    _destination(audience, receiver)
    receiver.fail = {2: mode}
    failed = _sync(audience, sender, batch_size=1)
    assert failed.error == "HTTP 500"
    assert (failed.batches, failed.pending, failed.adds) == (1, 3, 1)
    first_keys = [k for k, _ in receiver.requests]

    retried = _sync(audience, sender, batch_size=1)
    assert retried.error is None
    assert (retried.resent, retried.batches) == (3, 0)  # the planned batches, resent; nothing new to plan
    keys = [k for k, _ in receiver.requests]
    assert keys[2] == first_keys[1]  # batch 2 went again under its own key
    assert receiver.requests[2][1] == receiver.requests[1][1]  # with the very same body
    assert len(set(keys)) == 4 and len(keys) == 5
    assert receiver.mirror == AUDIENCE
    assert receiver.ops_applied == 4  # each customer applied once

    assert _sync(audience, sender).batches == 0  # and the state agrees: nothing left to send


def test_an_unreachable_destination_moves_no_state(audience, receiver, sender):
    _destination(audience, receiver)
    receiver.close()  # nothing listens there any more
    failed = _sync(audience, sender)
    assert failed.error is not None and failed.error.startswith("network error")
    assert failed.pending == 1
    with audience() as repo:
        dst = repo.find_destination("crm")
        assert repo.sync_state(dst.destination_id, "seg_vip") == {}
        (batch,) = repo.pending_batches(dst.destination_id, "seg_vip")
        assert (batch.attempts, batch.adds) == (1, 4)


def test_destinations_are_checked_named_once_and_deleted_with_their_state(audience, receiver, sender):
    with pytest.raises(ValidationError, match="not a public address"):
        audiences.add_destination(audience, "crm", receiver.url)  # loopback without the allow list
    with pytest.raises(ValidationError, match="credentials"):
        audiences.add_destination(audience, "crm", "https://u:p@crm.example.com/x", destinations=LOOPBACK)
    _destination(audience, receiver)
    with pytest.raises(ConflictError, match="exists already"):
        audiences.add_destination(audience, "crm", receiver.url, destinations=LOOPBACK)
    assert [d.name for d in audiences.list_destinations(audience)] == ["crm"]
    _sync(audience, sender)
    audiences.delete_destination(audience, "crm")
    assert audiences.list_destinations(audience) == []
    with pytest.raises(NotFoundError, match="no audience destination 'crm'"):
        _sync(audience, sender)
    with pytest.raises(NotFoundError, match="no segment 'nope'"):
        audiences.sync_audience(audience, "nope", "crm", sender=sender)


def test_a_refused_address_is_not_contacted(audience, receiver):
    """The destination was allowed when added, but the sender's policy (no allow list) refuses the
    resolved loopback address: nothing is sent and the batch waits."""
    _destination(audience, receiver)
    strict = HttpWebhookSender(5.0, DestinationPolicy())
    try:
        result = _sync(audience, strict)
    finally:
        strict.close()
    assert result.error is not None and result.error.startswith("refused")
    assert receiver.requests == []
