"""Toolset ``studio``: Matchering (master a track to a reference) and text-input models (speech, generation)."""

from __future__ import annotations

from typing import Annotated, Any

from mcp.server.elicitation import ElicitationResult
from mcp.server.mcpserver import Context, MCPServer
from mcp.server.mcpserver.resolve import Elicit, Resolve
from mcp_types import CallToolResult
from mvsep_mcp.jobs.models import JobRecord
from mvsep_mcp.mvsep import OutputFormatName
from mvsep_mcp.planning import Plan, confirmation_needed, plan_mastering, plan_text, submit_plan
from pydantic import Field

from mvsep_mcp_tools._caller import account_of, session_of
from mvsep_mcp_tools._consent import NoQuestion, SpendConsent, ask_to_spend, verdict
from mvsep_mcp_tools._job_view import JobView, file_links, job_line, job_view
from mvsep_mcp_tools._registration import SPENDS_AND_WRITES, ToolOutput, resolver, result, tool
from mvsep_mcp_tools._task_mode import submit_wait_s
from mvsep_mcp_tools.jobs import jobs_text


class StudioOut(ToolOutput):
    model: str
    estimated_credits: int | None = None
    spends_credits: bool
    jobs: list[JobView]


def finished_answer(records: list[JobRecord]) -> CallToolResult:
    """A finished task's result: this tool's answer rebuilt from the batch's jobs as they ended, with
    ``wait_for_jobs``' text."""
    first = records[0].spec
    costs = [r.spec.estimated_cost for r in records]
    out = StudioOut(model=first.model_name, spends_credits=first.spends_credits,
                    estimated_credits=sum(c for c in costs if c is not None) if None not in costs else None,
                    jobs=[job_view(r) for r in records])
    return result(out, jobs_text(out.jobs), file_links(records))


async def _submit(ctx: Context[Any, Any], plan: Plan, consent: ElicitationResult[SpendConsent],
                  tool: str) -> CallToolResult:
    out = StudioOut(model=plan.algorithm.name, estimated_credits=plan.total_credits,
                    spends_credits=plan.spends_credits, jobs=[])
    answer = verdict(consent)
    if answer == "declined":
        return result(out, "Not started: the user declined to spend the credits. Nothing was sent.")
    if answer == "needs_confirmation":
        return result(out, confirmation_needed(plan, tool))
    account = await account_of(ctx)
    records = await submit_plan(session_of(ctx), plan, wait_s=submit_wait_s(), account=account)
    out.jobs = [job_view(r) for r in records]
    ids = [v.id for v in out.jobs]
    return result(
        out,
        f"{plan.algorithm.name}: submitted\n"
        + "\n".join(job_line(v) for v in out.jobs)
        + f"\nNext: call wait_for_jobs with job_ids={ids} until completed.",
        file_links(records),
    )


@resolver
async def _mastering_plan(ctx: Context[Any, Any], target: str, reference: str, model: str | int | None,
                          options: dict[str, str | int | float] | None, output_format: OutputFormatName | None,
                          output_dir: str | None) -> Plan:
    return await plan_mastering(session_of(ctx), target=target, reference=reference, model=model, options=options,
                                output_format=output_format, output_dir=output_dir, account=await account_of(ctx))


@resolver
async def _mastering_consent(ctx: Context[Any, Any], plan: Annotated[Plan, Resolve(_mastering_plan)],
                             confirm_credits: int | None) -> Elicit[SpendConsent] | NoQuestion:
    return ask_to_spend(ctx, plan, confirm_credits)


@resolver
async def _text_plan(ctx: Context[Any, Any], model: str | int, options: dict[str, str | int | float],
                     title: str | None, output_format: OutputFormatName | None, output_dir: str | None) -> Plan:
    return await plan_text(session_of(ctx), model=model, options=options, title=title, output_format=output_format,
                           output_dir=output_dir, account=await account_of(ctx))


@resolver
async def _text_consent(ctx: Context[Any, Any], plan: Annotated[Plan, Resolve(_text_plan)],
                        confirm_credits: int | None) -> Elicit[SpendConsent] | NoQuestion:
    return ask_to_spend(ctx, plan, confirm_credits)


CONFIRM = Field(description="Credits agreed to")
FOLDER = Field(description="Absolute folder")


def register(server: MCPServer[Any]) -> None:
    @tool(server, name="master_audio", annotations=SPENDS_AND_WRITES)
    async def master_audio(
        ctx: Context[Any, Any],
        target: Annotated[str, Field(description="Absolute path")],
        reference: Annotated[str, Field(description="Absolute path of the track to match")],
        plan: Annotated[Plan, Resolve(_mastering_plan)],
        consent: Annotated[ElicitationResult[SpendConsent], Resolve(_mastering_consent)],
        model: Annotated[str | int | None, Field(description="Default: Matchering")] = None,
        options: Annotated[dict[str, str | int | float] | None, Field(description="By label or key")] = None,
        output_format: Annotated[OutputFormatName | None, Field(description="Default: the setting")] = None,
        output_dir: Annotated[str | None, FOLDER] = None,
        confirm_credits: Annotated[int | None, CONFIRM] = None,
    ) -> Annotated[CallToolResult, StudioOut]:
        """Master a track like a reference (Matchering); then wait_for_jobs. Spends credits if premium."""
        return await _submit(ctx, plan, consent, "master_audio")

    @tool(server, name="generate_from_text", annotations=SPENDS_AND_WRITES)
    async def generate_from_text(
        ctx: Context[Any, Any],
        model: Annotated[str | int, Field(description="Id or name (search_models text='tts')")],
        options: Annotated[
            dict[str, str | int | float], Field(description='By label or key, e.g. {"Text": "Hi"}')
        ],
        plan: Annotated[Plan, Resolve(_text_plan)],
        consent: Annotated[ElicitationResult[SpendConsent], Resolve(_text_consent)],
        title: Annotated[str | None, Field(description="Saved files' title")] = None,
        output_format: Annotated[OutputFormatName | None, Field(description="Default: the setting")] = None,
        output_dir: Annotated[str | None, FOLDER] = None,
        confirm_credits: Annotated[int | None, CONFIRM] = None,
    ) -> Annotated[CallToolResult, StudioOut]:
        """Run a text-input model (speech, generation); then wait_for_jobs. Spends credits if premium."""
        return await _submit(ctx, plan, consent, "generate_from_text")
