"""The import use case: stream batches from a source, validate them, write them, set bad rows aside.

Guarantees (docs/importing.md):

- every batch is validated against the contract; each bad row goes to the reject sink with its
  original values, its row number and a reason, and the rest of the batch is committed;
- each batch is one transaction, parents before children, so an import killed halfway leaves a
  consistent store, and running it again completes it: rows are upserted on their natural keys, so
  nothing is duplicated and unchanged rows are counted as unchanged;
- rows that share a key inside one file must agree: a later row with the same key and different
  values is rejected as a conflicting duplicate; an identical repeat is skipped;
- the counts add up: ``read = inserted + updated + unchanged + duplicates + rejected`` for the
  primary table, rows the reader could not parse (a malformed CSV row, a line that is not JSON)
  included in ``read`` and ``rejected``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import Protocol

import pandas as pd

from aftersales.core import contract
from aftersales.core.validation import TimeRules, validate
from aftersales.services.operational.key_tracker import KeyTracker

__all__ = [
    "ImportResult",
    "ImportStore",
    "ImportTransaction",
    "RejectSink",
    "SourceBatch",
    "TableCounts",
    "run_import",
]


@dataclass
class SourceBatch:
    """A batch read from a source.

    ``raw``: the original values (index = 1-based row number in the file, header excluded);
    ``tables``: contract-named frames derived from it, each indexed by the row it came from;
    ``groups``: optional row -> group key; a bad row rejects its whole group (e.g. one order's lines);
    ``rejects``: rows the reader could not even parse, with reasons.
    """

    raw: pd.DataFrame
    tables: dict[str, pd.DataFrame]
    groups: pd.Series | None = None
    rejects: dict[int, str] = field(default_factory=dict)


@dataclass
class TableCounts:
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0

    def add(self, other: TableCounts) -> None:
        self.inserted += other.inserted
        self.updated += other.updated
        self.unchanged += other.unchanged


@dataclass
class ImportResult:
    """What an import did. ``rejected > 0`` means partial success (CLI exit code 3)."""

    table: str
    read: int = 0
    rejected: int = 0
    duplicates: int = 0
    created_customers: int = 0
    tables: dict[str, TableCounts] = field(default_factory=dict)
    rejected_path: str | None = None
    ignored_columns: tuple[str, ...] = ()
    assumed_timezone: str | None = None  # zone given to time stamps that had none (opt-in)

    @property
    def inserted(self) -> int:
        return self.tables.get(self.table, TableCounts()).inserted

    @property
    def updated(self) -> int:
        return self.tables.get(self.table, TableCounts()).updated

    @property
    def unchanged(self) -> int:
        return self.tables.get(self.table, TableCounts()).unchanged


class ImportTransaction(Protocol):
    def existing_keys(self, table: str, column: str, values: list[str]) -> set[str]: ...

    def upsert(self, table: str, frame: pd.DataFrame) -> TableCounts: ...


class ImportStore(Protocol):
    def transaction(self) -> AbstractContextManager[ImportTransaction]: ...


class RejectSink(Protocol):
    path: str

    def write(self, raw: pd.DataFrame, reasons: pd.Series) -> None: ...


def _write_order(names: list[str]) -> list[str]:
    """Parents before children (the contract's foreign keys)."""
    done: list[str] = []

    def visit(n: str) -> None:
        if n in done:
            return
        for parent, _ in contract.get_table(n).parents.values():
            if parent in names and parent != n:
                visit(parent)
        done.append(n)

    for n in names:
        visit(n)
    return done


def _expand_to_groups(bad_rows: pd.Index, groups: pd.Series | None) -> pd.Index:
    if groups is None or bad_rows.empty:
        return bad_rows
    bad_groups = set(groups.loc[groups.index.intersection(bad_rows)])
    return groups.index[groups.isin(bad_groups)].union(bad_rows)


def run_import(
    table: str,
    batches: Iterator[SourceBatch],
    store: ImportStore,
    rejects: RejectSink,
    *,
    create_missing_customers: bool = False,
    on_batch: Callable[[ImportResult], None] | None = None,
    times: TimeRules | None = None,
) -> ImportResult:
    """Import ``batches`` whose primary table is ``table``; see the module docstring for guarantees.

    ``times``: how time stamps without a zone and date-only values are read (default: rejected / UTC).
    """
    times = times or TimeRules()
    result = ImportResult(table=table, rejected_path=rejects.path, assumed_timezone=times.naive_zone)
    tracker = KeyTracker()
    for batch in batches:
        # rows the reader could not parse at all may be missing from ``raw``; they were read all the same
        result.read += len(batch.raw.index.union(pd.Index(list(batch.rejects), dtype="int64")))
        reasons: dict[int, list[str]] = {r: [m] for r, m in batch.rejects.items()}

        def reject(rows: pd.Series, prefix: str = "", _reasons: dict[int, list[str]] = reasons) -> None:
            for r, m in zip(rows.index.astype("int64").tolist(), rows.tolist(), strict=True):
                _reasons.setdefault(r, []).append(prefix + str(m))

        valid: dict[str, pd.DataFrame] = {}
        for name in _write_order(list(batch.tables)):
            t = contract.get_table(name)
            unread = batch.tables[name].index.isin(list(batch.rejects))  # the reader already said why
            checked = validate(t, batch.tables[name][~unread], times)
            reject(checked.reasons, "" if name == table else f"{name}: ")
            frame = checked.valid
            if name == table:
                repeat, conflicts = tracker.check(frame[list(t.key)], frame)
                result.duplicates += int(repeat.sum())
                reject(conflicts)
                frame = frame[~repeat & ~frame.index.isin(conflicts.index)]
            else:  # derived rows (e.g. a customer on several Shopify orders): the last one wins
                frame = frame[~frame.duplicated(list(t.key), keep="last")]
            valid[name] = frame

        with store.transaction() as tx:
            for name in _write_order(list(valid)):
                _check_parents(name, valid, batch.tables, tx, reject, result, create_missing_customers)
            bad = _expand_to_groups(pd.Index(sorted(reasons)), batch.groups)
            for name in _write_order(list(valid)):
                keep = valid[name][~valid[name].index.isin(bad)]
                counts = tx.upsert(name, keep) if not keep.empty else TableCounts()
                result.tables.setdefault(name, TableCounts()).add(counts)
        _finish_batch(batch, reasons, bad, rejects, result)
        if on_batch is not None:
            on_batch(result)
    result.tables.setdefault(table, TableCounts())
    return result


def _check_parents(
    name: str,
    valid: dict[str, pd.DataFrame],
    derived: dict[str, pd.DataFrame],
    tx: ImportTransaction,
    reject: Callable[..., None],
    result: ImportResult,
    create_missing_customers: bool,
) -> None:
    """Reject rows whose foreign keys point nowhere (neither in the store nor in this batch).

    A parent row of this batch that was itself rejected rejects its children through their group.
    """
    frame = valid[name]
    for col, (parent, pcol) in contract.get_table(name).parents.items():
        values = frame[col].dropna()
        if values.empty:
            continue
        known = set(derived[parent][pcol].dropna()) if parent in derived else set()
        wanted = sorted(set(values) - known)
        missing = set(wanted) - tx.existing_keys(parent, pcol, wanted) if wanted else set()
        if not missing:
            continue
        if parent == "customers" and create_missing_customers:
            stub = pd.DataFrame({"customer_id": sorted(missing)})
            result.created_customers += tx.upsert(
                "customers", validate(contract.get_table("customers"), stub).valid
            ).inserted
            continue
        orphan = values[values.isin(missing)]
        hint = " (import customers first or pass --create-missing-customers)" if parent == "customers" else ""
        reject(f"{col}: unknown {parent.removesuffix('s')} '" + orphan + "'" + hint)


def _finish_batch(
    batch: SourceBatch,
    reasons: dict[int, list[str]],
    bad: pd.Index,
    rejects: RejectSink,
    result: ImportResult,
) -> None:
    if bad.empty:
        return
    why = pd.Series(
        {r: "; ".join(reasons.get(int(r), ["rejected with the rest of its group"])) for r in bad}, dtype=object
    )
    rows = batch.raw.reindex(bad)  # rows the reader could not parse come back empty
    rejects.write(rows, why.loc[rows.index])
    result.rejected += len(rows)
