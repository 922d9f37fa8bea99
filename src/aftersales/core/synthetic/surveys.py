"""Survey responses: NPS after delivery (worse when late) and CSAT after solved tickets.

NPS: a delivered order is answered with probability ``nps_response_rate``, Exp(mean 3 days) after
delivery. The respondent's latent satisfaction is s ~ Normal(8.6, 1.5) − 2.8·late − 1.5·returned;
the headline score is clip(round(s), 0, 10), and three dimension rows (shipping, product, value)
are drawn around it on the same 0–10 scale, the shipping one a further 2.5 points lower when late.

CSAT: a solved ticket is answered with probability ``csat_response_rate``, Exp(mean 1 day) after
resolution; latent c ~ Normal(4.3, 0.8) − 0.9·[resolution took over 2 days] − 0.4·[shipping
topic]; score clip(round(c), 1, 5); dimensions speed and helpfulness on 1–5.
The scales are the data contract's (``contract.SURVEY_SCALES``), so every generated score imports.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from aftersales.core.contract import SURVEY_SCALES
from aftersales.core.synthetic.aftercare import Tickets
from aftersales.core.synthetic.arrays import contract_table, format_ids, key_width, timestamps
from aftersales.core.synthetic.params import StoreParams

__all__ = ["NPS_DIMENSIONS", "draw_survey_responses"]

NPS_DIMENSIONS = ("overall", "shipping", "product", "value")
CSAT_DIMENSIONS = ("overall", "speed", "helpfulness")
COMMENTS = (
    ("Love it, works perfectly.", "Great machine and fast delivery.", "Would buy again."),
    ("Fine.", "Does the job.", "OK, a bit pricey."),
    ("Delivery took far too long.", "Arrived damaged.", "Not as described."),
)


NPS_SCALE, CSAT_SCALE = SURVEY_SCALES["nps"], SURVEY_SCALES["csat"]  # the contract's scales, inclusive


def _scores(latent: npt.NDArray[np.float64], scale: tuple[int, int]) -> npt.NDArray[np.int64]:
    low, high = scale
    return np.clip(np.rint(latent), low, high).astype(np.int64)


def draw_survey_responses(
    rng: np.random.Generator,
    *,
    order_customer: np.ndarray,
    delivered: np.ndarray,
    returned: np.ndarray,
    late: np.ndarray,
    tickets: Tickets,
    customer_ids: pa.StringArray,
    order_width: int,
    end_day: float,
    params: StoreParams,
) -> pa.Table:
    # NPS after delivery: one response per answered order, four dimension scores each.
    at = delivered + rng.exponential(3.0, size=delivered.size)
    o = np.flatnonzero((rng.random(delivered.size) < params.nps_response_rate) & (at < end_day))
    is_late = late[o]
    s = rng.normal(8.6, 1.5, o.size) - 2.8 * is_late - 1.5 * ~np.isnan(returned[o])
    nps = np.stack(
        [
            _scores(s, NPS_SCALE),
            _scores(rng.normal(8.8, 1.0, o.size) - 5.3 * is_late, NPS_SCALE),
            _scores(s + rng.normal(0.3, 1.0, o.size), NPS_SCALE),
            _scores(s + rng.normal(-0.5, 1.2, o.size), NPS_SCALE),
        ],
        axis=1,
    )
    # CSAT after solved tickets: three dimension scores, padded to four columns.
    t_at = tickets.resolved + rng.exponential(1.0, size=tickets.resolved.size)
    t = np.flatnonzero((rng.random(t_at.size) < params.csat_response_rate) & (t_at < end_day))
    slow = (tickets.resolved[t] - tickets.opened[t]) > 2.0
    c = rng.normal(4.3, 0.8, t.size) - 0.9 * slow - 0.4 * (tickets.category[t] == 0)
    csat = np.stack(
        [
            _scores(c, CSAT_SCALE),
            _scores(c + rng.normal(0.0, 0.7, t.size) - 0.9 * slow, CSAT_SCALE),
            _scores(c + rng.normal(0.2, 0.6, t.size), CSAT_SCALE),
            np.zeros(t.size, dtype=np.int64),
        ],
        axis=1,
    )

    # Responses numbered in time order, then one row per (response, dimension).
    responded = np.concatenate((at[o], t_at[t]))
    rank = np.argsort(responded, kind="stable")
    responded = responded[rank]
    is_nps = np.concatenate((np.ones(o.size, bool), np.zeros(t.size, bool)))[rank]
    customer = np.concatenate((order_customer[o], tickets.customer[t])).astype(np.int64)[rank]
    order = np.concatenate((o, np.full(t.size, -1)))[rank]
    scores = np.concatenate((nps, csat))[rank]
    m = rank.size

    n_dims = np.where(is_nps, len(NPS_DIMENSIONS), len(CSAT_DIMENSIONS))
    resp = np.repeat(np.arange(m), n_dims)
    pos = np.arange(resp.size) - np.repeat(np.cumsum(n_dims) - n_dims, n_dims)
    row_nps = is_nps[resp]
    dimension = pa.array(NPS_DIMENSIONS + CSAT_DIMENSIONS).take(
        pa.array(np.where(row_nps, pos, len(NPS_DIMENSIONS) + pos))
    )

    headline = scores[:, 0]
    band = np.where(
        is_nps,
        np.select([headline >= 9, headline >= 7], [0, 1], 2),
        np.select([headline >= 4, headline == 3], [0, 1], 2),
    )
    comment_pool = pa.array([text for group in COMMENTS for text in group])
    comment_of = comment_pool.take(pa.array(band * 3 + rng.integers(0, 3, size=m)))
    with_comment = (rng.random(m) < 0.3)[resp] & (pos == 0)
    has_order = order[resp] >= 0
    return contract_table(
        "survey_responses",
        {
            "response_id": format_ids("R", resp + 1, key_width(m, 8)),
            "dimension": dimension,
            "survey_id": pa.array(["post_delivery_nps", "support_csat"]).take(pa.array(np.where(row_nps, 0, 1))),
            "customer_id": customer_ids.take(pa.array(customer[resp])),
            "order_id": pc.if_else(
                pa.array(has_order),
                format_ids("O", np.where(has_order, order[resp] + 1, 0), order_width),
                pa.scalar(None, pa.string()),
            ),
            "kind": pa.array(["nps", "csat"]).take(pa.array(np.where(row_nps, 0, 1))),
            "score": scores[resp, pos],
            "comment": pc.if_else(
                pa.array(with_comment), comment_of.take(pa.array(resp)), pa.scalar(None, pa.string())
            ),
            "responded_at": timestamps(responded[resp]),
        },
    )
