"""Credit prices of sandbox jobs, as MVSep documents them.

``floor(duration_s * price_coefficient / 60)``, at least 1, times the ``price_rules`` multipliers of the chosen
options; a fractional product is rounded up (MVSep never shows fractional credits).
"""

from __future__ import annotations

import math
from collections.abc import Mapping

from mvsep_mcp_testbench.sandbox.algorithms import AlgorithmEntry

MIRROR_PRICE = 1  # credits taken by ``GET /separation/get?mirror=1``


def base_cost(duration_s: float, price_coefficient: float) -> int:
    return max(1, math.floor(duration_s * price_coefficient / 60))


def job_cost(algorithm: AlgorithmEntry, options: Mapping[str, str], duration_s: float) -> int:
    base = base_cost(duration_s, algorithm.price_coefficient)
    return max(1, math.ceil(base * algorithm.price_multiplier(options) - 1e-9))
