"""The label, the tidy frame, the encoder, the holdout metrics and the options' checks."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import roc_auc_score

from aftersales.core.errors import ValidationError
from aftersales.core.lookalike.frame import Encoder, nps_class, tidy, top_tier
from aftersales.core.lookalike.model import calibration_method, fit_model, holdout_metrics
from aftersales.core.lookalike.options import LookalikeOptions


def test_top_tier_takes_the_top_share_of_customers_with_orders_and_keeps_ties():
    f = pd.DataFrame(
        {
            "orders": [1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0],
            "revenue_365d": [0, 0, 5, 1, 2, 3, 4, 9, 7, 7, 0, 0],
        }
    )
    # 10 customers with orders: ceil(0.2 * 10) = 2nd largest is 7, and both 7s join (ties): 3 in the tier
    assert top_tier(f, 0.2).tolist() == [False] * 7 + [True, True, True, False, False]
    # ceil(0.5 * 10) = 5th largest is 4: 9, 7, 7, 5, 4
    assert int(top_tier(f, 0.5).sum()) == 5
    # zero trailing revenue never makes the tier, even when the threshold is 0
    g = pd.DataFrame({"orders": [1, 1, 1], "revenue_365d": [0.0, 0.0, 3.0]})
    assert top_tier(g, 0.5).tolist() == [False, False, True]
    assert not top_tier(pd.DataFrame({"orders": [0], "revenue_365d": [0.0]}), 0.2).any()


def test_tidy_fills_counts_adds_days_and_classes():
    at = datetime(2024, 1, 11, tzinfo=UTC)
    raw = pd.DataFrame(
        {
            "customer_id": ["a", "b"],
            "acquisition_channel": ["email", None],
            "country": ["DE", "FR"],
            "orders": [2, None],
            "revenue": [30.0, None],
            "first_order_at": [pd.Timestamp("2024-01-01", tz="UTC"), pd.NaT],
            "last_order_at": [pd.Timestamp("2024-01-06", tz="UTC"), pd.NaT],
            "orders_365d": [2, None],
            "revenue_365d": [30.0, None],
            "first_order_value": [10.0, None],
            "first_order_channel": ["web", None],
            "first_category": ["kettles", None],
            "bought_0": [1, None],
            "registrations": [None, 3],
            "tickets": [None, None],
            "open_tickets": [None, None],
            "last_nps_score": [9, None],
            "active_subscription": [None, 1],
        }
    )
    f = tidy(raw, at, ["kettles"])
    a, b = f.iloc[0], f.iloc[1]
    assert (a.orders, a.aov, a.days_since_last_order, a.tenure_days) == (2.0, 15.0, 5.0, 10.0)
    assert (a["bought:kettles"], a.registrations, a.nps_class, a.acquisition_channel) == (1.0, 0.0, "promoter", "email")
    assert (b.orders, b.revenue, b["bought:kettles"], b.registrations, b.active_subscription) == (0, 0, 0, 3, 1)
    assert np.isnan(b.aov) and np.isnan(b.days_since_last_order) and b.nps_class == "no answer"
    assert b.acquisition_channel == "(none)" and b.first_category == "(none)"


def test_nps_classes_at_their_boundaries():
    assert nps_class(pd.Series([0, 6, 7, 8, 9, 10])).tolist() == [
        "detractor", "detractor", "passive", "passive", "promoter", "promoter",
    ]  # fmt: skip


def test_encoder_keeps_training_levels_and_zeroes_unseen_ones():
    train = pd.DataFrame({"orders": [1.0] * 12, "acquisition_channel": ["a"] * 11 + ["rare"]})
    for col in ("country", "first_order_channel", "first_category", "nps_class"):
        train[col] = "x"
    enc = Encoder().fit(train)
    assert "acquisition_channel=a" in enc.columns and "acquisition_channel=rare" not in enc.columns
    test = train.head(2).copy()
    test["acquisition_channel"] = ["a", "new"]
    x = enc.transform(test)
    assert x.shape == (2, len(enc.columns))
    a = enc.columns.index("acquisition_channel=a")
    assert x[:, a].tolist() == [1.0, 0.0]


def test_holdout_metrics_agree_with_scikit_learn_and_by_hand():
    rng = np.random.default_rng(1)
    y = rng.integers(0, 2, 500)
    p = np.clip(0.3 * y + rng.random(500) * 0.7, 0, 1).round(2)  # rounded: many ties
    m = holdout_metrics(y, p)
    assert m.auc == pytest.approx(roc_auc_score(y, p), abs=1e-12)
    top = np.argsort(-p, kind="stable")[:50]
    assert m.top_decile_lift == pytest.approx(y[top].mean() / y.mean())
    assert m.brier == pytest.approx(np.mean((p - y) ** 2))
    assert [r.n for r in m.calibration] == [50] * 10
    assert sum(r.observed_rate * r.n for r in m.calibration) == pytest.approx(y.sum())
    assert [r.mean_predicted for r in m.calibration] == sorted(r.mean_predicted for r in m.calibration)


def test_calibrated_model_on_a_planted_signal():
    rng = np.random.default_rng(2)
    x = rng.normal(size=(1500, 3))
    y = (rng.random(1500) < 1 / (1 + np.exp(-(2.0 * x[:, 0] - 1.5)))).astype(int)
    model, method = fit_model(x[:1000], y[:1000])
    assert method == calibration_method(1000, int(y[:1000].sum())) == "sigmoid"
    p = model.predict_proba(x[1000:])[:, 1]
    m = holdout_metrics(y[1000:], p)
    assert m.auc > 0.8  # the true model's AUC on this design is about 0.85
    assert abs(p.mean() - y[1000:].mean()) < 0.05  # calibrated on average


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [({"horizon_days": 10}, "horizon_days"), ({"top_share": 0.9}, "top_share"), ({"threads": 0}, "threads")],
)
def test_bad_options_are_located_validation_errors(kwargs, field):
    with pytest.raises(ValidationError) as err:
        LookalikeOptions(**kwargs)
    assert [e.loc for e in err.value.errors] == [(field,)]
