"""The in-file duplicate check against a plain dictionary, over random batches."""

from __future__ import annotations

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from aftersales.services.operational.key_tracker import KeyTracker

rows = st.lists(st.tuples(st.integers(0, 30), st.integers(0, 2)), min_size=0, max_size=120)


@pytest.mark.slow
@settings(max_examples=150, deadline=None)
@given(rows, st.integers(1, 40))
def test_matches_a_dictionary(data, batch):
    tracker, reference = KeyTracker(), {}
    for start in range(0, len(data), batch):
        part = data[start : start + batch]
        index = pd.RangeIndex(start + 1, start + 1 + len(part))
        frame = pd.DataFrame({"k": [str(k) for k, _ in part], "v": [v for _, v in part]}, index=index)
        repeat, conflicts = tracker.check(frame[["k"]], frame)
        for row, (k, v) in zip(index, part, strict=True):
            first = reference.setdefault(k, (v, row))
            if first[1] == row:
                assert not repeat[row] and row not in conflicts.index
            elif first[0] == v:
                assert repeat[row] and row not in conflicts.index
            else:
                assert not repeat[row]
                assert (
                    conflicts[row] == f"conflicting duplicate: same key (k='{k}') as row {first[1]} with other values"
                )
    assert len(tracker) == len(reference)
