"""Use cases of lookalike / propensity: score every customer, and report who the high-value ones are.

The engine builds one feature row per customer at each cut-off (``core/lookalike/features.py``:
scans, joins and grouping over the contract tables); Python receives that per-customer frame and
fits the model on it. Three cut-offs, ``h`` = ``horizon_days`` apart (``docs/lookalike.md``):

* holdout check: train on features at ``now − 2h`` → top tier at ``now − h``; test on features at
  ``now − h`` → top tier at ``now``. Every label lies after its features, and the test period is
  later than anything the trained model saw (no look-ahead);
* scores: the same recipe moved one horizon on (features at ``now − h`` → tier at ``now``), applied
  to the features at ``now``: each customer's probability of being in the top tier at ``now + h``.

Too little data is not an error for the report as long as the profile can be built: the holdout
check is then left out with a note giving the counts. ``lookalike_scores`` raises
:class:`ValidationError` with the counts instead (a caller such as the profile build leaves the
column null and keeps the message as its reason).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any
from uuid import uuid4

import numpy as np

from aftersales.core.errors import FieldError, ValidationError
from aftersales.core.lookalike.effects import TraitEffect, profile
from aftersales.core.lookalike.features import (
    FeatureTables,
    customer_features,
    population,
    restricted,
    top_categories,
)
from aftersales.core.lookalike.frame import Encoder, tidy, top_tier
from aftersales.core.lookalike.model import HoldoutMetrics, fit_model, holdout_metrics
from aftersales.core.lookalike.options import (
    MIN_CUSTOMERS,
    MIN_HIGH_VALUE,
    MIN_NEGATIVES,
    MIN_POSITIVES,
    LookalikeOptions,
)
from aftersales.services.ports import AnalyticalSource

if TYPE_CHECKING:
    import pandas as pd
    import pyarrow as pa

__all__ = [
    "LookalikeCheck",
    "LookalikeOptions",
    "LookalikeReport",
    "UpgradeCandidate",
    "customer_feature_frame",
    "lookalike_report",
    "lookalike_scores",
]

OPTIONAL_TABLES = ("order_lines", "products", "product_registrations", "tickets", "survey_responses", "subscriptions")
CANDIDATES = 10


@dataclass(frozen=True)
class LookalikeCheck:
    """The time-based holdout: where it was cut, how the model was calibrated, how it scored.

    ``upgrade`` repeats the metrics on the customers *not* in the top tier at the test cut-off: the
    use case (finding customers who will move up), harder than re-finding those already there."""

    train_cutoff: datetime
    test_cutoff: datetime
    calibration: str
    train_customers: int
    train_positives: int
    holdout: HoldoutMetrics
    upgrade: HoldoutMetrics | None


@dataclass(frozen=True)
class UpgradeCandidate:
    customer_id: str
    lookalike_score: float
    revenue_365d: float


@dataclass(frozen=True)
class LookalikeReport:
    now: datetime
    horizon_days: int
    top_share: float
    customers: int  # with a counted order before now
    high_value: int  # of them, in the top tier now
    threshold: float  # trailing-year revenue at which the top tier starts
    traits: tuple[TraitEffect, ...]
    summary: tuple[str, ...]
    check: LookalikeCheck | None
    candidates: tuple[UpgradeCandidate, ...]
    notes: tuple[str, ...]

    def as_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["now"] = self.now.isoformat()
        if self.check is not None:
            out["check"]["train_cutoff"] = self.check.train_cutoff.isoformat()
            out["check"]["test_cutoff"] = self.check.test_cutoff.isoformat()
        return out


class _Frames:
    """Feature frames at cut-offs, each extracted once in the engine."""

    def __init__(self, source: AnalyticalSource, options: LookalikeOptions) -> None:
        present = {n: source.table(n) for n in OPTIONAL_TABLES if source.has_table(n)}
        self.tables = FeatureTables.from_mapping(
            {"customers": source.table("customers"), "orders": source.table("orders"), **present}
        )
        self.source, self.options = source, options
        self.categories: list[str] = []
        if self.tables.order_lines is not None and self.tables.products is not None and options.categories:
            expr = top_categories(self.tables.order_lines, self.tables.products, options.categories)
            self.categories = [str(r["category"]) for r in source.execute(expr)]
        self._frames: dict[datetime, pd.DataFrame] = {}

    def at(self, when: datetime) -> pd.DataFrame:
        if when not in self._frames:
            self._frames[when] = self._extract(self.tables, when)
        return self._frames[when]

    def _extract(self, tables: FeatureTables, when: datetime) -> pd.DataFrame:
        raw = self.source.to_arrow(customer_features(tables, when, self.categories)).to_pandas()
        return tidy(raw, when, self.categories).sort_values("customer_id", kind="stable").reset_index(drop=True)

    def tier(self, label_at: datetime) -> set[str]:
        later = self.at(label_at)
        return set(later.customer_id[top_tier(later, self.options.top_share)])

    def labelled(self, features_at: datetime, label_at: datetime) -> tuple[pd.DataFrame, np.ndarray]:
        """Features at ``features_at`` and, per row, whether the customer is in the top tier at ``label_at``."""
        x = self.at(features_at)
        return x, x.customer_id.isin(self.tier(label_at)).to_numpy()

    def training(self, features_at: datetime, label_at: datetime) -> tuple[pd.DataFrame, np.ndarray, int, int]:
        """A training set: ``(x, y, n, positives)`` with ``n`` and ``positives`` counted over the whole
        population at ``features_at``. Up to ``max_training_rows`` customers it is :meth:`labelled`;
        above, a **stratified sample**: positives and negatives each drawn at the same rate (seeded),
        so the sample's positive share equals the population's to one customer and the calibrated
        probabilities keep their meaning, and only the sampled customers' features are computed
        (:func:`~aftersales.core.lookalike.features.restricted`): the engine pass at the past cut-off
        then costs a fraction of a full one. A frame already extracted is sampled in place."""
        import pyarrow as pa
        import pyarrow.compute as pc

        tier = self.tier(label_at)
        if features_at in self._frames:
            ids = pa.array(self._frames[features_at].customer_id.astype(str), pa.string())
        else:
            ids = self.source.to_arrow(population(self.tables, features_at)).column(0).combine_chunks()
        ids = ids.take(pc.sort_indices(ids))  # a fixed order, so the seeded sample is the same every run
        positive = pc.is_in(ids, value_set=pa.array(sorted(tier), pa.string())).to_numpy(zero_copy_only=False)
        n, positives = len(ids), int(positive.sum())
        if n <= self.options.max_training_rows:
            x, y = self.labelled(features_at, label_at)
            return x, y, n, positives
        keep = ids.take(pa.array(_stratified(positive, self.options.max_training_rows)))
        if features_at in self._frames:
            frame = self._frames[features_at]
            x = frame[frame.customer_id.isin(keep.to_pylist())].reset_index(drop=True)
        else:
            sample = self.source.register(f"_lookalike_sample_{uuid4().hex}", pa.table({"customer_id": keep}))
            x = self._extract(restricted(self.tables, sample), features_at)
        return x, x.customer_id.isin(tier).to_numpy(), n, positives


def _stratified(positive: np.ndarray, size: int) -> np.ndarray:
    """Sorted indices of a seeded sample of ``size`` rows that takes positives and negatives at the same
    rate: ``round(size × share)`` positives (at least one of each class when the class exists)."""
    rng = np.random.default_rng(0)
    pos, neg = np.flatnonzero(positive), np.flatnonzero(~positive)
    k = min(pos.size, max(1 if pos.size else 0, round(size * pos.size / positive.size)))
    k = max(k, size - neg.size)
    picked = np.concatenate([rng.choice(pos, size=k, replace=False), rng.choice(neg, size=size - k, replace=False)])
    return np.sort(picked)


def _shortfall(n: int, positives: int, at: datetime, label_at: datetime, options: LookalikeOptions) -> str | None:
    negatives = n - positives
    if n >= MIN_CUSTOMERS and positives >= MIN_POSITIVES and negatives >= MIN_NEGATIVES:
        return None
    return (
        f"{n:,} customers had history at {at.date()} and {positives:,} of them were in the top "
        f"{options.top_share:.0%} CLV tier at {label_at.date()} ({negatives:,} were not); the model needs at "
        f"least {MIN_CUSTOMERS} customers, {MIN_POSITIVES} in the tier and {MIN_NEGATIVES} outside it"
    )


def _utc(now: datetime) -> datetime:
    if now.tzinfo is None:
        raise ValidationError("now must carry a time zone", [FieldError(("now",), "must carry a time zone")])
    return now.astimezone(UTC)


def _fit(frames: _Frames, x: pd.DataFrame, y: np.ndarray) -> tuple[Encoder, Any, str]:
    """Encoder and calibrated model on ``(x, y)``."""
    encoder = Encoder().fit(x)
    model, method = fit_model(encoder.transform(x), y, frames.options.threads)
    return encoder, model, method


def _scores(frames: _Frames, now: datetime) -> tuple[pd.DataFrame, np.ndarray]:
    """(features at ``now``, calibrated scores): trained on features at now − h → tier at now."""
    h = timedelta(days=frames.options.horizon_days)
    x, y, n, positives = frames.training(now - h, now)
    problem = _shortfall(n, positives, now - h, now, frames.options)
    if problem is not None:
        raise ValidationError(f"lookalike scores unavailable: {problem}", [FieldError(("now",), problem)])
    encoder, model, _ = _fit(frames, x, y)
    current = frames.at(now)
    return current, model.predict_proba(encoder.transform(current))[:, 1]


def customer_feature_frame(
    source: AnalyticalSource, at: datetime, options: LookalikeOptions | None = None
) -> pd.DataFrame:
    """The tidy per-customer feature frame at ``at`` (``core.lookalike.frame.tidy``), sorted by customer."""
    return _Frames(source, options or LookalikeOptions()).at(_utc(at))


def lookalike_scores(source: AnalyticalSource, now: datetime, options: LookalikeOptions | None = None) -> pa.Table:
    """``customer_id, lookalike_score``: each customer's calibrated probability of being in the top CLV
    tier one horizon after ``now``, from features as of ``now`` (every customer created or ordering
    before ``now``). Raises :class:`ValidationError` with the counts when the data are too few."""
    import pyarrow as pa

    frames = _Frames(source, options or LookalikeOptions())
    current, p = _scores(frames, _utc(now))
    return pa.table(
        {"customer_id": pa.array(current.customer_id.astype(str), pa.string()), "lookalike_score": pa.array(p)}
    )


def _summary(traits: list[TraitEffect], per_group: int = 2) -> tuple[str, ...]:
    """Per group of traits (activity, first order, categories, acquisition, registrations, NPS, ...), strongest
    group first: its (at most ``per_group``) traits with |SMD| >= 0.2 in words, or one line saying that
    nothing in it sets the high-value group apart."""
    groups: dict[str, list[TraitEffect]] = {}
    for t in traits:  # already ranked by |SMD|, so each group's list is too
        groups.setdefault(t.group, []).append(t)
    lines: list[str] = []
    for group, members in groups.items():
        strong = [t for t in members if abs(t.smd) >= 0.2]
        if strong:
            lines.extend(t.sentence for t in strong[:per_group])
        else:
            largest = max((abs(t.smd) for t in members if t.smd == t.smd), default=0.0)
            lines.append(f"Nothing in {group} sets them apart (largest standardised difference {largest:.2f}).")
    return tuple(lines)


def _check(frames: _Frames, now: datetime) -> tuple[LookalikeCheck | None, str | None]:
    h = timedelta(days=frames.options.horizon_days)
    c1, c2 = now - 2 * h, now - h
    x_train, y_train, n_train, positives_train = frames.training(c1, c2)
    problem = _shortfall(n_train, positives_train, c1, c2, frames.options)
    x_test, y_test = frames.labelled(c2, now)
    problem = problem or _shortfall(len(x_test), int(y_test.sum()), c2, now, frames.options)
    if problem is not None:
        return None, f"holdout check left out: {problem}"
    encoder, model, method = _fit(frames, x_train, y_train)
    p = model.predict_proba(encoder.transform(x_test))[:, 1]
    already = top_tier(x_test, frames.options.top_share).to_numpy()
    rest = ~already
    upgrade = None
    if 0 < int(y_test[rest].sum()) < int(rest.sum()):
        upgrade = holdout_metrics(y_test[rest], p[rest])
    check = LookalikeCheck(
        train_cutoff=c1,
        test_cutoff=c2,
        calibration=method,
        train_customers=n_train,
        train_positives=positives_train,
        holdout=holdout_metrics(y_test, p),
        upgrade=upgrade,
    )
    return check, None


def lookalike_report(
    source: AnalyticalSource, now: datetime, options: LookalikeOptions | None = None
) -> LookalikeReport:
    """The high-value profile at ``now``, the holdout check, and the below-average customers most likely to
    move up. Raises :class:`ValidationError` (with the counts) when fewer than ``MIN_HIGH_VALUE``
    customers are in the top tier; a check or scores that lack data are left out with a note."""
    options = options or LookalikeOptions()
    now = _utc(now)
    frames = _Frames(source, options)
    current = frames.at(now)
    buyers = current[current["orders"] > 0].reset_index(drop=True)
    high = top_tier(buyers, options.top_share).to_numpy()
    n_high = int(high.sum())
    if n_high < MIN_HIGH_VALUE or len(buyers) - n_high < MIN_HIGH_VALUE:
        message = (
            f"too few customers to profile: {len(buyers):,} customers have a counted order before {now.date()}, "
            f"{n_high:,} of them in the top {options.top_share:.0%} CLV tier; the profile needs at least "
            f"{MIN_HIGH_VALUE} in the tier and {MIN_HIGH_VALUE} outside it"
        )
        raise ValidationError(message, [FieldError(("now",), message)])
    traits = profile(buyers, high, frames.categories)
    threshold = float(buyers.revenue_365d[high].min())
    notes: list[str] = []
    check, note = _check(frames, now)
    if note:
        notes.append(note)
    candidates: tuple[UpgradeCandidate, ...] = ()
    try:
        scored, p = _scores(frames, now)
    except ValidationError as exc:
        notes.append(str(exc))
    else:
        below = (scored["orders"] > 0) & (scored["revenue_365d"] < buyers.revenue_365d.mean())
        idx = np.flatnonzero(below.to_numpy())
        best = idx[np.argsort(-p[idx], kind="stable")[:CANDIDATES]]
        candidates = tuple(
            UpgradeCandidate(str(scored.customer_id[i]), float(p[i]), float(scored.revenue_365d[i])) for i in best
        )
    if check is not None and check.holdout.auc < 0.6:
        notes.append(f"holdout AUC {check.holdout.auc:.2f}: the scores barely beat chance on this data")
    return LookalikeReport(
        now=now,
        horizon_days=options.horizon_days,
        top_share=options.top_share,
        customers=len(buyers),
        high_value=n_high,
        threshold=threshold,
        traits=tuple(traits),
        summary=_summary(traits),
        check=check,
        candidates=candidates,
        notes=tuple(notes),
    )
