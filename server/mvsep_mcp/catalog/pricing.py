"""What a job will cost in credits, before it is sent.

MVSep's formula (checked against real data: 119 s -> 1 credit, 121 s -> 2 at coefficient 1):

    base = max(1, floor(duration_s * price_coefficient / 60))

Options may carry `price_rules`. The 2026 catalogue only has mode "multiplier" (values 1.0, 1.5, 2.0).
Decision: multipliers apply AFTER the floor, to the whole-credit base, and the product is rounded UP to a whole
credit, so the estimate is never below what MVSep charges however it rounds (e.g. 100 s with a 1.5 multiplier:
base 1 -> 1.5 -> 2 credits). Rules of any other mode are not counted: they are listed in the breakdown and
`CostEstimate.uncertain` is set.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping

from pydantic import BaseModel

from mvsep_mcp.mvsep.models import Algorithm

from .facts import choice_title, field_title

logger = logging.getLogger(__name__)


class AppliedRule(BaseModel):
    field: str  # add_optN
    option_key: str
    mode: str
    value: float
    counted: bool


class CostEstimate(BaseModel):
    """Credits a job will spend (premium processing), with how the number was reached."""

    credits: int
    base_credits: int
    multiplier: float
    duration_s: float
    price_coefficient: float
    rules: list[AppliedRule]
    uncertain: bool
    breakdown: str

    def __int__(self) -> int:
        return self.credits


def base_credits(duration_s: float, price_coefficient: float) -> int:
    """max(1, floor(duration_s * price_coefficient / 60))."""
    return max(1, math.floor(max(0.0, duration_s) * price_coefficient / 60))


def estimate_cost(algorithm: Algorithm, options: Mapping[str, str], duration_s: float) -> CostEstimate:
    """Estimate for one file of `duration_s` seconds with the resolved `options` ({add_optN: key})."""
    coefficient = float(getattr(algorithm, "price_coefficient", 1) or 1)
    base = base_credits(duration_s, coefficient)
    multiplier = 1.0
    rules: list[AppliedRule] = []
    notes: list[str] = []
    for field in algorithm.algorithm_fields:
        chosen = options.get(field.name)
        if chosen is None:
            continue
        for rule in getattr(field, "price_rules", None) or []:
            if str(rule.option_key) != str(chosen):
                continue
            mode = str(getattr(rule, "mode", "multiplier") or "multiplier").lower()
            value = float(rule.value)
            counted = mode == "multiplier"
            rules.append(AppliedRule(field=field.name, option_key=str(chosen), mode=mode, value=value, counted=counted))
            if counted:
                multiplier *= value
                if value != 1.0:
                    notes.append(f"× {value:g} for {field_title(field)} = {choice_title(field, str(chosen))}")
            else:
                logger.warning("price rule of unknown mode %r on %s not counted", mode, field.name)
                notes.append(
                    f"a price rule of unknown mode {mode!r} ({value:g}) for {field_title(field)} is not counted"
                )
    credits = max(1, math.ceil(round(base * multiplier, 6)))
    minutes = max(0.0, duration_s) / 60
    lines = [
        f"{minutes:.2f} min × price coefficient {coefficient:g} = {minutes * coefficient:.2f}, "
        f"rounded down (at least 1): {base} credit{'s' if base != 1 else ''}"
    ]
    lines.extend(notes)
    if multiplier != 1.0:
        product = round(base * multiplier, 6)
        rounding = "" if product == credits else f" = {product:g}, rounded up"
        lines.append(f"total {base} × {multiplier:g}{rounding}: {credits} credit{'s' if credits != 1 else ''}")
    return CostEstimate(
        credits=credits,
        base_credits=base,
        multiplier=multiplier,
        duration_s=duration_s,
        price_coefficient=coefficient,
        rules=rules,
        uncertain=any(not r.counted for r in rules),
        breakdown="; ".join(lines),
    )
