"""The runtime's repository on SQLite and PostgreSQL: idempotent entry (one row per trigger key, bulk
entry with re-entry limits), leases (claim, hold, write only under the token, release, expiry),
outbox rows written once, waking, removal, and the reads (facts, profiles, contacts, members,
unsubscribes)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, insert, select

from aftersales.adapters.sql.engine import make_engine
from aftersales.adapters.sql.journey_tables import journey_enrollments, journey_messages, suppressions
from aftersales.adapters.sql.repositories import unit_of_work_factory
from aftersales.adapters.sql.segment_tables import segment_memberships, segments
from aftersales.adapters.sql.tables import TABLES
from aftersales.core.journeys.facts import fact_source
from aftersales.services.ports_enrollments import BulkEnrollment, EnrollmentRecord, NewMessage, PositionUpdate
from aftersales.services.ports_journeys import JourneyRecord

T0 = datetime(2026, 3, 1, 9, tzinfo=UTC)
MIN = datetime(1, 1, 1, tzinfo=UTC)


@pytest.fixture
def engine(store_url: str):
    e = make_engine(store_url)
    uow = unit_of_work_factory(e)
    with uow() as u:
        for name, status in (("thanks", "active"), ("paused", "paused")):
            u.journeys.add(JourneyRecord(f"jny_{name}", name, 1, "{}", status, "salt", T0, T0, activated_at=T0))
    yield e
    e.dispose()


def _enr(eid: str, customer: str, *, key: str | None = None, wake: datetime = T0, journey: str = "jny_thanks"):
    return EnrollmentRecord(
        enrollment_id=eid, journey_id=journey, customer_id=customer, trigger_key=key or eid, version=1,
        arm="journey", status="active", entered_at=T0, step_id="first", wake_at=wake, step_started_at=T0,
        trigger={"order_id": "o1", "revenue": 12.5},
    )  # fmt: skip


def test_entry_is_idempotent_and_bulk_respects_reentry(engine) -> None:
    uow = unit_of_work_factory(engine)
    with uow() as u:
        assert u.enrollments.add([_enr("e1", "c1"), _enr("e2", "c2")]) == ["e1", "e2"]
    with uow() as u:  # the same trigger keys again (a repeated scan): nothing new
        assert u.enrollments.add([_enr("e1", "c1"), _enr("e2", "c2"), _enr("e3", "c3")]) == ["e3"]
        got = u.enrollments.get("e1")
        assert got is not None and got.trigger == {"order_id": "o1", "revenue": 12.5} and got.variants == {}
        last = u.enrollments.last_entries("jny_thanks", ["c1", "c9"])
        assert last == {"c1": (T0, True)}
    later = T0 + timedelta(days=1)
    ids = [f"c{i}" for i in range(1, 8)]
    batch = BulkEnrollment(
        journey_id="jny_thanks", version=1, entered_at=later, first_step="first", wake_at=later,
        trigger={"segment": "vip"}, enrollment_ids=[f"b{c}" for c in ids], customer_ids=ids,
        trigger_keys=[f"seg|{c}" for c in ids], held_out=[c in ("c6", "c7") for c in ids],
    )  # fmt: skip
    with uow() as u:
        u.enrollments.remove("e1", later, "removed")  # c1 no longer active: entered before, may enter again
        # c2 and c3 are active: skipped; c1 (entered at T0, not since `later`), c4, c5 enter; c6, c7 held out
        assert u.enrollments.add_bulk(batch, skip_entered_since=later) == (3, 2)
    with uow() as u:  # again: every key is stored
        assert u.enrollments.add_bulk(batch, skip_entered_since=None) == (0, 0)
        held = u.enrollments.get("bc6")
        assert held is not None and (held.status, held.arm, held.step_id, held.wake_at) == (
            "held_out",
            "holdout",
            None,
            None,
        )
        fresh = u.enrollments.get("bc4")
        assert fresh is not None and (fresh.status, fresh.step_id, fresh.wake_at, fresh.step_started_at) == (
            "active",
            "first",
            later,
            None,
        )
        assert fresh.trigger == {"segment": "vip"}
    other = BulkEnrollment(**{**batch.__dict__, "trigger_keys": [f"again|{c}" for c in ids]})
    with uow() as u:  # "never": every customer who ever entered is skipped
        assert u.enrollments.add_bulk(other, skip_entered_since=MIN) == (0, 0)


def test_claims_leases_and_writes(engine) -> None:
    uow = unit_of_work_factory(engine)
    with uow() as u:
        u.enrollments.add([_enr(f"e{i}", f"c{i}", wake=T0 + timedelta(minutes=i)) for i in range(5)])
        u.enrollments.add([_enr("p1", "c1", journey="jny_paused")])
    now = T0 + timedelta(minutes=3)
    lease = now + timedelta(minutes=1)
    with uow() as u:
        a = u.enrollments.claim_due(["jny_thanks"], now, limit=2, token="A", lease_until=lease)
    with uow() as u:
        b = u.enrollments.claim_due(["jny_thanks", "jny_paused"], now, limit=10, token="B", lease_until=lease)
    assert [r.enrollment_id for r in a] == ["e0", "e1"]  # earliest first
    assert sorted(r.enrollment_id for r in b) == ["e2", "e3", "p1"]  # e4 not due; a's rows leased
    with uow() as u:
        assert u.enrollments.claim_due(["jny_thanks"], now, limit=10, token="C", lease_until=lease) == []
        assert u.enrollments.hold(["e0", "e2"], "A", lease) == {"e0"}
        assert u.enrollments.live_journeys(["jny_thanks", "jny_paused"]) == {"jny_thanks": 1}
        moved = PositionUpdate("e0", "active", "second", now + timedelta(days=2), now, {"offer": "plain"})
        assert u.enrollments.write_positions([moved], "A") == 1
        msg = NewMessage(
            "msg_1", "e0", "jny_thanks", "first", "c0", "email", "marketing", "thanks", None,
            {"template": "thank-you"}, now, now,
        )  # fmt: skip
        assert u.enrollments.add_messages([msg, msg]) == 1
        assert u.enrollments.release(["e1", "e2"], "A") == 1  # e2 is B's
    with uow() as u:
        assert u.enrollments.add_messages([msg]) == 0  # written once
        e0 = u.enrollments.get("e0")
        assert e0 is not None and (e0.step_id, e0.wake_at, e0.variants) == (
            "second",
            now + timedelta(days=2),
            {"offer": "plain"},
        )
        # e1 released: claimable again; e2/e3 leased by B until `lease`; after it, claimable by anyone
        assert [
            r.enrollment_id for r in u.enrollments.claim_due(["jny_thanks"], now, limit=9, token="C", lease_until=lease)
        ] == ["e1"]
        late = lease + timedelta(seconds=1)
        assert sorted(
            r.enrollment_id
            for r in u.enrollments.claim_due(
                ["jny_thanks"], late, limit=9, token="D", lease_until=late + timedelta(minutes=1)
            )
        ) == ["e1", "e2", "e3", "e4"]
        assert u.enrollments.hold(["e2", "e3"], "B", late) == set()  # B lost them
    with engine.connect() as conn:
        row = conn.execute(select(journey_messages)).mappings().one()
    assert (row["status"], row["attempts"], json.loads(row["params_json"])) == ("queued", 0, {"template": "thank-you"})


def test_wake_and_remove(engine) -> None:
    uow = unit_of_work_factory(engine)
    waiting = EnrollmentRecord(
        "w1", "jny_thanks", "c1", "k1", 1, "journey", "active", T0, "review",
        T0 + timedelta(days=7), T0 + timedelta(hours=1),
    )  # fmt: skip
    with uow() as u:
        u.enrollments.add([waiting])
        u.enrollments.add_messages(
            [NewMessage("msg_w", "w1", "jny_thanks", "x", "c1", "email", "marketing", "t", None, {}, T0, T0)]
        )
    now = T0 + timedelta(days=1)
    with uow() as u:
        # an event before the step started does not wake it; one after does (once)
        assert u.enrollments.wake("jny_thanks", [("review", "c1", T0)], now) == 0
        assert u.enrollments.wake("jny_thanks", [("other", "c1", now)], now) == 0
        assert u.enrollments.wake("jny_thanks", [("review", "c1", now - timedelta(hours=1))], now) == 1
        assert u.enrollments.wake("jny_thanks", [("review", "c1", now - timedelta(hours=1))], now) == 0
        assert u.enrollments.get("w1").wake_at == now  # type: ignore[union-attr]
    with uow() as u:
        assert u.enrollments.remove("w1", now, "removed") is True
        assert u.enrollments.remove("w1", now, "removed") is False
        assert [r.status for r in u.enrollments.list("jny_thanks")] == ["exited"]
        assert u.enrollments.list("jny_thanks", status="active") == []
    with engine.connect() as conn:
        assert conn.execute(select(journey_messages.c.status)).scalar_one() == "cancelled"
        assert conn.execute(select(func.count()).select_from(journey_enrollments)).scalar_one() == 1


def test_reads(engine) -> None:
    customers, orders, events = TABLES["customers"], TABLES["orders"], TABLES["events"]
    with engine.begin() as conn:
        conn.execute(
            insert(customers),
            [
                {"customer_id": "c1", "timezone": "Europe/Oslo", "locale": "nb_NO", "email_consent": True},
                {"customer_id": "c2", "timezone": None, "locale": None, "email_consent": False},
            ],
        )
        conn.execute(
            insert(orders),
            [
                {"order_id": "o1", "customer_id": "c1", "status": "delivered", "ordered_at": T0, "revenue": 12.5,
                 "delivered_at": T0 + timedelta(days=2), "currency": "EUR", "channel": "web"},
                {"order_id": "o2", "customer_id": "c2", "status": "placed", "ordered_at": T0 + timedelta(hours=1),
                 "revenue": 3, "delivered_at": None, "currency": "EUR", "channel": "store"},
            ],
        )  # fmt: skip
        conn.execute(
            insert(events),
            [
                {"event_id": "ev1", "customer_id": "c1", "anonymous_id": None, "name": "review.submitted",
                 "occurred_at": T0, "properties": '{"stars": 5}'},
                {"event_id": "ev2", "customer_id": None, "anonymous_id": "x", "name": "review.submitted",
                 "occurred_at": T0, "properties": None},
                {"event_id": "ev3", "customer_id": "c2", "anonymous_id": None, "name": "other", "occurred_at": T0,
                 "properties": None},
            ],
        )  # fmt: skip
        conn.execute(
            insert(segments).values(
                segment_id="seg_1", name="vip", definition_json="{}", definition_text="x", created_at=T0, updated_at=T0
            )
        )
        conn.execute(
            insert(segment_memberships),
            [
                {"segment_id": "seg_1", "customer_id": "c1", "entered_at": T0, "exited_at": None},
                {"segment_id": "seg_1", "customer_id": "c2", "entered_at": T0, "exited_at": T0},
            ],
        )
        conn.execute(
            insert(suppressions),
            [
                {"customer_id": "c1", "channel": "email", "topic": "*", "reason": "hard_bounce", "created_at": T0},
                {
                    "customer_id": "c2",
                    "channel": "email",
                    "topic": "thanks",
                    "reason": "unsubscribed",
                    "created_at": T0,
                },
            ],
        )
    uow = unit_of_work_factory(engine)
    end = T0 + timedelta(days=5)
    with uow() as u:
        placed = u.enrollments.facts(fact_source("order.placed"), since=T0, until=end)
        assert [(f.key, f.customer_id, f.occurred_at) for f in placed] == [
            ("o1", "c1", T0),
            ("o2", "c2", T0 + timedelta(hours=1)),
        ]
        assert placed[0].properties == {
            "order_id": "o1",
            "revenue": 12.5,
            "currency": "EUR",
            "channel": "web",
            "status": "delivered",
        }
        assert [
            f.key for f in u.enrollments.facts(fact_source("order.placed"), since=T0, until=end, after=(T0, "o1"))
        ] == ["o2"]
        assert [f.key for f in u.enrollments.facts(fact_source("order.placed"), since=T0, until=end, limit=1)] == ["o1"]
        assert [
            f.key for f in u.enrollments.facts(fact_source("order.placed"), since=T0, until=end, customer_ids=["c2"])
        ] == ["o2"]
        delivered = u.enrollments.facts(fact_source("order.delivered"), since=T0, until=end)
        assert [f.key for f in delivered] == ["o1"]
        reviews = u.enrollments.facts(fact_source("review.submitted"), since=T0, until=end)
        assert [(f.key, f.properties) for f in reviews] == [("ev1", {"stars": 5})]  # the anonymous one left out
        contacts = u.enrollments.contacts(["c1", "c2", "c9"])
        assert (contacts["c1"].timezone, contacts["c1"].locale, contacts["c1"].email_consent) == (
            "Europe/Oslo",
            "nb_NO",
            True,
        )
        assert (contacts["c2"].timezone, contacts["c2"].email_consent) == (None, False) and "c9" not in contacts
        assert u.enrollments.members("seg_1", ["c1", "c2", "c9"]) == {"c1"}
        assert u.enrollments.unsubscribed(["c1", "c2"], "email", "thanks") == {"c2"}  # a bounce is no unsubscribe
        assert u.enrollments.unsubscribed(["c1", "c2"], "email", "other") == set()
        assert u.enrollments.profiles(["c1"]) == {}
