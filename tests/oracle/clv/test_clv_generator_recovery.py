"""Parameter recovery on the synthetic store generator's truth (truth.json's ``bgnbd`` and ``gamma_gamma``).

The generator draws repeat purchases from BG/NBD in continuous time and order values from Gamma-Gamma;
its truth says every order row is one transaction and T runs from the first order. Fitting on those
exact sufficient statistics must recover the true parameters within sampling error.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

import numpy as np
import pytest

from aftersales.core.clv import BetaGeo, GammaGamma
from aftersales.core.synthetic import generate_store

AS_OF = date(2025, 1, 1)


@pytest.fixture(scope="module")
def store():
    s = generate_store(20_000, seed=3, as_of=AS_OF)
    orders = s.tables["orders"].select(["customer_id", "ordered_at", "revenue"]).to_pandas()
    end = datetime.combine(AS_OF, datetime.min.time(), tzinfo=UTC)
    weeks = (orders["ordered_at"] - end).dt.total_seconds() / (7 * 86400)
    g = orders.assign(week=weeks).groupby("customer_id")
    summary = g.agg(n=("week", "size"), first=("week", "min"), last=("week", "max"), m=("revenue", "mean"))
    return s.truth, summary.assign(
        frequency=summary["n"] - 1.0, recency=summary["last"] - summary["first"], T=-summary["first"]
    )


def _within(model, truth: dict, names: dict[str, str], k: float = 3.5) -> None:
    for ours, theirs in names.items():
        est, se = model.params_[ours], model.standard_errors_[ours]
        assert abs(est - truth[theirs]) < k * se, f"{ours}: {est:.4g} ± {se:.2g} vs truth {truth[theirs]}"


def test_bgnbd_recovers_the_generators_parameters(store):
    truth, summary = store
    model = BetaGeo().fit(summary)
    _within(model, truth["bgnbd"]["weeks"], {"r": "r", "alpha": "alpha", "a": "a", "b": "b"})


def test_gamma_gamma_recovers_the_generators_parameters(store):
    truth, summary = store
    spend = summary.assign(frequency=summary["n"], monetary_value=summary["m"])
    model = GammaGamma().fit(spend)
    _within(model, truth["gamma_gamma"], {"p": "p", "q": "q", "gamma": "gamma"})
    assert model.population_mean_spend() == pytest.approx(truth["gamma_gamma"]["population_mean_order_value"], rel=0.05)
    assert np.isfinite(model.log_likelihood_)
