"""The true parameters of a synthetic store, and how they are reported in ``truth.json``.

Purchasing follows the BG/NBD model (Fader, Hardie & Lee 2005, "Counting your customers the easy
way"), spend the Gamma-Gamma model (Fader, Hardie & Lee 2005, "RFM and CLV"); rates are per **week**:

* λ_i ~ Gamma(shape r, rate α): customer i's purchase rate while alive;
* p_i ~ Beta(a, b): probability of dropping out right after each repeat purchase;
* ν_i ~ Gamma(shape q, rate γ); each order's value z ~ Gamma(shape p, rate ν_i), so a customer's
  mean order value is p/ν_i and the population mean is p·γ/(q − 1).

Rates per day are the same model with α_day = 7·α_week (λ_day = λ_week / 7); r, a, b, p, q, γ do
not depend on the time unit.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import date, timedelta

__all__ = ["StoreParams", "population_mean_spend", "truth_document"]


@dataclass(frozen=True)
class StoreParams:
    """Everything a synthetic store is drawn from (defaults: a mid-sized appliance web shop)."""

    # BG/NBD (per week) and Gamma-Gamma.
    # About 9.5 orders per customer over three years of acquisitions (E[X] by FHL 2005, eq. 9).
    r: float = 1.4
    alpha: float = 5.0
    a: float = 2.2
    b: float = 28.0
    p: float = 6.0
    q: float = 4.0
    gamma: float = 40.0
    # Calendar.
    history_days: int = 3 * 365
    calibration_weeks: int = 26
    # Fulfilment.
    cancel_rate: float = 0.02
    late_rate: float = 0.12
    promised_days: float = 5.0
    return_rate: float = 0.06
    # Other families.
    subscriber_share: float = 0.08
    event_window_days: int = 180
    checkout_completion_rate: float = 0.55
    nps_response_rate: float = 0.12
    csat_response_rate: float = 0.30
    channels: dict[str, float] = field(
        default_factory=lambda: {
            "organic": 0.30,
            "paid_search": 0.22,
            "social": 0.16,
            "email": 0.08,
            "referral": 0.09,
            "marketplace": 0.15,
        }
    )
    acquisition_cost: dict[str, float] = field(
        default_factory=lambda: {
            "organic": 0.0,
            "paid_search": 38.0,
            "social": 29.0,
            "email": 4.0,
            "referral": 15.0,
            "marketplace": 18.0,
        }
    )


def population_mean_spend(params: StoreParams) -> float:
    """Population mean order value p·γ/(q − 1) (finite for q > 1).

    >>> population_mean_spend(StoreParams())
    80.0
    """
    return params.p * params.gamma / (params.q - 1.0)


def truth_document(params: StoreParams, *, n_customers: int, seed: int, as_of: date) -> dict[str, object]:
    """The JSON-ready ``truth.json``: true parameters in weeks and days plus the calendar."""
    start = as_of - timedelta(days=params.history_days)
    calibration_end = as_of - timedelta(weeks=params.calibration_weeks)
    bgnbd = {"r": params.r, "alpha": params.alpha, "a": params.a, "b": params.b}
    return {
        "generator": "aftersales.core.synthetic",
        "seed": seed,
        "n_customers": n_customers,
        "as_of": as_of.isoformat(),
        "observation_start": f"{start.isoformat()}T00:00:00+00:00",
        "observation_end": f"{as_of.isoformat()}T00:00:00+00:00",
        "calibration_end": f"{calibration_end.isoformat()}T00:00:00+00:00",
        "holdout_weeks": params.calibration_weeks,
        "bgnbd": {
            "weeks": bgnbd,
            "days": {**bgnbd, "alpha": params.alpha * 7.0},
            "first_purchase": "at acquisition (customers.created_at + under 20 minutes); T runs from it",
            "transactions": "every orders row is one transaction, whatever its status",
        },
        "gamma_gamma": {
            "p": params.p,
            "q": params.q,
            "gamma": params.gamma,
            "population_mean_order_value": population_mean_spend(params),
            "value": "orders.revenue (every order, first included), rounded to cents",
        },
        "params": {k: v for k, v in asdict(params).items() if k not in {"r", "alpha", "a", "b", "p", "q", "gamma"}},
        "customer_truth": "truth_customers table: per customer lambda_per_week, dropout_p, nu, alive, dropout_at",
    }
