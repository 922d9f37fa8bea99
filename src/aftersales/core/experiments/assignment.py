"""Deterministic, sticky assignment of customers to variants and holdout groups.

A customer's bucket is a number in [0, 1) drawn from a hash, never from a random generator, so
the same (salt, experiment key, customer id) gives the same variant on every machine, in every
process, forever (sticky without storing anything)::

    u = int(blake2b(f"{salt}|{key}|{customer_id}", 8 bytes), big-endian) / 2**64
    variant = first v with u < (w_1 + ... + w_v) / (w_1 + ... + w_K)

Holdouts hash the customer under their own key (``"holdout|" + key``), so membership of a holdout
is independent of the variant a customer would get in any experiment.

**Changing weights requires a new salt.** Moving a boundary re-buckets every customer whose ``u``
lies between the old and new boundary: they would have been exposed to two variants, which biases
both. :func:`check_reassignment` refuses such a change unless the salt changes too (with a new
salt every customer is re-drawn, and the analysis must use only exposures after the change).

>>> exp = Experiment("winback-tone", ("control", "friendly", "urgent"), (2, 1, 1), salt="v1")
>>> exp.assign("c-42") == exp.assign("c-42")
True
>>> sorted(set(exp.assign_many([f"c{i}" for i in range(200)])))
['control', 'friendly', 'urgent']
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

import numpy as np

from aftersales.core.errors import ConflictError, ValidationError

__all__ = [
    "Experiment",
    "Exposure",
    "HoldoutGroup",
    "bucket",
    "check_reassignment",
    "expose",
]

_SCALE = float(2**64)


def bucket(salt: str, key: str, customer_id: str) -> float:
    """The customer's position in [0, 1) for ``key`` under ``salt`` (uniform, deterministic).

    >>> bucket("s", "exp", "c1") == bucket("s", "exp", "c1")
    True
    >>> 0.0 <= bucket("s", "exp", "c1") < 1.0
    True
    """
    digest = hashlib.blake2b(f"{salt}|{key}|{customer_id}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") / _SCALE


def _buckets(salt: str, key: str, customer_ids: Iterable[str]) -> np.ndarray:
    return np.fromiter((bucket(salt, key, str(c)) for c in customer_ids), dtype=np.float64)


@dataclass(frozen=True)
class HoldoutGroup:
    """A share of customers kept away from every action it guards (a global or per-journey holdout)."""

    key: str
    fraction: float
    salt: str = ""

    def __post_init__(self) -> None:
        if not 0.0 <= self.fraction < 1.0:
            raise ValidationError(f"holdout {self.key!r}: fraction must be in [0, 1), got {self.fraction}")

    def contains(self, customer_id: str) -> bool:
        """True when the customer is held out."""
        return bucket(self.salt, f"holdout|{self.key}", str(customer_id)) < self.fraction

    def contains_many(self, customer_ids: Iterable[str]) -> np.ndarray:
        return _buckets(self.salt, f"holdout|{self.key}", customer_ids) < self.fraction


@dataclass(frozen=True)
class Experiment:
    """An experiment: key, variant names (the first is the control), relative weights and a salt."""

    key: str
    variants: tuple[str, ...]
    weights: tuple[float, ...] = ()
    salt: str = ""
    _edges: np.ndarray = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        variants = tuple(str(v) for v in self.variants)
        if len(variants) < 2:
            raise ValidationError(f"experiment {self.key!r}: needs at least two variants, got {len(variants)}")
        if len(set(variants)) != len(variants):
            raise ValidationError(f"experiment {self.key!r}: variant names must be unique")
        weights = tuple(float(w) for w in self.weights) or (1.0,) * len(variants)
        if len(weights) != len(variants):
            raise ValidationError(f"experiment {self.key!r}: {len(weights)} weights for {len(variants)} variants")
        if any(not np.isfinite(w) or w < 0 for w in weights) or sum(weights) <= 0:
            raise ValidationError(f"experiment {self.key!r}: weights must be non-negative with a positive sum")
        object.__setattr__(self, "variants", variants)
        object.__setattr__(self, "weights", weights)
        edges = np.cumsum(weights) / sum(weights)
        edges[-1] = 1.0  # guard against rounding leaving a sliver above the last edge
        object.__setattr__(self, "_edges", edges)

    @property
    def shares(self) -> tuple[float, ...]:
        """Expected share of traffic per variant (the weights normalised to sum to one)."""
        total = sum(self.weights)
        return tuple(w / total for w in self.weights)

    def assign(self, customer_id: str) -> str:
        """The variant of one customer."""
        return self.assign_many([customer_id])[0]

    def assign_many(self, customer_ids: Sequence[str] | Iterable[str]) -> list[str]:
        """Variants of many customers, in order."""
        u = _buckets(self.salt, self.key, customer_ids)
        idx = np.searchsorted(self._edges, u, side="right")
        return [self.variants[i] for i in idx]


def check_reassignment(previous: Experiment, updated: Experiment) -> None:
    """Refuse a change of weights or variants that keeps the salt (it would move exposed customers).

    >>> old = Experiment("e", ("a", "b"), (1, 1), salt="v1")
    >>> check_reassignment(old, Experiment("e", ("a", "b"), (1, 1), salt="v1"))
    >>> check_reassignment(old, Experiment("e", ("a", "b"), (3, 1), salt="v2"))
    >>> check_reassignment(old, Experiment("e", ("a", "b"), (3, 1), salt="v1"))
    Traceback (most recent call last):
    ...
    aftersales.core.errors.ConflictError: experiment 'e': weights or variants changed under the same salt 'v1'; \
a re-weighted experiment needs a new salt (and a new analysis window)
    """
    changed = previous.shares != updated.shares or previous.variants != updated.variants
    if previous.key == updated.key and previous.salt == updated.salt and changed:
        raise ConflictError(
            f"experiment {updated.key!r}: weights or variants changed under the same salt {updated.salt!r}; "
            "a re-weighted experiment needs a new salt (and a new analysis window)"
        )


@dataclass(frozen=True)
class Exposure:
    """One exposure record: who saw which variant of which experiment, when (time comes from the caller)."""

    experiment_key: str
    salt: str
    customer_id: str
    variant: str | None
    holdout: str | None
    exposed_at: datetime


def expose(
    experiment: Experiment,
    customer_ids: Iterable[str],
    exposed_at: datetime,
    holdouts: Sequence[HoldoutGroup] = (),
) -> list[Exposure]:
    """Exposure records for ``customer_ids``; customers in a holdout get ``variant=None``.

    >>> from datetime import UTC, datetime
    >>> exp = Experiment("survey-timing", ("day3", "day7"), salt="2026-11")
    >>> rows = expose(exp, ["c1", "c2"], datetime(2026, 11, 1, tzinfo=UTC), [HoldoutGroup("global", 0.0)])
    >>> [r.customer_id for r in rows], all(r.holdout is None for r in rows)
    (['c1', 'c2'], True)
    """
    ids = [str(c) for c in customer_ids]
    if exposed_at.tzinfo is None:
        raise ValidationError("exposed_at must be timezone-aware (UTC)")
    variants = experiment.assign_many(ids)
    held: list[str | None] = [None] * len(ids)
    for group in holdouts:
        mask = group.contains_many(ids)
        for i in np.flatnonzero(mask):
            held[i] = held[i] or group.key
    return [
        Exposure(experiment.key, experiment.salt, cid, None if h else v, h, exposed_at)
        for cid, v, h in zip(ids, variants, held, strict=True)
    ]
