"""CES responses after delivery, with known dimension weights and comments written from known themes.

A delivered order is answered with probability :data:`CES_RESPONSE_RATE`, Exp(mean 2 days) after
delivery (survey ``post_delivery_ces``, kind ``ces``, 1-7, higher = easier). Each respondent has one
**theme**, drawn from the order's situation (late orders mostly ``late_delivery``, returned ones
``easy_returns`` or ``damaged_item``, the rest over the other themes, see :data:`THEME_SHARES`).

Dimension scores: d_k = clip(round(Normal(5, 1) + shift_k(theme)), 1, 7) for the dimensions of
:data:`DIMENSIONS` (a late delivery lowers ``shipping`` by 2.5, a damaged item ``product`` by 2.5 and
``support`` by 1, ...; :data:`THEME_SHIFTS`). The headline (``overall``) answer is a linear function
of the dimension answers plus noise:

    overall = clip(round(b0 + Σ_k w_k · d_k + ε), 1, 7),   ε ~ Normal(0, σ)

with w = :data:`WEIGHTS`, b0 = :data:`INTERCEPT`, σ = :data:`NOISE_SD`, so a regression of the
overall answer on the dimension answers recovers w (rounding adds nearly independent noise; the
design keeps b0 + Σ w·d + ε inside [0.5, 7.5] for all but about 0.1 % of answers, so clipping
hardly bends it). A share :data:`COMMENT_SHARE` of respondents write a comment: one or two sentences
from their theme's phrases (:data:`PHRASES`), sometimes with a neutral opener or closer.

Everything here is drawn from a random stream of its own (``generate_store`` spawns it after the
phases' streams and the places stream), so adding these rows left every other generated value as it
was; the rows are appended after the NPS and CSAT rows of ``survey_responses``. The truth (weights,
themes, which response has which theme) goes into ``truth.json`` under ``surveys``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from aftersales.core.contract import SURVEY_SCALES
from aftersales.core.synthetic.arrays import contract_table, format_ids, key_width, timestamps

__all__ = [
    "CES_RESPONSE_RATE",
    "CES_SURVEY",
    "COMMENT_SHARE",
    "DIMENSIONS",
    "INTERCEPT",
    "NOISE_SD",
    "PHRASES",
    "THEMES",
    "THEME_SHIFTS",
    "WEIGHTS",
    "Feedback",
    "draw_feedback",
]

CES_SURVEY = "post_delivery_ces"
CES_RESPONSE_RATE = 0.06
COMMENT_SHARE = 0.5
DIMENSIONS = ("order_process", "shipping", "returns", "product", "support")
WEIGHTS = {"order_process": 0.10, "shipping": 0.25, "returns": 0.10, "product": 0.30, "support": 0.15}
INTERCEPT = 0.3
NOISE_SD = 0.7

THEMES = ("late_delivery", "damaged_item", "easy_returns", "great_product", "slow_support", "smooth_checkout")
# Theme shares by situation: (on time, not returned), (late), (returned); rows sum to 1.
THEME_SHARES = np.array(
    [
        [0.04, 0.06, 0.05, 0.45, 0.18, 0.22],
        [0.75, 0.04, 0.02, 0.08, 0.08, 0.03],
        [0.10, 0.40, 0.40, 0.02, 0.06, 0.02],
    ]
)
THEME_SHIFTS: dict[str, dict[str, float]] = {
    "late_delivery": {"shipping": -2.5},
    "damaged_item": {"product": -2.5, "support": -1.0},
    "easy_returns": {"returns": 1.5},
    "great_product": {"product": 1.5},
    "slow_support": {"support": -2.5},
    "smooth_checkout": {"order_process": 1.5},
}
PHRASES: dict[str, tuple[str, ...]] = {
    "late_delivery": (
        "The delivery was {n} days late.",
        "Late delivery, the courier missed the date.",
        "I waited {n} days for the delivery.",
        "The courier was late and the delivery slow.",
        "Delivery took far too long, {n} days late.",
        "Waited and waited, the courier came late.",
    ),
    "damaged_item": (
        "The machine arrived damaged.",
        "It arrived broken, the box was crushed.",
        "Damaged box and a cracked carafe.",
        "The carafe arrived cracked and the handle broken.",
        "Arrived damaged, the box was wet and broken.",
    ),
    "easy_returns": (
        "The return was easy and the refund quick.",
        "Easy return with a prepaid label.",
        "Refund arrived {n} days after the return.",
        "Returning it was easy, refund without questions.",
        "Simple return label and a fast refund.",
    ),
    "great_product": (
        "Great machine, the coffee tastes amazing.",
        "Love the quality of this machine.",
        "Great quality, great coffee every morning.",
        "I love the coffee from this machine.",
        "Excellent quality, a great machine.",
    ),
    "slow_support": (
        "Customer service took {n} days to reply.",
        "Support never answered my email.",
        "I called support {n} times, no reply.",
        "The support agent was slow and unhelpful.",
        "No reply from customer service to my email.",
    ),
    "smooth_checkout": (
        "Ordering on the website was quick and simple.",
        "Checkout was smooth and the payment instant.",
        "Easy checkout, the website is clear.",
        "Placing the order on the website took a minute.",
        "Smooth checkout and a simple payment page.",
    ),
}
OPENERS = ("", "", "", "Hi. ", "Overall: ", "Ordered for my kitchen. ", "Second order with you. ")
CLOSERS = ("", "", "", " Thanks.", " Will see next time.", " That's all.")
CES_SCALE = SURVEY_SCALES["ces"]


@dataclass(frozen=True)
class Feedback:
    """The CES rows (``survey_responses`` columns) and the truth behind them."""

    table: pa.Table
    truth: dict[str, object]


def _comment(rng: np.random.Generator, theme: str) -> str:
    bank = PHRASES[theme]
    k = 1 + int(rng.random() < 0.5)
    picked = rng.choice(len(bank), size=k, replace=False)
    body = " ".join(bank[i].format(n=int(rng.integers(2, 9))) for i in picked)
    return OPENERS[int(rng.integers(len(OPENERS)))] + body + CLOSERS[int(rng.integers(len(CLOSERS)))]


def draw_feedback(
    rng: np.random.Generator,
    *,
    order_customer: np.ndarray,
    delivered: np.ndarray,
    returned: np.ndarray,
    late: np.ndarray,
    customer_ids: pa.StringArray,
    order_width: int,
    end_day: float,
) -> Feedback:
    """CES responses with dimension rows and themed comments (see the module), in time order."""
    at = delivered + rng.exponential(2.0, size=delivered.size)
    chosen = np.flatnonzero((rng.random(delivered.size) < CES_RESPONSE_RATE) & (at < end_day))
    o = chosen[np.argsort(at[chosen], kind="stable")]
    m = o.size
    situation = np.where(~np.isnan(returned[o]), 2, np.where(late[o], 1, 0))
    cumulative = THEME_SHARES.cumsum(axis=1)[situation]
    theme = np.minimum((rng.random(m)[:, None] > cumulative).sum(axis=1), len(THEMES) - 1)
    low, high = CES_SCALE
    dims = np.empty((m, len(DIMENSIONS)), dtype=np.int64)
    for k, dim in enumerate(DIMENSIONS):
        shift = np.array([THEME_SHIFTS[t].get(dim, 0.0) for t in THEMES])[theme]
        dims[:, k] = np.clip(np.rint(rng.normal(5.0, 1.0, m) + shift), low, high)
    weights = np.array([WEIGHTS[d] for d in DIMENSIONS])
    latent = INTERCEPT + dims @ weights + rng.normal(0.0, NOISE_SD, m)
    overall = np.clip(np.rint(latent), low, high).astype(np.int64)
    commented = rng.random(m) < COMMENT_SHARE
    comments = [_comment(rng, THEMES[theme[i]]) if commented[i] else None for i in range(m)]

    n_dims = 1 + len(DIMENSIONS)
    resp = np.repeat(np.arange(m), n_dims)
    pos = np.tile(np.arange(n_dims), m)
    scores = np.concatenate((overall[:, None], dims), axis=1)
    ids = format_ids("RC", np.arange(1, m + 1), key_width(m, 8))
    comment_rows = pa.array(comments, pa.string()).take(pa.array(resp))
    table = contract_table(
        "survey_responses",
        {
            "response_id": ids.take(pa.array(resp)),
            "dimension": pa.array(("overall", *DIMENSIONS)).take(pa.array(pos)),
            "survey_id": pa.array([CES_SURVEY] * resp.size, pa.string()),
            "customer_id": customer_ids.take(pa.array(order_customer[o][resp].astype(np.int64))),
            "order_id": format_ids("O", o[resp] + 1, order_width),
            "kind": pa.array(["ces"] * resp.size, pa.string()),
            "score": scores[resp, pos],
            "comment": pc.if_else(pa.array(pos == 0), comment_rows, pa.scalar(None, pa.string())),
            "responded_at": timestamps(at[o][resp]),
        },
    )
    response_ids = ids.to_pylist()
    by_theme = {t: [response_ids[i] for i in np.flatnonzero(commented & (theme == k))] for k, t in enumerate(THEMES)}
    truth: dict[str, object] = {
        CES_SURVEY: {
            "kind": "ces",
            "response_rate": CES_RESPONSE_RATE,
            "dimensions": list(DIMENSIONS),
            "overall": "clip(round(intercept + sum(weights[d] * score[d]) + Normal(0, noise_sd)), 1, 7)",
            "weights": dict(WEIGHTS),
            "intercept": INTERCEPT,
            "noise_sd": NOISE_SD,
            "themes": list(THEMES),
            "theme_shifts": THEME_SHIFTS,
            "comment_themes": by_theme,
        }
    }
    return Feedback(table=table, truth=truth)
