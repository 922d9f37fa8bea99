"""A realistic synthetic store that follows the data contract, with known true parameters.

Pure and vectorised (numpy + Arrow, no I/O, no clock): :func:`generate_store` returns the contract
tables as Arrow tables plus the truth (BG/NBD and Gamma-Gamma parameters, per-customer latents) so
that models can be checked for parameter recovery. See ``docs/generator.md``.
"""

from aftersales.core.synthetic.params import StoreParams
from aftersales.core.synthetic.purchasing import expected_repeat_purchases
from aftersales.core.synthetic.store import PHASES, SyntheticStore, generate_store

__all__ = ["PHASES", "StoreParams", "SyntheticStore", "expected_repeat_purchases", "generate_store"]
