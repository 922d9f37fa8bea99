"""The driver regression's edge cases: what cannot be identified is a ConvergenceError, the words."""

from __future__ import annotations

import numpy as np
import pytest

from aftersales.core.errors import ConvergenceError
from aftersales.core.surveys.drivers import CoefficientEstimate, drivers_from_sums, sums_from_arrays, sums_from_row


def test_unidentifiable_regressions_are_refused() -> None:
    rng = np.random.default_rng(1)
    x = rng.integers(1, 8, size=(50, 2)).astype(float)
    with pytest.raises(ConvergenceError, match="cannot fit"):
        drivers_from_sums(sums_from_arrays(x[:3], x[:3, 0]), ("a", "b"))
    with pytest.raises(ConvergenceError, match="never varies"):
        drivers_from_sums(sums_from_arrays(x, np.full(50, 4.0)), ("a", "b"))
    with pytest.raises(ConvergenceError, match="combination"):
        drivers_from_sums(sums_from_arrays(np.column_stack([x[:, 0], 2 * x[:, 0]]), x[:, 1]), ("a", "b"))
    with pytest.raises(ConvergenceError, match="combination"):
        drivers_from_sums(sums_from_arrays(np.column_stack([x[:, 0], np.full(50, 3.0)]), x[:, 1]), ("a", "b"))


def test_the_engine_row_and_in_memory_sums_agree() -> None:
    rng = np.random.default_rng(2)
    x = rng.integers(1, 8, size=(40, 2)).astype(float)
    y = x.sum(axis=1) + rng.normal(size=40)
    m = sums_from_arrays(x, y).matrix
    row = {"n": m[0, 0], **{f"s_{i}_{j}": m[i, j] for i in range(4) for j in range(i, 4) if (i, j) != (0, 0)}}
    assert np.array_equal(sums_from_row(row, 2).matrix, m)


def test_plain_words_say_when_the_interval_holds_zero() -> None:
    clear = CoefficientEstimate("shipping", 0.42, 0.02, 0.38, 0.46, 21.0, 0.0, 0.31)
    vague = CoefficientEstimate("returns", 0.01, 0.02, -0.03, 0.05, 0.5, 0.6, 0.01)
    assert clear.plain() == (
        "A one-point better shipping score goes with a 0.42-point higher overall score (95% interval 0.38 to 0.46), "
        "other answers equal; it accounts for 31% of the variation in the overall score."
    )
    assert vague.plain().startswith(
        "returns shows no clear link with the overall score: the 95% interval -0.03 to 0.05"
    )
