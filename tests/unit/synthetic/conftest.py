"""One synthetic store per test session (generation is deterministic and takes well under a second)."""

from __future__ import annotations

from datetime import date

import pytest

from aftersales.core.synthetic import SyntheticStore, generate_store

AS_OF = date(2025, 6, 1)


@pytest.fixture(scope="session")
def synthetic_store() -> SyntheticStore:
    return generate_store(20_000, seed=11, as_of=AS_OF)
