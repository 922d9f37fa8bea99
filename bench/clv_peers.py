"""Peer side of bench_clv.py: runs lifetimes or pymc-marketing inside its own venv and prints JSON.

Usage (called by bench_clv.py): ``PYTHON clv_peers.py LIB TASK RFM.npz [PARAMS_JSON]`` with LIB in
{lifetimes, pymc}, TASK in {bgnbd_fit, paretonbd_fit, bgnbd_score}. Never imported by the product.
"""

from __future__ import annotations

import json
import sys
import time
import warnings

import numpy as np
import pandas as pd

warnings.filterwarnings("ignore")


def _lifetimes(task: str, d: pd.DataFrame, params: dict | None) -> dict:
    from lifetimes import BetaGeoFitter, ParetoNBDFitter

    if task == "bgnbd_score":
        m = BetaGeoFitter()
        m.params_ = pd.Series(params)
        t0 = time.perf_counter()
        e = m.conditional_expected_number_of_purchases_up_to_time(52, d["frequency"], d["recency"], d["T"])
        p = m.conditional_probability_alive(d["frequency"], d["recency"], d["T"])
        return {"seconds": time.perf_counter() - t0, "checksum": float(np.sum(e) + np.sum(p))}
    m = BetaGeoFitter() if task == "bgnbd_fit" else ParetoNBDFitter()
    t0 = time.perf_counter()
    m.fit(d["frequency"], d["recency"], d["T"])
    return {"seconds": time.perf_counter() - t0, "params": {k: float(v) for k, v in m.params_.items()}}


def _pymc(task: str, d: pd.DataFrame, params: dict | None) -> dict:
    from pymc_marketing.clv import BetaGeoModel, ParetoNBDModel
    from pymc_marketing.prior import Prior

    data = d.assign(customer_id=np.arange(len(d)))[["customer_id", "frequency", "recency", "T"]]
    if task == "bgnbd_score":
        import arviz as az
        import xarray as xr

        m = BetaGeoModel(data=data)
        m.build_model()
        post = {k: xr.DataArray(np.full((1, 1), v), dims=("chain", "draw")) for k, v in params.items()}
        m.idata = az.InferenceData(posterior=xr.Dataset(post))
        t0 = time.perf_counter()
        e = m.expected_purchases(data=data, future_t=52)
        p = m.expected_probability_alive(data=data)
        return {"seconds": time.perf_counter() - t0, "checksum": float(e.sum() + p.sum())}
    flat = {
        k: Prior("HalfFlat") for k in (("r", "alpha", "a", "b") if task == "bgnbd_fit" else ("r", "alpha", "s", "beta"))
    }
    cls = BetaGeoModel if task == "bgnbd_fit" else ParetoNBDModel
    m = cls(data=data, model_config=flat)
    t0 = time.perf_counter()
    m.fit(method="map")
    seconds = time.perf_counter() - t0
    post = m.idata.posterior
    return {"seconds": seconds, "params": {k: float(post[k].values.ravel()[0]) for k in flat}}


def main() -> None:
    lib, task, path = sys.argv[1:4]
    params = json.loads(sys.argv[4]) if len(sys.argv) > 4 else None
    with np.load(path) as z:
        d = pd.DataFrame({k: z[k] for k in ("frequency", "recency", "T")})
    out = (_lifetimes if lib == "lifetimes" else _pymc)(task, d, params)
    print(json.dumps(out))


if __name__ == "__main__":
    main()
