"""Training on a stratified sample: the sample keeps the population's positive share, is the same on
every run, and its features, computed on the sampled customers alone, equal the full frame's rows."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import numpy as np
import pandas as pd
import pytest

from aftersales.adapters.engines import open_dataframes
from aftersales.core.synthetic import generate_store
from aftersales.services.analytical.lookalike import LookalikeOptions, _Frames, _stratified, lookalike_scores

NOW = datetime(2025, 1, 1, tzinfo=UTC)
PAST = NOW - timedelta(days=365)


@pytest.fixture(scope="module")
def tables():
    return generate_store(3_000, seed=4, as_of=date(2025, 1, 1)).tables


def test_the_sample_takes_each_class_at_the_same_rate() -> None:
    positive = np.zeros(10_000, dtype=bool)
    positive[::5] = True  # 20 %
    chosen = _stratified(positive, 1_000)
    assert chosen.size == np.unique(chosen).size == 1_000 and np.all(np.diff(chosen) > 0)
    assert int(positive[chosen].sum()) == 200
    assert np.array_equal(chosen, _stratified(positive, 1_000))  # seeded
    rare = np.zeros(10_000, dtype=bool)
    rare[7] = True
    assert int(rare[_stratified(rare, 100)].sum()) == 1  # a class that exists is never sampled away
    assert _stratified(np.ones(50, dtype=bool), 10).size == 10


def test_sampled_features_equal_the_full_frames_rows(tables) -> None:
    with open_dataframes(tables) as source:
        full = _Frames(source, LookalikeOptions())
        x_all, y_all, n_all, pos_all = full.training(PAST, NOW)
        sampled = _Frames(source, LookalikeOptions(max_training_rows=800))
        x, y, n, positives = sampled.training(PAST, NOW)
        assert PAST not in sampled._frames  # the past cut-off's full frame was never extracted
        again = _Frames(source, LookalikeOptions(max_training_rows=800)).training(PAST, NOW)[0]
    assert (n, positives) == (n_all, pos_all) == (len(x_all), int(y_all.sum())) and n > 1_500
    assert len(x) == 800 and int(y.sum()) == round(800 * positives / n)
    pd.testing.assert_frame_equal(x, again)
    rows = x_all[x_all.customer_id.isin(x.customer_id)].reset_index(drop=True)
    pd.testing.assert_frame_equal(x, rows)
    assert np.array_equal(y, y_all[x_all.customer_id.isin(x.customer_id).to_numpy()])


def test_scores_from_a_sampled_fit_cover_everyone(tables) -> None:
    with open_dataframes(tables) as source:
        scores = lookalike_scores(source, NOW, LookalikeOptions(max_training_rows=800))
    assert scores.num_rows == tables["customers"].num_rows
    p = scores["lookalike_score"].to_numpy()
    assert p.min() >= 0.0 and p.max() <= 1.0 and p.std() > 0.05
