"""Touchpoint events: checkout funnels and product activations.

* Every web or app order placed in the last ``event_window_days`` has a ``checkout_started`` event
  1–15 minutes before its ``checkout_completed`` (at ``ordered_at``), sharing one session id.
* Abandoned checkouts are added so that completed / started ≈ ``checkout_completion_rate``: each
  is a ``checkout_started`` Exp(mean 7 days) before a random completed checkout, by the same
  customer (75 %) or an anonymous visitor (25 %).
* 80 % of product registrations are followed, Exp(mean 2 hours) later, by ``product_activated``.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from aftersales.core.synthetic.arrays import contract_table, format_ids, key_width, timestamps
from aftersales.core.synthetic.params import StoreParams

__all__ = ["EVENT_NAMES", "draw_events"]

EVENT_NAMES = ("checkout_started", "checkout_completed", "product_activated")
_NULL = pa.scalar(None, pa.string())


def _json(*parts: object) -> pa.Array:
    """Concatenate literal strings and string arrays into one JSON text per row."""
    return pc.binary_join_element_wise(*parts, "")


def draw_events(
    rng: np.random.Generator,
    *,
    order_customer: np.ndarray,
    order_time: np.ndarray,
    order_revenue: np.ndarray,
    order_channel: np.ndarray,
    order_channel_names: tuple[str, ...],
    created: np.ndarray,
    registration_customer: np.ndarray,
    registration_product: np.ndarray,
    registration_time: np.ndarray,
    customer_ids: pa.StringArray,
    product_ids: pa.StringArray,
    order_width: int,
    registration_width: int,
    end_day: float,
    params: StoreParams,
) -> pa.Table:
    window_start = end_day - params.event_window_days
    done = np.flatnonzero((order_time >= window_start) & (order_channel <= 1))  # web, mobile_app
    n_done = done.size
    n_lost = round(n_done * (1.0 / params.checkout_completion_rate - 1.0))
    anchor = done[rng.integers(0, max(n_done, 1), size=n_lost)] if n_done else np.zeros(0, np.int64)
    lost_at = order_time[anchor] - rng.exponential(7.0, size=n_lost)
    lost_ok = (lost_at >= window_start) & (lost_at > created[order_customer[anchor]])
    anchor, lost_at = anchor[lost_ok], lost_at[lost_ok]
    n_lost = anchor.size
    activated = np.flatnonzero(rng.random(registration_time.size) < 0.8)
    act_at = registration_time[activated] + rng.exponential(2.0 / 24.0, size=activated.size)
    activated, act_at = activated[act_at < end_day], act_at[act_at < end_day]

    # Rows: completed starts, completions, abandoned starts, activations.
    time = np.concatenate((order_time[done] - rng.uniform(1, 15, n_done) / 1440.0, order_time[done], lost_at, act_at))
    kind = np.repeat([0, 1, 0, 2], [n_done, n_done, n_lost, activated.size])
    no_session = np.zeros(activated.size, np.int64)
    session = np.concatenate((np.arange(n_done), np.arange(n_done), n_done + np.arange(n_lost), no_session))
    customer = np.concatenate(
        (order_customer[done], order_customer[done], order_customer[anchor], registration_customer[activated])
    )
    known = np.concatenate((np.ones(2 * n_done, bool), rng.random(n_lost) < 0.75, np.ones(activated.size, bool)))
    order_pos = np.concatenate((done, done, anchor, np.zeros(activated.size, np.int64)))
    channels = pa.array(order_channel_names).take(pa.array(order_channel[order_pos]))
    value = pc.cast(pa.array(order_revenue[order_pos]), pa.string())

    b1, b2, b3 = n_done, 2 * n_done, 2 * n_done + n_lost  # segment ends
    properties = pa.concat_arrays(
        [
            _json('{"cart_value": ', value[:b1], ', "channel": "', channels[:b1], '"}'),
            _json(
                '{"order_id": "',
                format_ids("O", done + 1, order_width),
                '", "revenue": ',
                value[b1:b2],
                ', "channel": "',
                channels[b1:b2],
                '"}',
            ),
            _json('{"cart_value": ', value[b2:b3], ', "channel": "', channels[b2:b3], '"}'),
            _json(
                '{"product_id": "',
                product_ids.take(pa.array(registration_product[activated])),
                '", "registration_id": "',
                format_ids("G", activated + 1, registration_width),
                '"}',
            ),
        ]
    )
    rank = np.argsort(time, kind="stable")
    n = rank.size
    rank_arr = pa.array(rank)
    sessions = format_ids("A", np.where(kind == 2, 0, session + 1), key_width(max(n_done + n_lost, 1), 8))
    return contract_table(
        "events",
        {
            "event_id": format_ids("E", np.arange(1, n + 1), key_width(n, 9)),
            "customer_id": pc.if_else(pa.array(known), customer_ids.take(pa.array(customer)), _NULL).take(rank_arr),
            "anonymous_id": pc.if_else(pa.array(kind != 2), sessions, _NULL).take(rank_arr),
            "name": pa.array(EVENT_NAMES).take(pa.array(kind[rank])),
            "occurred_at": timestamps(time[rank]),
            "properties": properties.take(rank_arr),
        },
    )
