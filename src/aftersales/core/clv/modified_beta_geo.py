"""MBG/NBD: the modified BG/NBD model (Batislam, Denizel & Filiztekin 2007, *IJRM*).

Identical to BG/NBD except that a customer may also drop out right after the first purchase, so a
customer with no repeat purchase is *not* certainly alive: P(alive | x = 0) = 1/(1 + a/b · ((α+T)/α)^r).
Likelihood and predictions: :mod:`._beta_geo_family` with k = 1.

>>> m = ModifiedBetaGeo.from_params(r=0.5, alpha=5.0, a=0.5, b=2.0)
>>> p = float(m.probability_alive(0, 0, 40.0))
>>> round(p, 4) == round(1 / (1 + 0.5 / 2.0 * (45.0 / 5.0) ** 0.5), 4)
True
"""

from __future__ import annotations

from aftersales.core.clv._beta_geo_family import BetaGeoFamily

__all__ = ["ModifiedBetaGeo"]


class ModifiedBetaGeo(BetaGeoFamily):
    """MBG/NBD model; parameters ``r, alpha`` (purchase rate) and ``a, b`` (dropout probability)."""

    dropout_shift = 1
