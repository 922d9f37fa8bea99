"""Shared builders for the journey tests: a journey from steps, facts at a time, a fake-clock driver, and
the problems a document is refused for."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from aftersales.core.errors import ValidationError
from aftersales.core.journeys import (
    Decision,
    Effect,
    Facts,
    Journey,
    Occurrence,
    Position,
    advance,
    parse_journey,
    start,
)

T0 = datetime(2026, 6, 1, 10, 0, tzinfo=UTC)  # a Monday
UTC_ZONE = ZoneInfo("UTC")


def journey(*steps: Mapping[str, Any], **top: Any) -> Journey:
    doc: dict[str, Any] = {"name": "j", "trigger": {"event": "order.delivered"}, "steps": list(steps)}
    doc.update(top)
    return parse_journey(doc)


def facts(now: datetime, **kw: Any) -> Facts:
    return Facts(
        now=now,
        customer_id=kw.pop("customer_id", "c1"),
        zone=kw.pop("zone", UTC_ZONE),
        entered_at=kw.pop("entered_at", T0),
        salt=kw.pop("salt", "salt-1"),
        profile=kw.pop("profile", {}),
        trigger=kw.pop("trigger", {}),
        occurrences=tuple(kw.pop("occurrences", ())),
        in_audience=kw.pop("in_audience", None),
        unsubscribed=kw.pop("unsubscribed", False),
        **kw,
    )


def occ(name: str, at: datetime, **properties: Any) -> Occurrence:
    return Occurrence(name, at, f"{name}@{at.isoformat()}", properties)


@dataclass
class Driver:
    """An enrollment moved by a fake clock: ``at(t)`` advances at ``t`` with the facts known then."""

    journey: Journey
    entered_at: datetime = T0
    fact_kw: dict[str, Any] = field(default_factory=dict)
    occurrences: list[Occurrence] = field(default_factory=list)
    position: Position | None = None
    effects: list[tuple[datetime, Effect]] = field(default_factory=list)
    history: list[Decision] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.position = start(self.journey, self.entered_at)

    def at(self, now: datetime, **kw: Any) -> Decision:
        assert self.position is not None
        merged = {**self.fact_kw, **kw, "entered_at": self.entered_at}
        merged.setdefault("occurrences", [o for o in self.occurrences if o.occurred_at <= now])
        decision = advance(self.journey, self.position, facts(now, **merged))
        self.position = decision.position
        self.effects.extend((now, e) for e in decision.effects)
        self.history.append(decision)
        return decision

    def run(self, until: datetime, every: timedelta = timedelta(hours=1)) -> None:
        """Advance at every tick from ``entered_at`` to ``until`` while the enrollment is active and due."""
        now = self.entered_at
        while now <= until:
            assert self.position is not None
            if self.position.status == "active" and self.position.wake_at is not None and self.position.wake_at <= now:
                self.at(now)
            now += every

    def sent(self) -> list[tuple[str, datetime]]:
        return [(e.step_id, t) for t, e in self.effects]


def ids(count: int, prefix: str = "cust-") -> Iterable[str]:
    return (f"{prefix}{i}" for i in range(count))


def minimal(**overrides: Any) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "name": "j",
        "trigger": {"event": "order.delivered"},
        "steps": [{"id": "hello", "type": "email", "template": "thank-you"}],
    }
    doc.update(overrides)
    return doc


def problems(doc: Any) -> list[tuple[tuple[str | int, ...], str]]:
    with pytest.raises(ValidationError) as caught:
        parse_journey(doc)
    return [(e.loc, e.message) for e in caught.value.errors]


def locs(doc: Any) -> list[tuple[str | int, ...]]:
    return [loc for loc, _ in problems(doc)]
