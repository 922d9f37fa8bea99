"""The fake unit of work keeps a transaction's promise: all of a block's writes, or none."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from aftersales.services.ports import ApiKeyRecord

AT = datetime(2024, 3, 1, tzinfo=UTC)


def test_a_block_that_raises_leaves_nothing_behind(uow):
    with pytest.raises(RuntimeError), uow() as u:
        u.api_keys.add(ApiKeyRecord("k1", None, "read", "h", AT))
        u.resources.insert("customers", [{"customer_id": "c1"}])
        raise RuntimeError("boom")
    with uow() as u:
        assert u.api_keys.get("k1") is None and not u.resources.exists("customers", {"customer_id": "c1"})
    assert (uow.store.commits, uow.store.rollbacks) == (1, 1)


def test_rows_come_back_as_copies(uow):
    with uow() as u:
        u.resources.insert("customers", [{"customer_id": "c1"}])
        u.resources.get("customers", {"customer_id": "c1"})["country"] = "NO"  # a caller's own dict
        assert u.resources.select("customers")[0]["country"] is None
