"""Port of the loyalty ledger (issue 17): what the loyalty services need from the store.

The ledger is append-only: rows are added, never changed (``core/loyalty/entries.py``). A writer
locks the members it writes for first (:meth:`LoyaltyRepository.lock_members`), then reads their
rows, decides with the core and adds the new rows, all in one transaction; so two writers of one
member run one after the other and neither decides on rows the other is about to change.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from aftersales.core.loyalty import BonusFact, Entry, LedgerTotals, OrderFacts

__all__ = [
    "HistoryRow",
    "LoyaltyRepository",
    "MemberFacts",
    "MemberRecord",
    "ProgramRecord",
    "RedemptionRecord",
    "RunRecord",
    "TierChangeRecord",
]


@dataclass(frozen=True)
class ProgramRecord:
    """One applied program document (``loyalty_programs``): canonical JSON text and its digest."""

    version: int
    name: str
    definition_json: str
    digest: str
    applied_at: datetime


@dataclass(frozen=True)
class MemberRecord:
    """A member (``loyalty_members``); ``tier`` is as of the last processing run (None before it)."""

    member_id: str
    joined_at: datetime
    tier: str | None = None
    tier_since: datetime | None = None
    processed_at: datetime | None = None


@dataclass(frozen=True)
class RedemptionRecord:
    redemption_id: str
    redemption_key: str
    member_id: str
    reward_id: str
    quantity: int
    points: int
    program_version: int
    redeemed_at: datetime


@dataclass(frozen=True)
class TierChangeRecord:
    member_id: str
    changed_at: datetime
    tier: str
    previous_tier: str
    qualifying_points: int


@dataclass(frozen=True)
class HistoryRow:
    """A stored row with its position in the member's history and when it was written."""

    entry_id: int
    entry: Entry
    recorded_at: datetime
    program_version: int | None


@dataclass(frozen=True)
class RunRecord:
    run_at: datetime  # the ``now`` settled
    started_at: datetime
    finished_at: datetime
    members: int
    entries: int


@dataclass(frozen=True)
class MemberFacts:
    """What the store says of a member's orders and bonus-earning acts, up to some ``now``."""

    orders: list[OrderFacts] = field(default_factory=list)
    bonuses: list[BonusFact] = field(default_factory=list)


class LoyaltyRepository(Protocol):
    """Implemented by adapters/sql/repositories/loyalty.py."""

    def current_program(self) -> ProgramRecord | None:
        """The program of the highest version (None before the first apply)."""
        ...

    def add_program(self, record: ProgramRecord) -> None:
        """Insert a version (``ConflictError`` when another apply took that version first)."""
        ...

    def lock_members(self, ids: Sequence[str], at: datetime) -> set[str]:
        """Create the missing member rows of those ids that are customers (joined at ``at``) and lock
        them until the transaction ends: ``SELECT ... FOR UPDATE`` in id order on PostgreSQL; on
        SQLite the insert takes the database's write lock, which serialises writers. Returns the ids
        locked (ids that are no customer are left out). Call it before reading anything the decision
        depends on."""
        ...

    def member(self, member_id: str) -> MemberRecord | None: ...

    def members(self, member_ids: Sequence[str]) -> dict[str, MemberRecord]:
        """The member rows of these ids (those that exist)."""
        ...

    def entries(self, member_ids: Sequence[str]) -> dict[str, list[Entry]]:
        """Every stored row of these members, in the order written (members without rows are absent)."""
        ...

    def add_entries(self, entries: Sequence[Entry], program_version: int | None, recorded_at: datetime) -> int:
        """Append rows in bulk (how many). Each (member, key, line) must be new: the caller decided under
        the members' locks; a stored one is a :class:`ConflictError` and nothing is written."""
        ...

    def history(self, member_id: str, *, after: int | None, limit: int) -> list[HistoryRow]:
        """A member's rows, newest first, strictly older than entry ``after``."""
        ...

    def redemption(self, redemption_key: str) -> RedemptionRecord | None: ...

    def add_redemption(self, record: RedemptionRecord) -> None: ...

    def tier_changes(self, member_id: str) -> list[TierChangeRecord]:
        """A member's recorded tier changes, oldest first."""
        ...

    def record_tiers(self, changes: Sequence[TierChangeRecord], tiers: dict[str, str], at: datetime) -> int:
        """Add tier change rows (one per member and instant; kept if stored) and set the members'
        cached tier (``tiers``: member -> tier now) and processing time; how many changes were new."""
        ...

    def member_ids(self, now: datetime, *, after: str | None, limit: int, review_event: str | None) -> list[str]:
        """Ids of customers with an order, a bonus-earning act (by ``now``) or a member row, in id
        order, strictly after ``after``."""
        ...

    def facts(
        self, member_ids: Sequence[str], now: datetime, *, bonuses: Sequence[str], review_event: str
    ) -> dict[str, MemberFacts]:
        """The orders (with their lines' categories) placed by ``now`` and the acts of the ``bonuses``
        kinds done by ``now``, per member."""
        ...

    def add_run(self, run: RunRecord) -> None: ...

    def last_run(self) -> RunRecord | None:
        """The processing run that settled the latest ``now``."""
        ...

    def totals(self, now: datetime, settled: datetime | None) -> LedgerTotals:
        """Points by kind of movement over all members; pending expiry = remaining points of lots
        expiring after ``settled`` (the last run's ``now``: earlier ones are written off) and by ``now``."""
        ...

    def tier_distribution(self) -> dict[str | None, int]:
        """Members per cached tier (None: never processed)."""
        ...

    def tier_movements(self, since: datetime, until: datetime) -> list[tuple[str, str, int]]:
        """``(previous, tier, changes)`` of the tier changes in ``[since, until)``."""
        ...

    def redemptions_by_reward(self) -> list[tuple[str, int, int]]:
        """``(reward_id, redemptions, points)`` over all redemptions."""
        ...
