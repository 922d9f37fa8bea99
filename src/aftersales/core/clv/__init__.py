"""Predictive customer-lifetime-value and churn models (buy-till-you-die family).

One template (:class:`BaseModel`, lifelines style), one model per module. See docs/clv.md.
"""

from aftersales.core.clv.base import BaseModel
from aftersales.core.clv.beta_geo import BetaGeo
from aftersales.core.clv.gamma_gamma import GammaGamma
from aftersales.core.clv.modified_beta_geo import ModifiedBetaGeo
from aftersales.core.clv.pareto_nbd import ParetoNBD
from aftersales.core.clv.transactions import TransactionModel

__all__ = ["BaseModel", "BetaGeo", "GammaGamma", "ModifiedBetaGeo", "ParetoNBD", "TransactionModel"]
