"""Simulated customer bases with known parameters (numpy only), for recovery and property tests."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest


def simulate_bgnbd(n: int, r: float, alpha: float, a: float, b: float, T: float, seed: int = 0) -> pd.DataFrame:
    """BG/NBD customers all observed for ``T`` (continuous time): frequency, recency, T."""
    rng = np.random.default_rng(seed)
    lam = rng.gamma(r, 1.0 / alpha, n)
    p = rng.beta(a, b, n)
    freq, rec = np.zeros(n), np.zeros(n)
    alive = np.ones(n, bool)
    clock = np.zeros(n)
    while alive.any():
        clock[alive] += rng.exponential(1.0 / np.maximum(lam[alive], 1e-300))
        bought = alive & (clock <= T)
        freq[bought] += 1
        rec[bought] = clock[bought]
        alive = bought & (rng.random(n) >= p)
    return pd.DataFrame({"frequency": freq, "recency": rec, "T": np.full(n, T)})


@pytest.fixture(scope="session")
def bgnbd_sample() -> pd.DataFrame:
    return simulate_bgnbd(4000, r=0.5, alpha=6.0, a=0.8, b=2.5, T=40.0, seed=7)


@pytest.fixture(scope="session")
def simulate():
    return simulate_bgnbd
