"""Whether a plan may spend credits now, and the question to ask when it must not spend them unasked.

Free-queue jobs never ask. A plan that spends credits goes ahead when its estimate is within what the settings let
pass unattended (``auto_approve_credits``, for automation), or when the caller confirmed at least the estimate
(``confirm_credits``, the amount a dry run showed). Otherwise the user is asked (where the host can ask), or the
answer says how to confirm.
"""

from __future__ import annotations

from typing import Literal

from mvsep_mcp.planning.plans import Plan

Decision = Literal["free", "approved", "ask"]


def spending_decision(plan: Plan, *, auto_approve: int, confirmed: int | None) -> Decision:
    """``free`` (nothing to spend), ``approved`` (within the allowance or confirmed), or ``ask``."""
    if not plan.spends_credits:
        return "free"
    total = plan.total_credits
    if total is not None and total <= auto_approve:
        return "approved"
    if confirmed is not None and (total is None or confirmed >= total):
        return "approved"
    return "ask"


def credits_text(amount: float) -> str:
    """"1 credit", "12 credits"."""
    return f"{amount:g} credit{'' if amount == 1 else 's'}"


def cost_sentence(plan: Plan) -> str:
    """"3 files, 9.5 minutes, about 12 credits (balance 100 → 88)" — what a confirmation is about."""
    files = len(plan.inputs)
    seconds = sum(i.duration_s or 0.0 for i in plan.inputs)
    what = f"{files} file{'s' if files != 1 else ''}"
    if seconds:
        what += f", {seconds / 60:.1f} minutes"
    if plan.then:
        what += f", each through {len(plan.then) + 1} models"
    total, balance = plan.total_credits, plan.balance
    if total is None:
        return f"{what}: the cost of URL inputs is known only afterwards (balance {balance or 0:g} credits)"
    after = f" → {balance - total:g}" if balance is not None else ""
    return f"{what}, about {credits_text(total)} (balance {balance or 0:g}{after})"


def consent_question(plan: Plan) -> str:
    models = plan.models_text if plan.then else plan.algorithm.name
    return f"{models} on {cost_sentence(plan)}. Spend the credits and start?"


def confirmation_needed(plan: Plan, tool: str) -> str:
    """The answer for a host that cannot ask: nothing was sent; how to confirm."""
    total = plan.total_credits
    amount = str(total) if total is not None else "0"
    return (f"Not started: this would spend credits ({cost_sentence(plan)}). Show the user the cost; to go ahead "
            f"call {tool} again with the same arguments and confirm_credits={amount}.")
