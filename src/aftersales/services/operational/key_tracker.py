"""Which natural keys a file has already shown, in memory that stays small as the file grows.

Each key is kept as a 64-bit digest with a 64-bit digest of its row's values and the row number
(24 bytes per distinct key, in sorted numpy runs merged like a log-structured merge tree: a lookup is
a binary search per run, and there are at most log2(keys) runs).

>>> import pandas as pd
>>> t = KeyTracker()
>>> keys = pd.DataFrame({"id": ["a", "b", "a"]}, index=[1, 2, 3])
>>> rows = pd.DataFrame({"id": ["a", "b", "a"], "v": [1, 2, 9]}, index=[1, 2, 3])
>>> repeat, conflicts = t.check(keys, rows)
>>> repeat.tolist(), conflicts.tolist()
([False, False, False], ["conflicting duplicate: same key (id='a') as row 1 with other values"])
>>> repeat, conflicts = t.check(keys.iloc[[1]], rows.iloc[[1]])   # row 2 again, in a later batch
>>> repeat.tolist(), conflicts.tolist()
([True], [])
"""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["KeyTracker"]


def _digest(frame: pd.DataFrame) -> np.ndarray:
    return pd.util.hash_pandas_object(frame.astype(str), index=False).to_numpy(dtype=np.uint64)


class KeyTracker:
    """Remembers, per natural key seen in a file, a digest of its values and its first row number."""

    def __init__(self) -> None:
        self._runs: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []  # (sorted keys, row digests, rows)

    def __len__(self) -> int:
        return sum(len(r[0]) for r in self._runs)

    def _find(self, keys: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        found = np.zeros(len(keys), dtype=bool)
        digest = np.zeros(len(keys), dtype=np.uint64)
        row = np.zeros(len(keys), dtype=np.int64)
        for run_keys, run_digest, run_row in self._runs:
            pos = np.minimum(np.searchsorted(run_keys, keys), len(run_keys) - 1)
            hit = (run_keys[pos] == keys) & ~found
            found |= hit
            digest[hit] = run_digest[pos[hit]]
            row[hit] = run_row[pos[hit]]
        return found, digest, row

    def _add(self, keys: np.ndarray, digest: np.ndarray, row: np.ndarray) -> None:
        if len(keys) == 0:
            return
        order = np.argsort(keys, kind="stable")
        self._runs.append((keys[order], digest[order], row[order]))
        while len(self._runs) > 1 and len(self._runs[-1][0]) * 2 >= len(self._runs[-2][0]):
            a, b = self._runs.pop(), self._runs.pop()
            merged = [np.concatenate([x, y]) for x, y in zip(b, a, strict=True)]
            order = np.argsort(merged[0], kind="stable")
            self._runs.append((merged[0][order], merged[1][order], merged[2][order]))

    def check(self, keys: pd.DataFrame, frame: pd.DataFrame) -> tuple[pd.Series, pd.Series]:
        """(identical-repeat mask, conflict reasons) for the rows of ``frame``; remembers their keys.

        A row whose key was seen before, in an earlier batch or earlier in this one, is an identical
        repeat when its values are the same and a conflicting duplicate when they differ.
        """
        key_hash, row_hash = _digest(keys), _digest(frame)
        rows = frame.index.to_numpy(dtype=np.int64)
        found, seen_digest, seen_row = self._find(key_hash)
        first = ~pd.Series(key_hash).duplicated(keep="first").to_numpy() & ~found
        self._add(key_hash[first], row_hash[first], rows[first])
        # later rows of this batch compare with the first row of their key in the batch
        in_batch = ~found & ~first
        if in_batch.any():
            _, seen_digest[in_batch], seen_row[in_batch] = self._find(key_hash[in_batch])
        later = ~first
        repeat = pd.Series(later & (seen_digest == row_hash), index=frame.index)
        conflict = later & (seen_digest != row_hash)
        if not conflict.any():
            return repeat, pd.Series(dtype=object)
        shown = keys[conflict].astype(str).apply(lambda r: ", ".join(f"{c}={v!r}" for c, v in r.items()), axis=1)
        first_rows = pd.Series(seen_row[conflict], index=shown.index).astype(str)
        reasons = "conflicting duplicate: same key (" + shown + ") as row " + first_rows + " with other values"
        return repeat, reasons
