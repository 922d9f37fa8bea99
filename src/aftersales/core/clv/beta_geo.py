"""BG/NBD: the beta-geometric/negative binomial model (Fader, Hardie & Lee 2005, *Marketing Science*).

Customers buy at rate λ ~ Gamma(r, α) while alive and drop out with probability p ~ Beta(a, b) right
after each *repeat* purchase, so a customer with no repeat purchase is alive with probability 1
(a known property, see docs/clv.md). Likelihood and predictions: :mod:`._beta_geo_family` with k = 0.

>>> m = BetaGeo.from_params(r=0.243, alpha=4.414, a=0.793, b=2.426)   # CDNOW, FHL 2005 Table 1
>>> round(float(m.expected_purchases(39, 2, 30.43, 38.86)), 3)      # FHL 2005 worked example
1.226
>>> float(m.probability_alive(0, 0, 38.86))
1.0
"""

from __future__ import annotations

from aftersales.core.clv._beta_geo_family import BetaGeoFamily

__all__ = ["BetaGeo"]


class BetaGeo(BetaGeoFamily):
    """BG/NBD model; parameters ``r, alpha`` (purchase rate) and ``a, b`` (dropout probability)."""

    dropout_shift = 0
