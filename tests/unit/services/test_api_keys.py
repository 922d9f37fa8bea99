"""API keys on the in-memory unit of work: created once, stored as a hash, revoked for good."""

from __future__ import annotations

import pytest

from aftersales.core.errors import NotFoundError, ValidationError
from aftersales.services.operational import api_keys
from aftersales.services.operational.api_keys import AuthenticationError, PermissionDeniedError
from aftersales.services.ports import ApiKeyRecord


def test_a_created_key_authenticates_and_only_its_hash_is_stored(uow):
    created = api_keys.create_key(uow, "read", name="dashboard")
    assert created.key.startswith(f"as_{created.key_id}_")
    [stored] = uow.store.state.api_keys.values()
    assert stored.secret_hash == api_keys.hash_key(created.key) and created.key not in repr(stored)
    assert api_keys.authenticate(uow, created.key) == api_keys.Principal(created.key_id, "read")


@pytest.mark.parametrize("presented", [None, "", "not-a-key", "as_0123456789ab_secret"])
def test_missing_malformed_and_unknown_keys_are_refused(uow, presented):
    api_keys.create_key(uow, "admin")
    with pytest.raises(AuthenticationError):
        api_keys.authenticate(uow, presented)


def test_a_known_id_with_another_secret_is_refused(uow):
    created = api_keys.create_key(uow, "ingest")
    with pytest.raises(AuthenticationError):
        api_keys.authenticate(uow, created.key[:-1] + ("A" if created.key[-1] != "A" else "B"))


def test_a_revoked_key_stops_working_and_cannot_be_revoked_twice(uow):
    created = api_keys.create_key(uow, "ingest")
    record = api_keys.revoke_key(uow, created.key_id)
    assert record.revoked_at is not None
    with pytest.raises(AuthenticationError):
        api_keys.authenticate(uow, created.key)
    with pytest.raises(NotFoundError):
        api_keys.revoke_key(uow, created.key_id)
    with pytest.raises(NotFoundError):
        api_keys.revoke_key(uow, "000000000000")


def test_an_unknown_scope_writes_nothing(uow):
    with pytest.raises(ValidationError):
        api_keys.create_key(uow, "superuser")
    assert uow.store.commits == 0 and api_keys.list_keys(uow) == []


def test_keys_are_listed_in_creation_order_and_scopes_nest_under_admin(uow):
    ids = [api_keys.create_key(uow, scope).key_id for scope in ("read", "ingest", "admin")]
    assert [k.key_id for k in api_keys.list_keys(uow)] == ids
    api_keys.require(api_keys.Principal("k", "admin"), "ingest")
    with pytest.raises(PermissionDeniedError):
        api_keys.require(api_keys.Principal("k", "read"), "ingest")


def test_a_new_key_is_not_stored_and_its_record_keeps_only_the_hash(uow):
    """``new_key`` is what both ``create_key`` and the lean ``keys create`` path store (its ``record``)."""
    created = api_keys.new_key("admin", "ops")
    assert api_keys.list_keys(uow) == [] and created.created_at.tzinfo is not None
    expected = ApiKeyRecord(created.key_id, "ops", "admin", api_keys.hash_key(created.key), created.created_at)
    assert created.record == expected
    assert api_keys.parse_key(created.key) == (created.key_id, created.key.split("_", 2)[2])
    assert len(created.key_id) == 12 and len(created.key.split("_", 2)[2]) == 43
    with pytest.raises(ValidationError):
        api_keys.new_key("root")
