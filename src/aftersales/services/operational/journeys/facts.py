"""Reading journey facts from the store: trigger facts in a time window, each enrollment's facts since
entry, and the rows whose date rules fall due (the core's catalogue, ``core/journeys/facts.py``,
says where each fact lives; the runtime's repository runs it).

* :func:`window` reads the facts of one name with time in ``[since, until]`` in pages of ``page``
  rows in (time, key) order, so a first scan over a long look-back never holds millions of rows.
* :func:`occurrences` reads, for a batch of enrollments, the facts of the names a journey listens
  to (:meth:`~aftersales.core.journeys.Journey.listens_to`) since each customer's entry.
* :func:`date_candidates` turns date rules into candidate triggers: for a profile field rule
  (``next_maintenance_due_on - 14d``) and "no order for N days" the store is asked only for the
  rows whose date lies where the due instant would fall in the window (a superset, days read from
  their 00:00 UTC); :func:`~aftersales.core.journeys.date_rule_due` then decides each. Renewals of
  running subscriptions are read in full (they have no stored due date) and each renewal due in
  the window is a candidate.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from aftersales.core.journeys import (
    DateTrigger,
    FieldDateRule,
    Journey,
    NoOrderFor,
    Occurrence,
    SubscriptionRenewal,
    date_rule_due,
    fact_source,
)
from aftersales.services.ports import UnitOfWork
from aftersales.services.ports_enrollments import FactRow

__all__ = ["Candidate", "date_candidates", "occurrence", "occurrences", "window"]

PAGE = 5_000
_TINY = timedelta(microseconds=1)


@dataclass(frozen=True)
class Candidate:
    """A trigger occurrence that may enroll ``customer_id``: when, its trigger key, its properties."""

    customer_id: str
    at: datetime
    trigger_key: str
    properties: Mapping[str, Any]


def occurrence(row: FactRow) -> Occurrence:
    return Occurrence(row.name, row.occurred_at, row.key, row.properties)


def window(u: UnitOfWork, name: str, since: datetime, until: datetime, *, page: int = PAGE) -> Iterator[list[FactRow]]:
    """The facts named ``name`` with time in ``[since, until]``, ``page`` at a time (time, key order)."""
    source = fact_source(name)
    after: tuple[datetime, str] | None = None
    while True:
        rows = u.enrollments.facts(source, since=since, until=until, after=after, limit=page)
        if rows:
            yield rows
        if len(rows) < page:
            return
        after = (rows[-1].occurred_at, rows[-1].key)


def occurrences(
    u: UnitOfWork, journey: Journey, entered: Mapping[str, datetime], until: datetime
) -> dict[str, list[Occurrence]]:
    """Each customer's facts of the names ``journey`` listens to, from their entry (``entered``:
    customer -> the earliest entry among the enrollments asked about) to ``until``, in time order."""
    out: dict[str, list[Occurrence]] = {c: [] for c in entered}
    if not entered:
        return out
    since = min(entered.values())
    for name in sorted(journey.listens_to()):
        for row in u.enrollments.facts(fact_source(name), since=since, until=until, customer_ids=list(entered)):
            if row.occurred_at >= entered[row.customer_id]:
                out[row.customer_id].append(occurrence(row))
    for items in out.values():
        items.sort(key=lambda o: (o.occurred_at, o.key))
    return out


def _trigger_properties(row: Mapping[str, Any], keys: Sequence[str], due: datetime) -> dict[str, Any]:
    props: dict[str, Any] = {"due_at": due.isoformat()}
    for k in keys:
        value = row.get(k)
        props[k] = value.isoformat() if isinstance(value, date) else value
    return props


def _dues(
    trigger: DateTrigger, row: Mapping[str, Any], since: datetime, until: datetime
) -> Iterator[tuple[datetime, str]]:
    """Every due instant of the rule for ``row`` in ``[since, until]`` (latest first)."""
    at = until
    while True:
        due = date_rule_due(trigger.rule, row, at)
        if due is None or due[0] < since:
            return
        yield due
        at = due[0] - _TINY


def date_candidates(
    u: UnitOfWork, trigger: DateTrigger, since: datetime, until: datetime, *, page: int = PAGE
) -> Iterator[list[Candidate]]:
    """Candidates whose date rule falls due in ``[since, until]``, a page of rows at a time."""
    rule = trigger.rule
    if isinstance(rule, SubscriptionRenewal):
        keys: tuple[str, ...] = ("subscription_id", "plan", "started_at")
        after: str | None = None
        while True:
            subs = u.enrollments.running_subscriptions(after=after, limit=page)
            yield _candidates(trigger, subs, keys, since, until)
            if len(subs) < page:
                return
            after = str(subs[-1]["subscription_id"])
    field, offset = (
        ("last_order_at", timedelta(days=rule.days)) if isinstance(rule, NoOrderFor) else (rule.field, rule.offset)
    )
    assert isinstance(rule, NoOrderFor | FieldDateRule)
    after = None
    while True:
        # The due instant ``value + offset`` in the window means ``value`` in the window moved back by
        # ``offset``; a day's value is its 00:00 UTC, so whole days around the bounds are read.
        rows = u.enrollments.profile_dates(
            field, since - offset - timedelta(days=1), until - offset, after=after, limit=page
        )
        yield _candidates(trigger, rows, (field,), since, until)
        if len(rows) < page:
            return
        after = str(rows[-1]["customer_id"])


def _candidates(
    trigger: DateTrigger, rows: Sequence[Mapping[str, Any]], keys: Sequence[str], since: datetime, until: datetime
) -> list[Candidate]:
    out = []
    for row in rows:
        for due, key in _dues(trigger, row, since, until):
            out.append(Candidate(str(row["customer_id"]), due, key, _trigger_properties(row, keys, due)))
    out.sort(key=lambda c: (c.at, c.trigger_key))
    return out
