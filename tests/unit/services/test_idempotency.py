"""Idempotency claims on the in-memory unit of work: one request runs, retries replay its response."""

from __future__ import annotations

import pytest

from aftersales.core.errors import ConflictError, ValidationError
from aftersales.services.operational import idempotency
from aftersales.services.operational.idempotency import StoredResponse

PRINT = idempotency.fingerprint("POST", "/v1/customers", "", b'{"customer_id":"c1"}')
OTHER = idempotency.fingerprint("POST", "/v1/customers", "", b'{"customer_id":"c2"}')
# A deadline already passed: a live claim is refused at once instead of waited for.
NO_WAIT = {"wait_s": -1.0, "poll_s": 0.0}


def test_the_first_request_runs_and_a_retry_gets_its_response(uow):
    assert idempotency.begin(uow, "k1", "key-1", PRINT) is None
    response = StoredResponse(201, "application/json", b'{"ok":true}')
    idempotency.complete(uow, "k1", "key-1", response)
    assert idempotency.begin(uow, "k1", "key-1", PRINT) == response


def test_a_retry_while_the_first_runs_is_a_conflict(uow):
    assert idempotency.begin(uow, "k1", "key-1", PRINT) is None
    with pytest.raises(ConflictError):
        idempotency.begin(uow, "k1", "key-1", PRINT, **NO_WAIT)


def test_a_key_reused_for_another_request_is_refused(uow):
    idempotency.begin(uow, "k1", "key-1", PRINT)
    with pytest.raises(ValidationError):
        idempotency.begin(uow, "k1", "key-1", OTHER, **NO_WAIT)


def test_keys_belong_to_the_api_key_that_sent_them(uow):
    assert idempotency.begin(uow, "k1", "key-1", PRINT) is None
    assert idempotency.begin(uow, "k2", "key-1", OTHER) is None


def test_a_released_claim_runs_again(uow):
    idempotency.begin(uow, "k1", "key-1", PRINT)
    idempotency.release(uow, "k1", "key-1")
    assert uow.store.state.idempotency == {}
    assert idempotency.begin(uow, "k1", "key-1", PRINT, **NO_WAIT) is None


def test_a_stale_claim_is_taken_over(uow):
    idempotency.begin(uow, "k1", "key-1", PRINT)
    # stale_after_s < 0: every claim counts as older than the limit, as one whose holder died would.
    assert idempotency.begin(uow, "k1", "key-1", PRINT, stale_after_s=-1.0, **NO_WAIT) is None


def test_a_completed_response_is_not_released(uow):
    idempotency.begin(uow, "k1", "key-1", PRINT)
    response = StoredResponse(200, "application/json", b"{}")
    idempotency.complete(uow, "k1", "key-1", response)
    idempotency.release(uow, "k1", "key-1")
    assert idempotency.begin(uow, "k1", "key-1", PRINT, **NO_WAIT) == response
