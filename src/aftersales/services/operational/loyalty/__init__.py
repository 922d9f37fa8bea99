"""The loyalty ledger's use cases (docs/loyalty.md): apply the program, process orders, award,
redeem, read a member's points and history, and report whether the program pays.

Modules: :mod:`.program` (apply and read program documents), :mod:`.processing` (settle every
member as of ``now``), :mod:`.writes` (awards and redemptions, idempotent by key, under the
member's lock), :mod:`.members` (balance, lots, tier, history), :mod:`.reports` (liability,
redemption rate, breakage, tiers). Time comes from the clock port (``services/clock.py``).
"""

from aftersales.services.operational.loyalty.members import LotView, MemberView, TierView, history_page, member
from aftersales.services.operational.loyalty.processing import ProcessReport, process
from aftersales.services.operational.loyalty.program import (
    Applied,
    ProgramView,
    apply_program,
    current_program,
    load_program_text,
)
from aftersales.services.operational.loyalty.reports import LiabilityReport, report
from aftersales.services.operational.loyalty.writes import Movement, Redemption, adjust, redeem, redemption_detail

__all__ = [
    "Applied",
    "LiabilityReport",
    "LotView",
    "MemberView",
    "Movement",
    "ProcessReport",
    "ProgramView",
    "Redemption",
    "TierView",
    "adjust",
    "apply_program",
    "current_program",
    "history_page",
    "load_program_text",
    "member",
    "process",
    "redeem",
    "redemption_detail",
    "report",
]
