"""Notebook facade: every metric in one call on pandas / polars dataframes or Parquet paths.

>>> import pandas as pd
>>> orders = pd.DataFrame({
...     "order_id": ["1", "2", "3"], "customer_id": ["a", "a", "b"],
...     "ordered_at": pd.to_datetime(["2024-01-05", "2024-04-02", "2024-04-09"], utc=True),
...     "revenue": [10.0, 20.0, 30.0]})
>>> df = retention_rate(orders, period="quarter", start="2024-04-01", end="2024-07-01")
>>> df[["period", "S", "E", "N", "value"]].to_dict("records")
[{'period': datetime.date(2024, 4, 1), 'S': 1, 'E': 2, 'N': 1, 'value': 100.0}]
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any, Literal

import pandas as pd

from aftersales import bootstrap
from aftersales.core.metrics.registry import METRICS
from aftersales.core.metrics.rfm import rfm_summary as _rfm
from aftersales.services.analytical import metrics as service

__all__ = [*sorted(METRICS), "compute", "rfm_summary", "scorecard"]


def _source(tables: dict[str, Any]) -> Any:
    paths = {k: v for k, v in tables.items() if isinstance(v, (str, Path))}
    if paths and len(paths) == len(tables) and len({Path(p).parent for p in paths.values()}) == 1:
        return bootstrap.open_source(str(Path(next(iter(paths.values()))).parent)).restrict(tables)
    frames = {k: (pd.read_parquet(v) if isinstance(v, (str, Path)) else v) for k, v in tables.items()}
    return bootstrap.open_dataframes(frames)


def _date(d: str | date | None) -> date | None:
    return date.fromisoformat(d) if isinstance(d, str) else d


def compute(
    names: list[str],
    *,
    period: str = "month",
    start: str | date | None = None,
    end: str | date | None = None,
    as_of: str | date | None = None,
    today: str | date | None = None,
    tz: str = "UTC",
    by: str | None = None,
    window_days: int = 365,
    include_returns: bool = False,
    **tables: Any,
) -> pd.DataFrame:
    """Compute metrics ``names`` on the given tables (``orders=``, ``customers=``, ...) as one DataFrame.

    Without ``end`` the series ends with the latest period holding orders; ``today`` (default: the
    day after the last order) decides whether it is over. Each row carries ``complete``."""
    with _source({k: v for k, v in tables.items() if v is not None}) as src:
        res = service.compute(
            src,
            names,
            period=period,
            start=_date(start),
            end=_date(end),
            as_of=_date(as_of),
            today=_date(today),
            tz=tz,
            by=by,
            window_days=window_days,
            include_returns=include_returns,
        )
    if res.errors:
        raise ValueError("; ".join(res.errors))
    return pd.DataFrame.from_records(res.records)


def _one(name: str) -> Any:
    first = METRICS[name].needs[0]

    def metric(data: Any, **kw: Any) -> pd.DataFrame:
        return compute([name], **{first: data}, **kw)

    metric.__name__ = name
    metric.__doc__ = (
        f"{METRICS[name].description}: ``{name}({first}, period=..., start=..., end=..., by=..., **tables)`` "
        "returns a pandas DataFrame (see docs/metrics.md)."
    )
    return metric


for _name in METRICS:
    globals()[_name] = _one(_name)


def scorecard(
    orders: Any, *, period: str = "month", today: str | date | None = None, tz: str = "UTC", **tables: Any
) -> pd.DataFrame:
    """The headline scorecard of the latest period holding orders (``complete`` False: to date)."""
    with _source({"orders": orders, **{k: v for k, v in tables.items() if v is not None}}) as src:
        result = service.scorecard(src, period=period, today=_date(today), tz=tz)
        return pd.DataFrame.from_records(result.records)


def rfm_summary(
    orders: Any,
    *,
    observation_end: str | date,
    calibration_end: str | date | None = None,
    time_unit: Literal["D", "W"] = "D",
    tz: str = "UTC",
) -> pd.DataFrame:
    """Per customer frequency, recency, T, monetary value (lifetimes' convention); see core.metrics.rfm."""
    end = _date(observation_end)
    assert end is not None  # a str or a date, never None (the signature)
    with _source({"orders": orders}) as src:
        expr = _rfm(
            src.table("orders"),
            observation_end=end,
            calibration_end=_date(calibration_end),
            time_unit=time_unit,  # also checked at run time: a notebook may pass any text
            tz=tz,
        )
        frame: pd.DataFrame = src.backend.to_pandas(expr.order_by("customer_id"))
        return frame
