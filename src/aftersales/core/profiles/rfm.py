"""RFM scores 1-5 and the named RFM segment of each (recency, frequency) cell; quantile tiers.

**Scores.** Among the customers with at least one counted order, a value's score out of ``k`` is

    score = floor(k · below / n) + 1

where ``below`` is the number of customers whose value is strictly worse (SQL ``RANK() - 1``, an
exact rank) and ``n`` the number of customers scored. It is NTILE's idea (k groups of about n/k
customers, 1 the worst), with one difference that matters on every real store: equal values always
share a score (NTILE splits ties arbitrarily, so two engines, or two runs, could disagree). The
price is that heavily tied values skip scores: when 60% of customers ordered once, all of them get
frequency 1 and the two-order customers start at 4. ``better`` is the direction of a better value:
recency scores the whole days since the last order (fewer is better, 5 the most recent), frequency
the number of orders and monetary the revenue (more is better). The formula is integer arithmetic
done in float64: ``below`` and ``n`` are exact integers below 2^53 and the quotient lies in
[0, k), at least 1/n away from the next integer unless it is one, so the floor is exact.

>>> scores_of([10, 20, 20, 30, 40], k=5)  # below = 0, 1, 1, 3, 4 of n = 5
[1, 2, 2, 4, 5]

**Named segments** (the common RFM grid on recency R and frequency F; monetary is not used to
name a cell, as in that grid): see :data:`RFM_CELLS` and docs/profiles.md.

>>> rfm_segment(5, 5), rfm_segment(1, 1), rfm_segment(2, 1), rfm_segment(3, 3), rfm_segment(4, 1)
('champions', 'lost', 'hibernating', 'need_attention', 'promising')
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Literal

import ibis
import ibis.expr.types as ir

from aftersales.core.segments.fields import RFM_SEGMENTS

__all__ = ["RFM_CELLS", "RFM_SCORES", "rfm_segment", "rfm_segment_expr", "score_expr", "scores_of"]

RFM_SCORES = 5

# (R, F) -> segment; R = recency score, F = frequency score, 1-5 each. Every one of the 25 cells is
# named once (a test checks it). The grid is the widely used 10-segment RFM map, with its
# "hibernating" corner split so that the coldest cell (R 1, F 1) is "lost".
_GRID: dict[str, tuple[tuple[int, int], ...]] = {
    "champions": ((5, 4), (5, 5)),
    "loyal": ((3, 4), (3, 5), (4, 4), (4, 5)),
    "potential_loyalists": ((4, 2), (4, 3), (5, 2), (5, 3)),
    "new": ((5, 1),),
    "promising": ((4, 1),),
    "need_attention": ((3, 3),),
    "about_to_sleep": ((3, 1), (3, 2)),
    "at_risk": ((1, 3), (1, 4), (2, 3), (2, 4)),
    "cannot_lose": ((1, 5), (2, 5)),
    "hibernating": ((1, 2), (2, 1), (2, 2)),
    "lost": ((1, 1),),
}
RFM_CELLS: dict[tuple[int, int], str] = {cell: name for name, cells in _GRID.items() for cell in cells}
"""The named segment of every (recency score, frequency score) cell."""

assert tuple(_GRID) == RFM_SEGMENTS and len(RFM_CELLS) == 25  # the catalogue's names, every cell once


def rfm_segment(recency: int, frequency: int) -> str:
    """The named segment of the cell (``recency``, ``frequency``)."""
    return RFM_CELLS[(recency, frequency)]


def scores_of(
    values: Sequence[float], *, k: int = RFM_SCORES, better: Literal["higher", "lower"] = "higher"
) -> list[int]:
    """The scores of ``values`` by the formula above, in plain Python (the definition the engine
    expression implements; tests and the pandas benchmark compare against it)."""
    n = len(values)
    ordered = sorted(values, reverse=better == "lower")
    out = []
    for v in values:
        # number of values strictly worse than v
        below = sum(1 for w in ordered if (w < v if better == "higher" else w > v))
        out.append(math.floor(k * below / n) + 1)
    return out


def score_expr(
    value: ir.NumericValue, *, k: int = RFM_SCORES, better: Literal["higher", "lower"] = "higher"
) -> ir.IntegerValue:
    """The score of ``value`` over every row of its table (a window over the whole table).

    ``value`` must hold no NULL: engines sort NULLs first or last depending on the direction
    (PostgreSQL puts them first in a descending order), which would shift every rank, so the caller
    scores only the rows that have a value (the customers with orders) and joins the scores back.
    """
    key = value if better == "higher" else value.desc()
    below = ibis.rank().over(order_by=key)  # 0-based RANK(): rows strictly before (worse), ties together
    n = value.count().over()
    return (below.cast("float64") * float(k) / n.cast("float64")).floor().cast("int64") + 1


def rfm_segment_expr(recency: ir.IntegerValue, frequency: ir.IntegerValue) -> ir.StringValue:
    """The named segment of the (``recency``, ``frequency``) cell as an engine expression (NULL
    when either score is NULL)."""
    cases = [((recency == r) & (frequency == f), ibis.literal(name)) for (r, f), name in RFM_CELLS.items()]
    return ibis.cases(*cases, else_=ibis.null("string"))
