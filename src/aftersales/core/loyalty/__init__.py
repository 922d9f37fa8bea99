"""The loyalty ledger's rules, pure: program documents, entries and lots, earning, tiers, settling.

See ``docs/loyalty.md``. Modules: :mod:`.program` (the program document), :mod:`.entries` (rows,
lots and the derived balance), :mod:`.earning` (order points and bonus facts), :mod:`.tiers` (rolling
windows of earned points), :mod:`.ledger` (FIFO draws: redemptions and adjustments), :mod:`.settle`
(the rows due for a member's orders as of ``now``), :mod:`.metrics` (liability, redemption rate,
breakage). Nothing here does I/O or reads a clock: time comes in as ``now``.
"""

from aftersales.core.loyalty.earning import BonusFact, OrderFacts, order_points
from aftersales.core.loyalty.entries import KINDS, Entry, LedgerState, Lot, check_shape, derive, fifo_order, lots_of
from aftersales.core.loyalty.ledger import InsufficientPoints, award, detail_json, draw, spend
from aftersales.core.loyalty.metrics import LedgerTotals, breakage, liability, redemption_rate
from aftersales.core.loyalty.program import (
    BONUS_KINDS,
    REWARD_KINDS,
    Bonuses,
    Program,
    Reward,
    TierLevel,
    Tiers,
    parse_program,
    program_digest,
    program_document,
)
from aftersales.core.loyalty.settle import settle
from aftersales.core.loyalty.tiers import Span, TierChange, qualifying_points, qualifying_spans, tier_at, tier_changes

__all__ = [
    "BONUS_KINDS",
    "KINDS",
    "REWARD_KINDS",
    "BonusFact",
    "Bonuses",
    "Entry",
    "InsufficientPoints",
    "LedgerState",
    "LedgerTotals",
    "Lot",
    "OrderFacts",
    "Program",
    "Reward",
    "Span",
    "TierChange",
    "TierLevel",
    "Tiers",
    "award",
    "breakage",
    "check_shape",
    "derive",
    "detail_json",
    "draw",
    "fifo_order",
    "liability",
    "lots_of",
    "order_points",
    "parse_program",
    "program_digest",
    "program_document",
    "qualifying_points",
    "qualifying_spans",
    "redemption_rate",
    "settle",
    "spend",
    "tier_at",
    "tier_changes",
]
