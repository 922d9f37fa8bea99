"""Predictive customer-lifetime-value and churn models (buy-till-you-die family).

One template (:class:`BaseModel`, lifelines style), one model per module. See docs/clv.md.
"""

from aftersales.core.clv.base import BaseModel
from aftersales.core.clv.beta_geo import BetaGeo
from aftersales.core.clv.beta_geo_beta_binom import BetaGeoBetaBinom
from aftersales.core.clv.gamma_gamma import GammaGamma
from aftersales.core.clv.modified_beta_geo import ModifiedBetaGeo
from aftersales.core.clv.pareto_nbd import ParetoNBD
from aftersales.core.clv.shifted_beta_geo import ShiftedBetaGeo, cohort_rows
from aftersales.core.clv.transactions import TransactionModel

TRANSACTION_MODELS: dict[str, type[TransactionModel]] = {
    "bgnbd": BetaGeo,
    "mbgnbd": ModifiedBetaGeo,
    "paretonbd": ParetoNBD,
}

__all__ = [
    "TRANSACTION_MODELS",
    "BaseModel",
    "BetaGeo",
    "BetaGeoBetaBinom",
    "GammaGamma",
    "ModifiedBetaGeo",
    "ParetoNBD",
    "ShiftedBetaGeo",
    "TransactionModel",
    "cohort_rows",
]
