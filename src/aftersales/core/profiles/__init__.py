"""Customer profiles (issue 14): one row per customer computed in the analytical engine (pure Ibis builders).

* :mod:`.build` — :func:`profile_table`, the whole profile as one expression;
* :mod:`.orders` — order facts, the year's revenue, categories bought;
* :mod:`.aftercare` — last NPS/CSAT, open tickets, registrations, maintenance and warranty days;
* :mod:`.rfm` — RFM scores and the named cell map;
* :mod:`.predictive` — the minimum history for the predictive columns, the expected next order.

docs/profiles.md describes every column.
"""

from aftersales.core.profiles.build import CLV_QUANTILE_TIERS, ProfileInputs, profile_table
from aftersales.core.profiles.predictive import MIN_REPEAT_CUSTOMERS, MIN_SPAN_DAYS, history_note
from aftersales.core.profiles.rfm import RFM_CELLS, rfm_segment

__all__ = [
    "CLV_QUANTILE_TIERS",
    "MIN_REPEAT_CUSTOMERS",
    "MIN_SPAN_DAYS",
    "RFM_CELLS",
    "ProfileInputs",
    "history_note",
    "profile_table",
    "rfm_segment",
]
