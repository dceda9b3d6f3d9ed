"""Asking before spending credits: the SDK's resolvers carry the question to the host (mid-call on a legacy
connection, as an input-required round on a 2026 one), when the host can ask at all.

A spending tool takes two resolved parameters: the plan (its own resolver, from its arguments) and the consent
(one of the resolvers below), so the plan is made once per round and the body never plans again.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from mcp.server.elicitation import AcceptedElicitation, ElicitationResult
from mcp.server.mcpserver import Context
from mcp.server.mcpserver.resolve import Elicit
from mvsep_mcp.planning import Decision, Plan, consent_question, spending_decision
from pydantic import BaseModel, Field

from mvsep_mcp_tools._caller import session_of


class SpendConsent(BaseModel):
    """The question's form: one yes/no."""

    spend: bool = Field(title="Spend the credits", description="Yes: start the job and spend the credits shown")


@dataclass(frozen=True)
class NoQuestion:
    """Nothing was asked: the plan is free, approved (allowance or confirm_credits), or the host cannot ask."""

    decision: Decision


Verdict = Literal["go", "declined", "needs_confirmation"]


def client_can_elicit(ctx: Context[Any, Any]) -> bool:
    """Form-mode elicitation: declared, or implied by an empty ``elicitation`` (clients before URL mode)."""
    capabilities = ctx.client_capabilities
    elicitation = capabilities.elicitation if capabilities else None
    return elicitation is not None and (elicitation.form is not None or elicitation.url is None)


def ask_to_spend(ctx: Context[Any, Any], plan: Plan, confirm_credits: int | None) -> Elicit[SpendConsent] | NoQuestion:
    """The question, when the plan needs consent and the host can ask; else what is already decided."""
    settings = session_of(ctx).settings
    decision = spending_decision(plan, auto_approve=settings.auto_approve_credits, confirmed=confirm_credits)
    if decision == "ask" and client_can_elicit(ctx):
        return Elicit(consent_question(plan), SpendConsent)
    return NoQuestion(decision)


def verdict(consent: ElicitationResult[Any]) -> Verdict:
    """What the body does: start, report the user's "no", or say how to confirm."""
    if not isinstance(consent, AcceptedElicitation):
        return "declined"
    answer = consent.data
    if isinstance(answer, NoQuestion):
        return "needs_confirmation" if answer.decision == "ask" else "go"
    return "go" if isinstance(answer, SpendConsent) and answer.spend else "declined"
