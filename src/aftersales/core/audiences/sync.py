"""Mirror sync of an audience to a destination: what to add and remove, in batches, each with a body
the destination can deduplicate.

The store keeps, per destination and segment, what the destination last *acknowledged* per customer:
a fingerprint of the record it holds (``fingerprint = sha256(canonical JSON of the record)``). A sync
compares the segment's members now (after consent, :mod:`.layouts`) with that state:

* **add** a customer who is not there, or whose record changed (new e-mail, consent to SMS given or
  withdrawn: the fingerprint differs);
* **remove** a customer who is there but no longer a member (or no longer leaves: consent withdrawn
  from every identifier).

The changes go in batches of at most ``size`` (adds first, then removes; each in customer order).
Each batch gets an idempotency key when it is planned, is sent with that key, and is sent again with
the *same* key and body until the destination acknowledges it; only then does the state move. A
destination that applied a batch but whose answer was lost sees the key again and ignores it, so a
retried sync never applies anything twice.

>>> desired = {"c1": record("c1", "a@x.io", None), "c2": record("c2", None, "+14155552671")}
>>> adds, removes = diff(desired, {"c2": fingerprint(desired["c2"]), "c3": "old"})
>>> [a["customer_id"] for a in adds], removes
(['c1'], ['c3'])
>>> [(len(b.adds), len(b.removes)) for b in plan_batches(adds * 3, removes, 2)]
[(2, 0), (1, 1)]
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from aftersales.core.audiences.identifiers import sha256_hex

__all__ = ["BatchPlan", "acknowledged_ops", "batch_body", "diff", "fingerprint", "plan_batches", "record"]

Record = dict[str, str]


def record(customer_id: str, email: str | None, phone: str | None) -> Record:
    """What a destination holds for one customer: its id and the identifiers that may leave."""
    out = {"customer_id": customer_id}
    if email is not None:
        out["email"] = email
    if phone is not None:
        out["phone"] = phone
    return out


def _canonical(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), sort_keys=True, ensure_ascii=False)


def fingerprint(rec: Mapping[str, str]) -> str:
    """SHA-256 of the record's canonical JSON (sorted keys, no spaces, UTF-8)."""
    return sha256_hex(_canonical(rec))


def diff(desired: Mapping[str, Record], state: Mapping[str, str]) -> tuple[list[Record], list[str]]:
    """(records to add or update, customer ids to remove), each in customer order."""
    adds = [desired[c] for c in sorted(desired) if state.get(c) != fingerprint(desired[c])]
    removes = sorted(c for c in state if c not in desired)
    return adds, removes


@dataclass(frozen=True)
class BatchPlan:
    adds: tuple[Record, ...]
    removes: tuple[str, ...]


def plan_batches(adds: Sequence[Record], removes: Sequence[str], size: int) -> list[BatchPlan]:
    """The changes cut into batches of at most ``size`` changes, adds first."""
    if size < 1:
        raise ValueError("batch size must be at least 1")
    ops: list[tuple[str, Any]] = [("add", a) for a in adds] + [("remove", r) for r in removes]
    plans = []
    for start in range(0, len(ops), size):
        chunk = ops[start : start + size]
        plans.append(BatchPlan(tuple(v for k, v in chunk if k == "add"), tuple(v for k, v in chunk if k == "remove")))
    return plans


def batch_body(
    batch_id: str,
    *,
    destination_id: str,
    segment_id: str,
    segment: str,
    sequence: int,
    created_at: str,
    plan: BatchPlan,
) -> str:
    """The JSON body of one batch (compact, sorted keys): what is signed, sent and resent unchanged.

    ``removes`` carries customer ids only: the destination already holds their records.
    """
    body = {
        "id": batch_id,
        "type": "audience.sync",
        "created_at": created_at,
        "destination_id": destination_id,
        "segment_id": segment_id,
        "segment": segment,
        "sequence": sequence,
        "adds": list(plan.adds),
        "removes": [{"customer_id": c} for c in plan.removes],
    }
    return _canonical(body)


def acknowledged_ops(body: str) -> tuple[list[tuple[str, str]], list[str]]:
    """From a batch body: the (customer id, fingerprint) pairs it adds and the ids it removes, which
    become the destination's state once it acknowledges the batch."""
    data = json.loads(body)
    adds = [(a["customer_id"], fingerprint(a)) for a in data["adds"]]
    return adds, [r["customer_id"] for r in data["removes"]]
