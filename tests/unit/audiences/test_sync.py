"""The mirror sync's pure parts: diff against the acknowledged state, batching, and the body a
destination acknowledges."""

from __future__ import annotations

import json

import pytest

from aftersales.core.audiences import acknowledged_ops, batch_body, diff, fingerprint, plan_batches
from aftersales.core.audiences.sync import record


def test_fingerprint_is_sha256_of_canonical_json() -> None:
    # printf '%s' '{"customer_id":"c1","email":"a@x.io"}' | sha256sum
    expected = "42a00b8af43778fbeac8ead865dbea7458bc91024b5bcce9ce9daf5df9802c39"
    rec = record("c1", "a@x.io", None)
    assert rec == {"customer_id": "c1", "email": "a@x.io"}
    assert fingerprint(rec) == fingerprint({"email": "a@x.io", "customer_id": "c1"})  # key order does not count
    assert fingerprint(rec) == expected


def test_diff_adds_new_and_changed_removes_gone() -> None:
    desired = {
        "c1": record("c1", "a@x.io", None),  # new
        "c2": record("c2", None, "+14155552671"),  # unchanged
        "c3": record("c3", "c@x.io", "+14155550000"),  # gave SMS consent since: changed
    }
    state = {"c2": fingerprint(desired["c2"]), "c3": fingerprint(record("c3", "c@x.io", None)), "c4": "x"}
    adds, removes = diff(desired, state)
    assert [a["customer_id"] for a in adds] == ["c1", "c3"]
    assert removes == ["c4"]
    assert diff({}, {}) == ([], [])


def test_batches_hold_at_most_size_changes_adds_first() -> None:
    adds = [record(f"c{i}", f"{i}@x.io", None) for i in range(5)]
    plans = plan_batches(adds, ["r1", "r2", "r3"], 3)
    assert [(len(p.adds), len(p.removes)) for p in plans] == [(3, 0), (2, 1), (0, 2)]
    assert plan_batches([], [], 1000) == []
    with pytest.raises(ValueError):
        plan_batches(adds, [], 0)


def test_body_round_trips_to_the_state_it_sets() -> None:
    plan = plan_batches([record("c1", "a@x.io", "+14155552671")], ["c9"], 10)[0]
    body = batch_body(
        "asb_1", destination_id="dst_1", segment_id="seg_1", segment="vip", sequence=1, created_at="t", plan=plan
    )
    data = json.loads(body)
    assert data["id"] == "asb_1" and data["type"] == "audience.sync" and data["sequence"] == 1
    assert data["adds"] == [{"customer_id": "c1", "email": "a@x.io", "phone": "+14155552671"}]
    assert data["removes"] == [{"customer_id": "c9"}]
    assert body == json.dumps(data, separators=(",", ":"), sort_keys=True, ensure_ascii=False)
    adds, removes = acknowledged_ops(body)
    assert adds == [("c1", fingerprint(plan.adds[0]))] and removes == ["c9"]
