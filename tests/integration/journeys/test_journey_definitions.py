"""Journey definitions on SQLite and PostgreSQL: apply creates, versions a change and writes nothing
for an unchanged document (whatever its spelling); re-bucketing changes need ``reassign`` (a new
salt); pause, resume (the first activation stamped), archive (active enrollments ended, queued
messages cancelled in the same transaction); lookups, lists and located validation errors."""

from __future__ import annotations

import copy
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, insert, select

from aftersales.adapters.sql.engine import make_engine
from aftersales.adapters.sql.journey_tables import journey_enrollments, journey_messages, journey_versions
from aftersales.adapters.sql.repositories import unit_of_work_factory
from aftersales.core.errors import ConflictError, NotFoundError, ValidationError
from aftersales.services.clock import ManualClock
from aftersales.services.operational import segments
from aftersales.services.operational.journeys import definitions

T0 = datetime(2026, 3, 2, 8, tzinfo=UTC)

DOC: dict[str, Any] = {
    "name": "thanks",
    "description": "Thank-you after delivery",
    "trigger": {"event": "order.delivered"},
    "steps": [
        {"id": "settle", "type": "wait", "duration": "2d"},
        {
            "id": "tone",
            "type": "split",
            "variants": [{"name": "warm", "weight": 1, "next": "thanks"}, {"name": "plain", "weight": 1}],
        },
        {"id": "thanks", "type": "email", "template": "thank-you"},
    ],
}
YAML = """\
# the same journey, spelt with its defaults and 48h for 2d
name: thanks
description: Thank-you after delivery
category: marketing
holdout: 0.1
reentry: never
trigger: {event: order.delivered}
steps:
  - {id: settle, type: wait, duration: 48h}
  - id: tone
    type: split
    variants:
      - {name: warm, weight: 1, next: thanks}
      - {name: plain, weight: 1}
  - {id: thanks, type: email, template: thank-you}
"""


@pytest.fixture
def env(store_url: str):
    engine = make_engine(store_url)
    yield engine, unit_of_work_factory(engine), ManualClock(T0)
    engine.dispose()


def _doc(**changes: Any) -> dict[str, Any]:
    return {**copy.deepcopy(DOC), **changes}


def _versions(engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(journey_versions)).scalar_one())


def test_apply_creates_then_versions_changes_and_skips_the_unchanged(env) -> None:
    engine, uow, clock = env
    made = definitions.apply(uow, DOC, clock=clock)
    j = made.journey
    assert (made.outcome, made.previous_version, made.reassigned) == ("created", None, False)
    assert (j.version, j.status, j.activated_at, j.created_at, j.trigger) == (1, "active", T0, T0, "order.delivered")
    assert j.journey_id.startswith("jny_") and len(j.salt) == 16
    assert j.definition["holdout"] == 0.1 and j.definition["steps"][0]["duration"] == "2d"  # canonical, defaults in
    clock.advance(timedelta(hours=1))
    again = definitions.apply(uow, definitions.parse_document(YAML, source="thanks.yaml"), clock=clock)
    assert (again.outcome, again.journey.version, again.journey.updated_at) == ("unchanged", 1, T0)
    assert _versions(engine) == 1

    longer = _doc(steps=[*DOC["steps"], {"id": "tips", "type": "email", "template": "education-tips"}])
    changed = definitions.apply(uow, longer, clock=clock)
    assert (changed.outcome, changed.previous_version, changed.journey.version) == ("changed", 1, 2)
    assert (changed.journey.salt, changed.journey.activated_at, changed.journey.updated_at) == (
        j.salt,
        T0,
        T0 + timedelta(hours=1),
    )
    assert _versions(engine) == 2
    got = definitions.get(uow, "thanks")
    assert got == definitions.get(uow, j.journey_id) and got.definition["steps"][-1]["id"] == "tips"
    with uow() as u:
        record = u.journeys.by_name("thanks")
        assert record is not None and definitions.journey_of(record).steps[-1].id == "tips"
        assert [v.version for v in u.journeys.versions(j.journey_id)] == [1, 2]


@pytest.mark.parametrize(
    ("change", "said"),
    [
        ({"holdout": 0.2}, "holdout 0.1 -> 0.2"),
        ({"split_weight": 3}, "split 'tone': variants or weights changed"),
        ({"split_names": ("warm", "cool")}, "split 'tone': variants or weights changed"),
    ],
)
def test_a_rebucketing_change_needs_reassign_which_draws_a_new_salt(env, change, said) -> None:
    engine, uow, clock = env
    first = definitions.apply(uow, DOC, clock=clock).journey
    doc = _doc()
    if "holdout" in change:
        doc["holdout"] = change["holdout"]
    if "split_weight" in change:
        doc["steps"][1]["variants"][0]["weight"] = change["split_weight"]
    if "split_names" in change:
        for variant, name in zip(doc["steps"][1]["variants"], change["split_names"], strict=True):
            variant["name"] = name
    with pytest.raises(ConflictError, match="reassign") as caught:
        definitions.apply(uow, doc, clock=clock)
    assert said in str(caught.value)
    assert definitions.get(uow, "thanks").version == 1 and _versions(engine) == 1
    done = definitions.apply(uow, doc, reassign=True, clock=clock)
    assert (done.outcome, done.reassigned, done.journey.version) == ("changed", True, 2)
    assert done.journey.salt != first.salt and len(done.journey.salt) == 16
    assert any(said in n and "new salt" in n for n in done.notes)


def test_a_new_split_or_a_changed_wait_moves_nobody_and_keeps_the_salt(env) -> None:
    _, uow, clock = env
    first = definitions.apply(uow, DOC, clock=clock).journey
    doc = _doc()
    doc["steps"][0]["duration"] = "3d"
    doc["steps"].append(
        {"id": "later", "type": "split", "variants": [{"name": "a", "weight": 2}, {"name": "b", "weight": 1}]}
    )
    done = definitions.apply(uow, doc, reassign=True, clock=clock)  # reassign given, but nothing to re-draw
    assert (done.outcome, done.reassigned, done.journey.salt) == ("changed", False, first.salt)


def test_pause_resume_and_the_first_activation(env) -> None:
    _, uow, clock = env
    made = definitions.apply(uow, DOC, paused=True, clock=clock)
    assert (made.journey.status, made.journey.activated_at) == ("paused", None)
    assert definitions.pause(uow, "thanks", clock=clock).status == "paused"  # already paused: unchanged
    clock.advance(timedelta(days=1))
    resumed = definitions.resume(uow, "thanks", clock=clock)
    assert (resumed.status, resumed.activated_at) == ("active", T0 + timedelta(days=1))
    clock.advance(timedelta(days=1))
    assert definitions.pause(uow, "thanks", clock=clock).updated_at == T0 + timedelta(days=2)
    changed = definitions.apply(uow, _doc(description="edited while paused"), clock=clock)
    assert (changed.journey.status, changed.journey.version) == ("paused", 2)  # an edit keeps the status
    clock.advance(timedelta(days=1))
    again = definitions.resume(uow, "thanks", clock=clock)
    assert (again.status, again.activated_at) == ("active", T0 + timedelta(days=1))  # the first activation stays
    assert definitions.resume(uow, "thanks", clock=clock).status == "active"
    with pytest.raises(NotFoundError, match="no journey 'nope'"):
        definitions.pause(uow, "nope")


def _runs(engine, journey_id: str) -> None:
    """Two active enrollments (one holding a queued and a sent message), a completed one with a queued
    message, and one held out."""
    rows = [("e1", "active"), ("e2", "active"), ("e3", "completed"), ("e4", "held_out")]
    enrollments = [
        dict(enrollment_id=e, journey_id=journey_id, customer_id="c" + e, trigger_key=e, version=1,
             arm="holdout" if s == "held_out" else "journey", status=s, step_id="settle" if s == "active" else None,
             wake_at=T0 if s == "active" else None, entered_at=T0)
        for e, s in rows
    ]  # fmt: skip
    messages = [
        dict(message_id=m, enrollment_id=e, journey_id=journey_id, step_id=m, customer_id="c" + e, channel="email",
             category="marketing", topic="thanks", params_json="{}", status=s, not_before=T0, attempts=0,
             created_at=T0)
        for m, e, s in (("m1", "e1", "queued"), ("m2", "e1", "sent"), ("m3", "e3", "queued"))
    ]  # fmt: skip
    with engine.begin() as conn:
        conn.execute(insert(journey_enrollments), enrollments)
        conn.execute(insert(journey_messages), messages)


def test_archive_ends_enrollments_and_cancels_queued_messages_at_once(env) -> None:
    engine, uow, clock = env
    j = definitions.apply(uow, DOC, clock=clock).journey
    _runs(engine, j.journey_id)
    shown = definitions.get(uow, "thanks")
    assert shown.enrollments == {"active": 2, "completed": 1, "held_out": 1}
    assert shown.messages == {"queued": 2, "sent": 1}
    clock.advance(timedelta(days=3))
    done = definitions.archive(uow, j.journey_id, clock=clock)
    assert (done.enrollments_ended, done.messages_cancelled, done.journey.status) == (2, 2, "archived")
    assert done.journey.enrollments == {"exited": 2, "completed": 1, "held_out": 1}
    assert done.journey.messages == {"cancelled": 2, "sent": 1}
    with engine.connect() as conn:
        reasons = set(conn.execute(select(journey_enrollments.c.exit_reason, journey_enrollments.c.exited_at)
                                   .where(journey_enrollments.c.status == "exited")))  # fmt: skip
    assert reasons == {("journey archived", T0 + timedelta(days=3))}
    twice = definitions.archive(uow, "thanks")
    assert (twice.enrollments_ended, twice.messages_cancelled, twice.journey.status) == (0, 0, "archived")
    for action in (definitions.pause, definitions.resume):
        with pytest.raises(ConflictError, match="is archived"):
            action(uow, "thanks")
    with pytest.raises(ConflictError, match="archived; its name stays"):
        definitions.apply(uow, _doc(description="again"))
    assert definitions.get(uow, "thanks").status == "archived"


def test_lists_in_name_order_by_status_in_pages(env) -> None:
    _, uow, clock = env
    for name in ("c-three", "a-one", "b-two"):
        definitions.apply(uow, _doc(name=name), clock=clock)
    definitions.pause(uow, "b-two")
    first = definitions.list_journeys(uow, limit=2)
    assert [j.name for j in first["items"]] == ["a-one", "b-two"]
    rest = definitions.list_journeys(uow, limit=2, cursor=first["next_cursor"])
    assert [j.name for j in rest["items"]] == ["c-three"] and rest["next_cursor"] is None
    assert [j.name for j in definitions.list_journeys(uow, statuses=["paused"])["items"]] == ["b-two"]
    with pytest.raises(ValidationError, match="unknown status 'gone'") as caught:
        definitions.list_journeys(uow, statuses=["gone"])
    assert caught.value.errors[0].loc == ("status",)


def test_a_bad_document_is_located_and_writes_nothing(env) -> None:
    engine, uow, clock = env
    bad = _doc()
    bad["steps"][0]["duration"] = "2 days"
    bad["steps"][2]["next"] = "nowhere"
    with pytest.raises(ValidationError) as caught:
        definitions.apply(uow, bad, clock=clock)
    assert [e.loc for e in caught.value.errors] == [("steps", 0, "duration")]  # schema errors first
    bad["steps"][0]["duration"] = "2d"
    with pytest.raises(ValidationError) as caught:
        definitions.apply(uow, bad, clock=clock)
    assert [e.loc for e in caught.value.errors] == [("steps", 2, "next")] and "nowhere" in str(caught.value)
    assert _versions(engine) == 0 and definitions.list_journeys(uow)["items"] == []


def test_apply_at_an_address_and_create_only(env) -> None:
    _, uow, clock = env
    made = definitions.apply_at(uow, "thanks", DOC, clock=clock)
    assert made.outcome == "created"
    assert definitions.apply_at(uow, made.journey.journey_id, DOC, clock=clock).outcome == "unchanged"
    with pytest.raises(ValidationError) as caught:
        definitions.apply_at(uow, "other-name", DOC, clock=clock)
    assert caught.value.errors[0].loc == ("name",) and "'other-name'" in caught.value.errors[0].message
    with pytest.raises(ValidationError, match="must be 'thanks'"):
        definitions.apply_at(uow, made.journey.journey_id, _doc(name="renamed"), clock=clock)
    with pytest.raises(ConflictError, match="'thanks' exists already"):
        definitions.create(uow, DOC, clock=clock)
    assert definitions.create(uow, _doc(name="second"), paused=True, clock=clock).journey.status == "paused"


def test_a_missing_audience_segment_is_noted(env) -> None:
    _, uow, clock = env
    doc = _doc(audience="vip")
    assert definitions.apply(uow, doc, clock=clock).notes == (
        "audience segment 'vip' does not exist (yet): nobody enters until it does",
    )
    segments.create(uow, "vip", where="orders >= 2")
    assert definitions.apply(uow, doc, clock=clock).notes == ()
