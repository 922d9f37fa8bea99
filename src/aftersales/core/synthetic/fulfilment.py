"""Orders with their fulfilment: channel, cancellation, delivery delays (some late) and returns.

Delivery delay in days: on time ``min(1 + Gamma(2, 0.8), promised − 0.1)``; late (rate
``late_rate``) ``promised + 0.5 + Gamma(1.5, 2.5)``. Returns happen 2 + Gamma(2, 5) days after
delivery, twice as often for late orders. Anything that would happen after the observation end has
not happened yet: such orders stay ``shipped`` or ``paid``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from aftersales.core.synthetic.arrays import contract_table, format_ids, timestamps
from aftersales.core.synthetic.baskets import Baskets
from aftersales.core.synthetic.params import StoreParams

__all__ = ["ORDER_CHANNELS", "Fulfilment", "draw_fulfilment"]

ORDER_CHANNELS = ("web", "mobile_app", "store", "marketplace")
STATUS_CODES = ("paid", "shipped", "delivered", "returned", "cancelled")


@dataclass(frozen=True)
class Fulfilment:
    """Per order: outcome arrays (times in float days, NaN when it has not happened)."""

    channel: np.ndarray  # index into ORDER_CHANNELS
    delivered: np.ndarray
    returned: np.ndarray
    cancelled: np.ndarray
    late: np.ndarray  # delivered later than promised
    delay_days: np.ndarray
    table: pa.Table


def draw_fulfilment(
    rng: np.random.Generator,
    *,
    customer: np.ndarray,
    time: np.ndarray,
    customer_ids: pa.StringArray,
    marketplace_customer: np.ndarray,
    baskets: Baskets,
    end_day: float,
    order_width: int,
    params: StoreParams,
) -> Fulfilment:
    n = time.size
    direct = rng.choice(3, size=n, p=[0.65, 0.25, 0.10])
    channel = np.where(marketplace_customer[customer] & (rng.random(n) < 0.8), 3, direct)

    cancel_at = time + rng.uniform(0.02, 1.0, size=n)
    cancelled = (rng.random(n) < params.cancel_rate) & (cancel_at < end_day)
    late = rng.random(n) < params.late_rate
    on_time = np.minimum(1.0 + rng.gamma(2.0, 0.8, size=n), params.promised_days - 0.1)
    delay = np.where(late, params.promised_days + 0.5 + rng.gamma(1.5, 2.5, size=n), on_time)
    delivered_at = time + delay
    delivered = ~cancelled & (delivered_at < end_day)
    shipped = ~cancelled & ~delivered & (time + 0.4 * delay < end_day)
    returned_at = delivered_at + 2.0 + rng.gamma(2.0, 5.0, size=n)
    returned = delivered & (rng.random(n) < params.return_rate * np.where(late, 2.0, 1.0) / (1 + params.late_rate))
    returned &= returned_at < end_day

    status = np.select([cancelled, returned, delivered, shipped], [4, 3, 2, 1], default=0)
    table = contract_table(
        "orders",
        {
            "order_id": format_ids("O", np.arange(1, n + 1), order_width),
            "customer_id": customer_ids.take(pa.array(customer)),
            "status": pa.array(STATUS_CODES).take(pa.array(status)),
            "ordered_at": timestamps(time),
            "delivered_at": timestamps(delivered_at, delivered),
            "returned_at": timestamps(returned_at, returned),
            "cancelled_at": timestamps(cancel_at, cancelled),
            "currency": pa.array(["USD"]).take(pa.array(np.zeros(n, dtype=np.int64))),
            "revenue": baskets.revenue,
            "discount": baskets.discount,
            "cost_of_goods": baskets.cost_of_goods,
            "channel": pa.array(ORDER_CHANNELS).take(pa.array(channel)),
        },
    )
    nan = np.full(n, np.nan)
    return Fulfilment(
        channel=channel,
        delivered=np.where(delivered, delivered_at, nan),
        returned=np.where(returned, returned_at, nan),
        cancelled=np.where(cancelled, cancel_at, nan),
        late=late & delivered,
        delay_days=delay,
        table=table,
    )
