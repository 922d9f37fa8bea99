"""Costs for profitability: acquisition per customer, retention and service per month.

* Acquisition: every customer from a paid channel costs ``acquisition_cost[channel]`` ×
  LogNormal(0, 0.35), recorded for the acquisition day (period_start = that day, period_end = the
  next) with the channel.
* Retention (CRM, loyalty): each UTC calendar month costs 0.15 per customer acquired before the
  month ends.
* Service: each month costs 11.00 per ticket opened in it (agent time).

Periods are ``[period_start, period_end)``; the last month ends at the observation end.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from aftersales.core.synthetic.arrays import contract_table, format_ids, key_width, money
from aftersales.core.synthetic.params import StoreParams

__all__ = ["draw_costs"]

RETENTION_PER_CUSTOMER_MONTH = 0.15
SERVICE_PER_TICKET = 11.0


def draw_costs(
    rng: np.random.Generator,
    *,
    created: np.ndarray,
    channel: np.ndarray,
    customer_ids: pa.StringArray,
    ticket_opened: np.ndarray,
    first_day: int,
    end_day: int,
    params: StoreParams,
) -> pa.Table:
    names = list(params.channels)
    cac = np.array([params.acquisition_cost.get(c, 0.0) for c in names])
    paid = np.flatnonzero(cac[channel] > 0)
    amount = money(cac[channel[paid]] * rng.lognormal(0.0, 0.35, size=paid.size))
    day = np.floor(created[paid]).astype("int64").astype("datetime64[D]")

    months = np.arange(
        np.datetime64(first_day, "D").astype("datetime64[M]"),
        np.datetime64(end_day - 1, "D").astype("datetime64[M]") + 1,
    )
    m_start = np.maximum(months.astype("datetime64[D]"), np.datetime64(first_day, "D"))
    m_end = np.minimum((months + 1).astype("datetime64[D]"), np.datetime64(end_day, "D"))
    bounds = m_end.astype(np.int64).astype(np.float64)
    acquired = np.searchsorted(created, bounds)  # created is sorted
    tickets = np.bincount(np.searchsorted(bounds, ticket_opened, side="right"), minlength=months.size)[: months.size]
    k = months.size

    kind = np.concatenate((np.zeros(paid.size, np.int64), np.ones(k, np.int64), np.full(k, 2)))
    n = kind.size
    channel_names = pa.array(names).take(pa.array(channel[paid]))
    return contract_table(
        "costs",
        {
            "cost_id": format_ids("K", np.arange(1, n + 1), key_width(n, 7)),
            "kind": pa.array(("acquisition", "retention", "service")).take(pa.array(kind)),
            "customer_id": pa.concat_arrays([customer_ids.take(pa.array(paid)), pa.nulls(2 * k, pa.string())]),
            "period_start": pa.array(np.concatenate((day, m_start, m_start))),
            "period_end": pa.array(np.concatenate((day + 1, m_end, m_end))),
            "channel": pa.concat_arrays([channel_names, pa.nulls(2 * k, pa.string())]),
            "amount": np.concatenate(
                (amount, money(RETENTION_PER_CUSTOMER_MONTH * acquired), money(SERVICE_PER_TICKET * tickets))
            ),
            "description": pa.concat_arrays(
                [
                    pa.array(["acquisition spend"]).take(pa.array(np.zeros(paid.size, np.int64))),
                    pa.array(["CRM and loyalty tooling"] * k + ["support agents"] * k),
                ]
            ),
        },
    )
