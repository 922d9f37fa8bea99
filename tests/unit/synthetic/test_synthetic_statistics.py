"""The generated behaviour follows the documented processes (checked against closed forms)."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import pandas as pd
import pytest
from scipy.special import betaln, gammaln

from aftersales.core.synthetic import StoreParams, SyntheticStore, expected_repeat_purchases
from aftersales.core.synthetic.purchasing import draw_purchases

END = datetime(2025, 6, 1, tzinfo=UTC)


def bgnbd_pmf(x: int, t: float, r: float, alpha: float, a: float, b: float) -> float:
    """P(X(t) = x) for the BG/NBD model (Fader, Hardie & Lee 2005, eq. 8)."""
    log_nbd = (
        gammaln(r + x) - gammaln(r) - gammaln(x + 1) + r * np.log(alpha / (alpha + t)) + x * np.log(t / (alpha + t))
    )
    out = np.exp(betaln(a, b + x) - betaln(a, b) + log_nbd)
    if x > 0:
        j = np.arange(x)
        partial = np.exp(
            gammaln(r + j) - gammaln(r) - gammaln(j + 1) + r * np.log(alpha / (alpha + t)) + j * np.log(t / (alpha + t))
        ).sum()
        out += np.exp(betaln(a + 1, b + x - 1) - betaln(a, b)) * (1 - partial)
    return float(out)


@pytest.fixture(scope="module")
def same_age_cohort() -> np.ndarray:
    """Repeat purchase counts of 200,000 customers all observed for exactly 52 weeks."""
    params = StoreParams()
    rng = np.random.default_rng(2024)
    p = draw_purchases(rng, np.zeros(200_000), 364.0, params)
    return np.bincount(p.customer, minlength=200_000) - 1


def test_repeat_purchase_counts_follow_the_bgnbd_distribution(same_age_cohort: np.ndarray) -> None:
    params = StoreParams()
    n = same_age_cohort.size
    for x in range(4):
        expected = bgnbd_pmf(x, 52.0, params.r, params.alpha, params.a, params.b)
        observed = float(np.mean(same_age_cohort == x))
        se = np.sqrt(expected * (1 - expected) / n)
        assert abs(observed - expected) < 4 * se + 1e-4, (x, observed, expected)


def test_mean_repeat_purchases_match_the_bgnbd_expectation(same_age_cohort: np.ndarray) -> None:
    params = StoreParams()
    expected = float(expected_repeat_purchases(np.array([52.0]), params.r, params.alpha, params.a, params.b)[0])
    se = same_age_cohort.std() / np.sqrt(same_age_cohort.size)
    assert abs(same_age_cohort.mean() - expected) < 4 * se


def test_pmf_sums_to_one_and_its_mean_is_the_closed_form() -> None:
    # Checks the test's own oracle: eq. 8 and eq. 9 of FHL 2005 must agree.
    params = StoreParams()
    probs = np.array([bgnbd_pmf(x, 52.0, params.r, params.alpha, params.a, params.b) for x in range(400)])
    mean = float(expected_repeat_purchases(np.array([52.0]), params.r, params.alpha, params.a, params.b)[0])
    assert probs.sum() == pytest.approx(1.0, abs=1e-9)
    assert (np.arange(400) * probs).sum() == pytest.approx(mean, rel=1e-8)


def test_store_orders_per_customer_match_the_expectation_for_each_age(synthetic_store: SyntheticStore) -> None:
    t = synthetic_store.truth["bgnbd"]["weeks"]  # type: ignore[index]
    orders = synthetic_store.tables["orders"].to_pandas()
    per = orders.groupby("customer_id").agg(n=("order_id", "size"), first=("ordered_at", "min"))
    T = (pd.Timestamp(END) - per["first"]).dt.total_seconds() / (7 * 86400)
    expected = expected_repeat_purchases(T.to_numpy(), t["r"], t["alpha"], t["a"], t["b"])
    x = per["n"].to_numpy() - 1
    se = x.std() / np.sqrt(x.size)
    assert abs(x.mean() - expected.mean()) < 4 * se
    assert 8.0 < per["n"].mean() < 11.0  # about ten orders per customer, as documented


def test_order_values_follow_gamma_gamma(synthetic_store: SyntheticStore) -> None:
    g = synthetic_store.truth["gamma_gamma"]
    orders = synthetic_store.tables["orders"].to_pandas()
    latent = synthetic_store.customer_truth.to_pandas().set_index("customer_id")
    scaled = orders["revenue"].to_numpy() * latent["nu"].reindex(orders["customer_id"]).to_numpy()
    # z·ν ~ Gamma(p, 1): mean p, variance p.
    assert scaled.mean() == pytest.approx(g["p"], abs=4 * np.sqrt(g["p"] / scaled.size) + 0.01)  # type: ignore[index]
    assert scaled.var() == pytest.approx(g["p"], rel=0.05)  # type: ignore[index]
    # Mean order value over customers: E[p/ν] = pγ/(q − 1).
    mov = latent["mean_order_value"]
    assert mov.mean() == pytest.approx(g["population_mean_order_value"], abs=4 * mov.std() / np.sqrt(mov.size))  # type: ignore[index]


def test_late_deliveries_lower_nps(synthetic_store: SyntheticStore) -> None:
    orders = synthetic_store.tables["orders"].to_pandas().set_index("order_id")
    s = synthetic_store.tables["survey_responses"].to_pandas()
    nps = s[(s.kind == "nps") & (s.dimension == "overall")].copy()
    delay = orders.delivered_at - orders.ordered_at
    nps["late"] = (delay.reindex(nps.order_id) > pd.Timedelta(days=StoreParams().promised_days)).to_numpy()

    def score(g: pd.Series) -> float:
        return 100.0 * ((g >= 9).mean() - (g <= 6).mean())

    on_time, late = score(nps.score[~nps.late]), score(nps.score[nps.late])
    assert nps.late.sum() > 200
    assert on_time - late > 30.0
    assert on_time > 20.0


def test_fulfilment_rates_are_near_their_parameters(synthetic_store: SyntheticStore) -> None:
    params = StoreParams()
    o = synthetic_store.tables["orders"].to_pandas()
    old = o[o.ordered_at < pd.Timestamp(END) - pd.Timedelta(days=120)]
    assert (old.status == "cancelled").mean() == pytest.approx(params.cancel_rate, abs=0.004)
    assert (old.status == "returned").mean() == pytest.approx(params.return_rate * (1 - params.cancel_rate), abs=0.006)
    delay = (old.delivered_at - old.ordered_at).dropna()
    assert (delay > pd.Timedelta(days=params.promised_days)).mean() == pytest.approx(params.late_rate, abs=0.006)


def test_checkout_completion_rate_is_near_its_parameter(synthetic_store: SyntheticStore) -> None:
    e = synthetic_store.tables["events"].to_pandas()
    started = (e.name == "checkout_started").sum()
    completed = (e.name == "checkout_completed").sum()
    # Abandoned checkouts falling before the window or the customer's first visit are dropped.
    assert 0.55 <= completed / started < 0.62


def test_acquisitions_peak_in_november_and_december(synthetic_store: SyntheticStore) -> None:
    created = synthetic_store.tables["customers"].to_pandas().created_at
    per_day = created.dt.month.value_counts() / created.dt.month.map({6: 30, 7: 31, 8: 31, 11: 30, 12: 31})
    assert min(per_day[11], per_day[12]) > 1.3 * max(per_day[6], per_day[7], per_day[8])
