"""Metrics computed together from a shared, materialised stage equal the same metrics computed alone."""

from __future__ import annotations

from datetime import date

import pytest

from aftersales.adapters.engines import open_source
from aftersales.core.metrics.registry import METRICS
from aftersales.services.analytical.metrics import compute

STAGED = sorted(n for n, spec in METRICS.items() if spec.stage is not None)


def test_the_scorecard_metrics_share_two_stages():
    assert {METRICS[n].stage.key for n in STAGED} == {"retention", "activity"}
    assert len(STAGED) == 7


@pytest.mark.parametrize("opts", [{"period": "quarter", "tz": "Europe/Oslo"}, {"period": "month", "by": "channel"}])
def test_shared_stage_equals_one_metric_at_a_time(store_dir, opts):
    with open_source(str(store_dir)) as src:
        together = compute(src, STAGED, end=date(2024, 1, 1), span=3, **opts)
        assert not [t for t in src.backend.list_tables() if "cache" in t]  # the stages were released
        alone = [r for n in STAGED for r in compute(src, [n], end=date(2024, 1, 1), span=3, **opts).records]
    assert not together.errors
    assert len(together.records) == len(alone)
    for a, b in zip(together.records, alone, strict=True):
        assert a.keys() == b.keys()
        assert {k: pytest.approx(v, rel=1e-12) if isinstance(v, float) else v for k, v in a.items()} == b
    assert {r["metric"] for r in alone} == set(STAGED)
    assert any(r["value"] is not None for r in alone)
