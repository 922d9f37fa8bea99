"""``plan_power`` says what is missing in neutral words, located at the ``mde`` field (each entry point
names it in its own terms: ``--mde`` on the CLI)."""

from __future__ import annotations

import pytest

from aftersales.core.errors import ValidationError
from aftersales.services.analytical.experiments import plan_power


@pytest.mark.parametrize("given", [{}, {"mde": 0.05, "n": 1000.0}])
def test_neither_or_both_of_mde_and_n_is_a_located_error(given: dict) -> None:
    with pytest.raises(ValidationError, match="mde") as info:
        plan_power(0.2, **given)
    assert [e.loc for e in info.value.errors] == [("mde",)]
    assert "--" not in str(info.value)
