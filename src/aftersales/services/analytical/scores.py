"""Stored CLV scores: refresh them from the store's orders, read them, announce churn-risk changes.

:func:`refresh_scores` runs the CLV service (``services.clv.predict_clv``: fit the purchase model on
every order up to the calibration end, score every customer with orders) on an analytical source
over the store, then upserts one row per customer into ``clv_scores`` in one transaction and drops
the scores of customers this run did not score (e.g. first orders after an earlier calibration end),
so the table always holds one consistent run. A customer
whose ``risk_tier`` differs from the stored one gets a ``customer.churn_risk_changed`` webhook
queued in that same transaction (the outbox: only committed scores are announced). A customer
scored for the first time has no previous tier, so nothing is announced for them.

The tier follows P(alive): ``high`` risk below 0.3, ``medium`` below 0.7, else ``low``
(``core.clv.value``: the tier names and bounds are defined there). The scores come back from the
engine as one Arrow table (``AnalyticalSource.to_arrow``), with no file in between.

>>> changed_tiers({"a": "low", "b": "high"}, [("a", "medium"), ("b", "high"), ("c", "low")])
[('a', 'low', 'medium')]
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime
from typing import Any

import numpy as np

from aftersales.core.clv.options import ClvOptions
from aftersales.core.clv.value import RISK_TIERS
from aftersales.core.errors import NotFoundError
from aftersales.core.events import CHURN_RISK_CHANGED
from aftersales.services.analytical import clv
from aftersales.services.operational import webhooks
from aftersales.services.operational.cursors import decode_cursor, encode_cursor
from aftersales.services.ports import AnalyticalSource, ScoreRecord, UnitOfWorkFactory

__all__ = ["RISK_TIERS", "RefreshResult", "changed_tiers", "customer_scores", "refresh_scores", "scores_page"]

EVENT = CHURN_RISK_CHANGED


@dataclass(frozen=True)
class RefreshResult:
    """What a refresh did, and the fit it scored with."""

    n_scored: int
    n_new: int
    n_updated: int
    n_removed: int
    n_tier_changed: int
    webhooks_queued: int
    risk_tiers: dict[str, int]
    model: str
    params: dict[str, float]
    spend_params: dict[str, float] | None
    calibration_end: date
    time_unit: str
    horizon: float
    total_clv: float
    mean_p_alive: float
    computed_at: datetime
    fit: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def changed_tiers(previous: Mapping[str, str], current: Iterable[tuple[str, str]]) -> list[tuple[str, str, str]]:
    """``(customer_id, previous tier, new tier)`` for every customer whose stored tier changed."""
    return [(c, previous[c], t) for c, t in current if c in previous and previous[c] != t]


def _plain(value: Any) -> Any:
    """Numpy scalars inside the fit report as Python numbers (JSON-ready)."""
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value.item() if hasattr(value, "item") and callable(value.item) else value


def _finite(values: Any, fill: float | None = None) -> list[float | None]:
    """A column of storable floats (vectorised): NaN/inf/NULL become ``fill``; subnormal magnitudes
    (which PostgreSQL's float8 rejects as out of range) become 0.0.

    >>> import pyarrow as pa
    >>> _finite(pa.array([1.5, None, float("nan"), float("inf"), 1e-310]), fill=0.0)
    [1.5, 0.0, 0.0, 0.0, 0.0]
    """
    a = np.asarray(values.to_numpy(zero_copy_only=False), dtype=np.float64)
    a = np.where(np.abs(a) < 1e-300, 0.0, a)
    ok = np.isfinite(a)
    out: list[float | None] = a.tolist()
    if not ok.all():
        out = [v if k else fill for v, k in zip(out, ok.tolist(), strict=True)]
    return out


def refresh_scores(
    uow: UnitOfWorkFactory,
    source: AnalyticalSource,
    options: ClvOptions | None = None,
    *,
    tz: str = "UTC",
    fitted: clv.ClvFitted | None = None,
) -> RefreshResult:
    """Fit and score every customer with orders in ``source`` (the store), upsert ``clv_scores`` and
    queue ``customer.churn_risk_changed`` for every tier that changed since the last refresh.
    ``fitted``: a fit already made on ``source`` (the profile build's), scored again instead of
    fitting anew when it is the fit ``options`` ask for (``clv.score_customers``)."""
    opt = options or ClvOptions()
    scored = clv.score_customers(source, opt, tz=tz, fitted=fitted)
    prediction = scored.prediction
    table = source.to_arrow(scored.table)
    time_unit, horizon = opt.time_unit, opt.horizon
    now = datetime.now(UTC)
    fit = prediction.fit
    model, end = fit.model_name, fit.calibration_end
    records = [
        ScoreRecord(cid, model, end, time_unit, float(horizon), p, n, s, v, tier, now)
        for cid, p, n, s, v, tier in zip(
            table.column("customer_id").to_pylist(),
            _finite(table.column("p_alive"), fill=0.0),
            _finite(table.column("expected_purchases"), fill=0.0),
            _finite(table.column("expected_spend")),
            _finite(table.column("clv")),
            table.column("risk_tier").to_pylist(),
            strict=True,
        )
    ]
    by_id = {r.customer_id: r for r in records}
    with uow() as u:
        previous = u.scores.tiers()
        changes = changed_tiers(previous, ((r.customer_id, r.risk_tier) for r in records))
        u.scores.upsert(records)
        removed = u.scores.delete_not_computed_at(now)
        payloads = [
            {
                "customer_id": cid,
                "previous_risk_tier": before,
                "risk_tier": after,
                "p_alive": by_id[cid].p_alive,
                "clv": by_id[cid].clv,
                "model": fit.model_name,
                "calibration_end": fit.calibration_end,
            }
            for cid, before, after in changes
        ]
        queued = webhooks.publish_many(u, EVENT, payloads)
    n_new = sum(1 for r in records if r.customer_id not in previous)
    tiers: dict[str, int] = {t: 0 for t in RISK_TIERS}
    for r in records:
        tiers[r.risk_tier] += 1
    return RefreshResult(
        n_scored=len(records),
        n_new=n_new,
        n_updated=len(records) - n_new,
        n_removed=removed,
        n_tier_changed=len(changes),
        webhooks_queued=len(queued),
        risk_tiers=tiers,
        model=fit.model_name,
        params={k: float(v) for k, v in fit.model.params_.items()},
        spend_params={k: float(v) for k, v in prediction.spend.params_.items()} if prediction.spend else None,
        calibration_end=fit.calibration_end,
        time_unit=time_unit,
        horizon=float(horizon),
        total_clv=prediction.total_clv,
        mean_p_alive=prediction.mean_p_alive,
        computed_at=now,
        fit=_plain(fit.as_dict()),
    )


def customer_scores(uow: UnitOfWorkFactory, customer_id: str) -> ScoreRecord:
    """The stored score of one customer (``NotFoundError`` when none was computed)."""
    with uow() as u:
        record = u.scores.get(customer_id)
    if record is None:
        raise NotFoundError(f"no CLV scores for customer {customer_id!r} (scores are stored by a refresh)")
    return record


def scores_page(
    uow: UnitOfWorkFactory, *, risk_tier: str | None = None, limit: int = 100, cursor: str | None = None
) -> dict[str, Any]:
    """One page of stored scores in customer_id order (optionally one risk tier) and the next cursor."""
    after = str(decode_cursor(cursor, (str,))[0]) if cursor else None
    with uow() as u:
        rows = u.scores.list(risk_tier=risk_tier, after=after, limit=limit + 1)
    more = len(rows) > limit
    rows = rows[:limit]
    return {"items": [asdict(r) for r in rows], "next_cursor": encode_cursor([rows[-1].customer_id]) if more else None}
