"""``services.scores.refresh_scores`` on CDNOW through the engine adapter, with the in-memory unit of
work: the scores come back from the engine as Arrow (no temporary file) and equal ``predict_clv``'s."""

from __future__ import annotations

import importlib.util
import sys
import tempfile
from datetime import date
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from aftersales.adapters.sources.table_files import write_table
from aftersales.core.clv.options import ClvOptions
from aftersales.services.analytical.clv import predict_clv
from aftersales.services.analytical.scores import refresh_scores

CAL_END = date(1997, 9, 30)


def _fakes() -> Any:
    # The suite imports in importlib mode: load the service fakes (tests/unit/services/fakes.py) by path.
    name = "aftersales_tests_service_fakes"
    if name not in sys.modules:
        path = Path(__file__).resolve().parents[2] / "unit" / "services" / "fakes.py"
        spec = importlib.util.spec_from_file_location(name, path)
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name]


def test_refresh_stores_the_predicted_scores_without_a_temporary_file(cdnow_source, tmp_path, monkeypatch):
    options = ClvOptions(calibration_end=CAL_END, horizon=26, margin=0.3)
    out = tmp_path / "scores.parquet"
    predicted = predict_clv(cdnow_source, options, out=out, write=write_table)
    want = pd.read_parquet(out).set_index("customer_id").sort_index()

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "no-such-dir"))  # a temporary file would fail
    uow = _fakes().FakeUnitOfWorkFactory()
    result = refresh_scores(uow, cdnow_source, options)
    stored = pd.DataFrame([vars(r) for r in uow.store.state.scores.values()]).set_index("customer_id").sort_index()
    assert result.n_scored == result.n_new == len(stored) == predicted.n_customers == 2357
    assert result.risk_tiers == predicted.tiers and result.total_clv == pytest.approx(predicted.total_clv)
    cols = ["p_alive", "expected_purchases", "expected_spend", "clv", "risk_tier"]
    pd.testing.assert_frame_equal(stored[cols], want[cols], check_exact=False, rtol=1e-12)
    assert set(stored["horizon"]) == {26.0} and set(stored["time_unit"]) == {"week"}
