"""Notebook facade: evaluate or preview a segment definition on dataframes, Parquet files or the store.

A definition is the text form (``where``) or the JSON form (``definition``) of docs/segments.md.
The profiles come from ``profiles=`` (a pandas / polars dataframe, an Arrow table or a Parquet path,
with the ``customer_profiles`` columns a definition names), with behaviour tables as keywords
(``orders=``, ``order_lines=``, ``products=``, ``events=``, ``product_registrations=``); without
``profiles`` the store's profiles are read (``db``, else the settings' store). ``now`` defaults to
the current time. Everything runs on DuckDB (or the store's engine); nothing is saved.

>>> import pandas as pd
>>> profiles = pd.DataFrame({"customer_id": ["a", "b", "c"], "orders": [1, 4, 2],
...                          "email_consent": [True, True, False]})
>>> evaluate("orders >= 2 and email_consent", profiles=profiles)["customer_id"].tolist()
['b']
>>> p = preview({"field": "orders", "op": ">=", "value": 2}, profiles=profiles)
>>> p.count, p.total, p.where, [r["customer_id"] for r in p.sample]
(2, 3, 'orders >= 2', ['b', 'c'])
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

import pandas as pd

from aftersales import bootstrap
from aftersales.services.operational import segments as service
from aftersales.services.operational.segment_evaluation import PROFILES, Preview, read_definition, utc

__all__ = ["Preview", "evaluate", "preview"]


def _frame(value: Any) -> Any:
    if isinstance(value, str | Path):
        import pyarrow.parquet as pq

        return pq.read_table(value)
    return value


def _source(profiles: Any, db: str | None, tables: Mapping[str, Any]) -> Any:
    given = {k: _frame(v) for k, v in tables.items() if v is not None}
    if profiles is None:
        if given:
            raise ValueError("behaviour tables need profiles= too (or neither, to read the store)")
        return bootstrap.open_source(db=db)
    return bootstrap.open_frames({PROFILES: _frame(profiles), **given})


def _spelled(definition: str | Mapping[str, Any]) -> dict[str, Any]:
    return {"where": definition} if isinstance(definition, str) else {"definition": dict(definition)}


def evaluate(
    definition: str | Mapping[str, Any],
    *,
    now: datetime | None = None,
    profiles: Any = None,
    db: str | None = None,
    **tables: Any,
) -> pd.DataFrame:
    """The profile rows of the segment at ``now`` (every profile column), in customer id order."""
    condition = read_definition(**_spelled(definition))
    with _source(profiles, db, tables) as src:
        members = service.segment_members(src, condition, utc(now)).order_by("customer_id")
        frame: pd.DataFrame = src.to_arrow(members).to_pandas()
        return frame


def preview(
    definition: str | Mapping[str, Any],
    *,
    now: datetime | None = None,
    limit: int = 10,
    profiles: Any = None,
    db: str | None = None,
    **tables: Any,
) -> Preview:
    """How many profiles the definition selects (of how many), and the first ``limit`` by customer id."""
    with _source(profiles, db, tables) as src:
        return service.preview(src, **_spelled(definition), now=now, limit=limit)
