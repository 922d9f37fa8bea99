"""The segment use cases on the in-memory fakes: the fakes keep the SQL repositories' rules (names,
soft delete, entering and exiting), so the services' logic is checked in milliseconds."""

from __future__ import annotations

from datetime import UTC, datetime

import pyarrow as pa
import pytest

from aftersales.core.errors import ConflictError, NotFoundError
from aftersales.core.segments import DefinitionError
from aftersales.services.operational import segments

AT = datetime(2024, 6, 30, 12, tzinfo=UTC)


def test_crud_on_the_fakes(uow) -> None:
    made = segments.create(uow, "repeat", where="orders >= 2")
    with pytest.raises(ConflictError):
        segments.create(uow, "repeat", definition={"field": "orders", "op": ">", "value": 3})
    with pytest.raises(DefinitionError):
        segments.create(uow, "bad", where="orders >>= 2")
    assert segments.update(uow, "repeat", where="orders >= 3").where == "orders >= 3"
    segments.delete(uow, made.segment_id)
    with pytest.raises(NotFoundError):
        segments.get(uow, "repeat")
    assert segments.list_segments(uow)["items"] == []
    assert uow.store.rollbacks == 2  # the conflicting create and the get of the deleted one (the bad one wrote nothing)


def test_the_membership_fakes_enter_and_exit_like_the_store(uow) -> None:
    seg = segments.create(uow, "s", where="orders >= 2")
    with uow() as u:
        assert u.memberships.enter(seg.segment_id, pa.array(["b", "a"]), AT) == 2
        assert u.memberships.enter(seg.segment_id, pa.array(["a"]), AT) == 0  # a retried write keeps the row
        assert u.memberships.exit(seg.segment_id, pa.array(["a", "zz"]), AT) == 1
        assert u.memberships.current(seg.segment_id).to_pylist() == ["b"]
        assert u.memberships.members(seg.segment_id, after=None, limit=10) == [("b", AT)]
