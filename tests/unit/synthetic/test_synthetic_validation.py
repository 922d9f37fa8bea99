"""The importer's own row validation accepts every generated row (typed Arrow input)."""

from __future__ import annotations

import pytest

from aftersales.core.contract import TABLES
from aftersales.core.synthetic import SyntheticStore
from aftersales.core.validation import validate


@pytest.mark.parametrize("name", sorted(TABLES))
def test_every_generated_row_passes_contract_validation(synthetic_store: SyntheticStore, name: str) -> None:
    table = synthetic_store.tables[name].slice(0, 5_000)
    result = validate(TABLES[name], table.to_pandas())
    assert result.reasons.empty, (name, result.reasons.head().tolist())
    assert len(result.valid) == table.num_rows
