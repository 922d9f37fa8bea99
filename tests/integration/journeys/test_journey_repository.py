"""The journeys repository on SQLite and PostgreSQL: a journey and its version rows, names unique,
updates that keep the scanner's cursor, counts by status, and ``stop`` ending active enrollments and
cancelling queued messages (and nothing else)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import insert, select

from aftersales.adapters.sql.engine import make_engine
from aftersales.adapters.sql.journey_tables import journey_enrollments, journey_messages
from aftersales.adapters.sql.repositories import unit_of_work_factory
from aftersales.core.errors import ConflictError
from aftersales.services.ports_journeys import JourneyRecord

T0 = datetime(2026, 3, 1, 9, tzinfo=UTC)


def _journey(name: str = "thanks", **kw: object) -> JourneyRecord:
    base = dict(
        journey_id=f"jny_{name}",
        name=name,
        version=1,
        definition_json=f'{{"name":"{name}"}}',
        status="active",
        salt="s1",
        created_at=T0,
        updated_at=T0,
        activated_at=T0,
    )
    return JourneyRecord(**{**base, **kw})  # type: ignore[arg-type]


@pytest.fixture
def engine(store_url: str):
    e = make_engine(store_url)
    yield e
    e.dispose()


def test_add_get_list_update_and_versions(engine) -> None:
    uow = unit_of_work_factory(engine)
    with uow() as u:
        u.journeys.add(_journey("thanks"))
        u.journeys.add(_journey("winback", status="paused", activated_at=None))
    with uow() as u, pytest.raises(ConflictError, match="'thanks' exists already"):
        u.journeys.add(_journey("thanks", journey_id="jny_other"))
    with uow() as u:
        assert u.journeys.get("jny_thanks") == _journey("thanks")
        assert u.journeys.by_name("winback", for_update=True).status == "paused"  # type: ignore[union-attr]
        assert u.journeys.get("jny_nope") is None and u.journeys.by_name("nope") is None
        assert [j.name for j in u.journeys.list()] == ["thanks", "winback"]
        assert [j.name for j in u.journeys.list(statuses=("active",))] == ["thanks"]
        assert [j.name for j in u.journeys.list(after="thanks", limit=5)] == ["winback"]
        u.journeys.set_scanned_until("jny_thanks", T0 + timedelta(hours=1))
    later = T0 + timedelta(days=1)
    changed = _journey("thanks", version=2, definition_json='{"v":2}', updated_at=later, salt="s2")
    with uow() as u:
        u.journeys.update(changed)
        u.journeys.update(replace(changed, status="paused"))  # same version: no second version row
    with uow() as u:
        got = u.journeys.get("jny_thanks")
        assert got == replace(changed, status="paused", scanned_until=T0 + timedelta(hours=1))
        assert [(v.version, v.definition_json, v.created_at) for v in u.journeys.versions("jny_thanks")] == [
            (1, '{"name":"thanks"}', T0),
            (2, '{"v":2}', later),
        ]
        assert u.journeys.version("jny_thanks", 1).definition_json == '{"name":"thanks"}'  # type: ignore[union-attr]
        assert u.journeys.version("jny_thanks", 3) is None


def _enrollment(eid: str, journey_id: str, status: str) -> dict[str, object]:
    return dict(
        enrollment_id=eid, journey_id=journey_id, customer_id="c-" + eid, trigger_key=eid, version=1,
        arm="journey" if status != "held_out" else "holdout", status=status,
        step_id="s" if status == "active" else None, wake_at=T0 if status == "active" else None,
        entered_at=T0, lease_token="w1" if eid == "e1" else None, lease_until=T0 if eid == "e1" else None,
    )  # fmt: skip


def _message(mid: str, eid: str, journey_id: str, status: str) -> dict[str, object]:
    return dict(
        message_id=mid, enrollment_id=eid, journey_id=journey_id, step_id="s-" + mid, customer_id="c-" + eid,
        channel="email", category="marketing", topic="t", params_json="{}", status=status, not_before=T0,
        attempts=0, created_at=T0,
    )  # fmt: skip


def test_counts_and_stop(engine) -> None:
    uow = unit_of_work_factory(engine)
    with uow() as u:
        u.journeys.add(_journey("thanks"))
        u.journeys.add(_journey("other"))
    enrollments = [
        _enrollment("e1", "jny_thanks", "active"),
        _enrollment("e2", "jny_thanks", "active"),
        _enrollment("e3", "jny_thanks", "completed"),
        _enrollment("e4", "jny_thanks", "held_out"),
        _enrollment("e5", "jny_other", "active"),
    ]
    messages = [
        _message("m1", "e1", "jny_thanks", "queued"),
        _message("m2", "e3", "jny_thanks", "queued"),  # a completed enrollment's last message, not yet sent
        _message("m3", "e2", "jny_thanks", "sent"),
        _message("m4", "e2", "jny_thanks", "sending"),
        _message("m5", "e5", "jny_other", "queued"),
    ]
    with engine.begin() as conn:
        conn.execute(insert(journey_enrollments), enrollments)
        conn.execute(insert(journey_messages), messages)
    with uow() as u:
        assert u.journeys.enrollment_counts("jny_thanks") == {"active": 2, "completed": 1, "held_out": 1}
        assert u.journeys.message_counts("jny_thanks") == {"queued": 2, "sent": 1, "sending": 1}
        assert u.journeys.enrollment_counts("jny_none") == {} == u.journeys.message_counts("jny_none")
    at = T0 + timedelta(days=2)
    with uow() as u:
        stopped = u.journeys.stop("jny_thanks", at, "journey archived")
    assert (stopped.enrollments, stopped.messages) == (2, 2)
    with engine.connect() as conn:
        e = {r.enrollment_id: r for r in conn.execute(select(journey_enrollments))}
        m = {r.message_id: r for r in conn.execute(select(journey_messages))}
    assert [(e[k].status, e[k].exit_reason, e[k].exited_at, e[k].wake_at, e[k].lease_token) for k in ("e1", "e2")] == [
        ("exited", "journey archived", at, None, None)
    ] * 2
    assert (e["e3"].status, e["e4"].status, e["e5"].status) == ("completed", "held_out", "active")
    assert [(m[k].status, m[k].finished_at, m[k].detail) for k in ("m1", "m2")] == [
        ("cancelled", at, "journey archived")
    ] * 2
    assert (m["m3"].status, m["m4"].status, m["m5"].status) == ("sent", "sending", "queued")
    with uow() as u:
        assert u.journeys.stop("jny_thanks", at, "journey archived").enrollments == 0  # nothing left to stop
