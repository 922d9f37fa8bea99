"""Saved segments on SQLite and PostgreSQL: create from either spelling, unique names, soft delete,
bad definitions rejected with their location and nothing written."""

from __future__ import annotations

import pytest

from aftersales.core.errors import ConflictError, NotFoundError, UnusableInputError, ValidationError
from aftersales.core.segments import DefinitionError
from aftersales.services.operational import segments

JSON_VIP = {
    "all": [
        {"field": "clv_tier", "op": "=", "value": "above_average"},
        {"field": "churn_risk", "op": "in", "value": ["high", "medium"]},
        {"field": "email_consent"},
    ]
}
TEXT_VIP = "clv_tier = 'above_average' and churn_risk in ('high', 'medium') and email_consent"


def test_a_segment_made_from_text_or_json_is_stored_in_both_canonical_spellings(store) -> None:
    by_text = segments.create(store.uow, "vip", where="clv_tier='above_average' AND churn_risk IN ('high','medium') "
                              "and email_consent", description="worth keeping")  # fmt: skip
    by_json = segments.create(store.uow, "vip json", definition=JSON_VIP)
    assert by_text.where == by_json.where == TEXT_VIP
    assert by_text.definition == by_json.definition == JSON_VIP
    assert by_text.segment_id.startswith("seg_") and by_text.segment_id != by_json.segment_id
    got = segments.get(store.uow, "vip")
    assert (got.segment_id, got.description, got.size, got.refreshed_at) == (
        by_text.segment_id,
        "worth keeping",
        None,
        None,
    )
    assert segments.get(store.uow, by_json.segment_id).name == "vip json"


def test_names_are_unique_among_live_segments_and_free_again_after_a_delete(store) -> None:
    first = segments.create(store.uow, "repeat", where="orders >= 2")
    with pytest.raises(ConflictError, match="'repeat' exists already"):
        segments.create(store.uow, "repeat", where="orders >= 3")
    deleted = segments.delete(store.uow, "repeat")
    assert deleted.deleted_at is not None
    with pytest.raises(NotFoundError):
        segments.get(store.uow, first.segment_id)
    again = segments.create(store.uow, "repeat", where="orders >= 3")
    assert segments.get(store.uow, "repeat").segment_id == again.segment_id != first.segment_id
    assert store.count("segments") == 2  # the deleted one keeps its row (its history stays readable)


@pytest.mark.parametrize(
    ("kwargs", "loc", "text"),
    [
        ({"where": "clv_teir = 'above_average'"}, ("where", 1, 1), "did you mean 'clv_tier'?"),
        ({"where": "orders >= 2 and"}, ("where", 1, 16), "expected a condition"),
        (
            {"definition": {"all": [{"field": "ordrs", "op": ">", "value": 1}]}},
            ("definition", "all", 0, "field"),
            "ordrs",
        ),
        ({"where": "orders >= 'x'"}, ("where", 1, 1), "compare it with a number"),
    ],
)
def test_a_bad_definition_names_where_and_lists_the_valid_fields_and_writes_nothing(store, kwargs, loc, text) -> None:
    with pytest.raises(DefinitionError) as caught:
        segments.create(store.uow, "bad", **kwargs)
    assert caught.value.errors[0].loc == loc
    assert text in str(caught.value)
    assert str(caught.value).splitlines()[-1].startswith("valid fields: customer_id, first_order_at")
    assert store.count("segments") == 0


def test_a_definition_is_given_exactly_once_and_the_name_is_checked(store) -> None:
    with pytest.raises(ValidationError, match="not both"):
        segments.create(store.uow, "x", where="orders > 1", definition=JSON_VIP)
    with pytest.raises(ValidationError, match="give a definition"):
        segments.create(store.uow, "x")
    for name in ("", " padded", "a" * 101, "tab\there"):
        with pytest.raises(ValidationError) as caught:
            segments.create(store.uow, name, where="orders > 1")
        assert caught.value.errors[0].loc == ("name",)
    assert store.count("segments") == 0


def test_update_changes_only_what_is_given_and_keeps_names_unique(store) -> None:
    a = segments.create(store.uow, "a", where="orders > 1", description="first")
    segments.create(store.uow, "b", where="orders > 2")
    changed = segments.update(store.uow, a.segment_id, definition={"field": "orders", "op": ">", "value": 5})
    assert (changed.where, changed.description, changed.name) == ("orders > 5", "first", "a")
    assert changed.updated_at > a.updated_at
    assert segments.update(store.uow, "a", name="a2", description=None).description is None
    with pytest.raises(ConflictError):
        segments.update(store.uow, "a2", name="b")
    with pytest.raises(DefinitionError):
        segments.update(store.uow, "a2", where="nope > 1")
    assert segments.get(store.uow, "a2").where == "orders > 5"


def test_the_list_holds_live_segments_in_pages(store) -> None:
    made = [segments.create(store.uow, f"s{i}", where=f"orders > {i}") for i in range(5)]
    segments.delete(store.uow, "s2")
    seen, cursor = [], None
    while True:
        page = segments.list_segments(store.uow, limit=2, cursor=cursor)
        seen += [s.name for s in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert sorted(seen) == ["s0", "s1", "s3", "s4"]
    assert len(segments.list_segments(store.uow)["items"]) == 4 == len(made) - 1
    with pytest.raises(UnusableInputError):
        segments.list_segments(store.uow, cursor="not-a-cursor")
