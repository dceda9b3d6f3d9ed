"""Toolset ``separation``: separate local files, folders or URLs into stems (submits jobs and returns at once)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Literal

from mcp.server.elicitation import ElicitationResult
from mcp.server.mcpserver import Context, MCPServer
from mcp.server.mcpserver.resolve import Elicit, Resolve
from mcp_types import CallToolResult
from mvsep_mcp.jobs.models import JobRecord
from mvsep_mcp.mvsep import OutputFormatName, RemoteType
from mvsep_mcp.mvsep.formats import FORMAT_BY_CODE
from mvsep_mcp.planning import (
    Plan,
    PlannedInput,
    confirmation_needed,
    credits_text,
    plan_separation,
    submit_plan,
    then_steps,
)
from pydantic import Field

from mvsep_mcp_tools._caller import account_of, session_of
from mvsep_mcp_tools._consent import NoQuestion, SpendConsent, ask_to_spend, verdict
from mvsep_mcp_tools._job_view import JobView, file_links, job_line, job_view, shown_path
from mvsep_mcp_tools._registration import SPENDS_AND_WRITES, ToolOutput, resolver, result, tool
from mvsep_mcp_tools._task_mode import submit_wait_s
from mvsep_mcp_tools.jobs import jobs_text


class InputEstimate(ToolOutput):
    input: str
    duration_s: float | None = None
    estimated_credits: int | None = None
    breakdown: str | None = None


class SeparationOut(ToolOutput):
    dry_run: bool
    model: str
    options: dict[str, str]
    output_format: str
    output_dir: str
    spends_credits: bool
    credits_balance: float | None = None
    estimated_credits_total: int | None = None
    estimates: list[InputEstimate]
    jobs: list[JobView] = Field(default_factory=list)


def quote(plan: Plan, *, dry_run: bool) -> SeparationOut:
    """The plan as the model reads it: model, destination, cost per input."""
    return SeparationOut(
        dry_run=dry_run,
        model=plan.models_text if plan.then else plan.algorithm.name,
        options=plan.options,
        output_format=plan.output_format_name,
        output_dir=shown_path(plan.output_root),
        spends_credits=plan.spends_credits,
        credits_balance=plan.balance,
        estimated_credits_total=plan.total_credits,
        estimates=[
            InputEstimate(
                input=i.source,
                duration_s=i.duration_s,
                estimated_credits=plan.input_credits(i),
                breakdown=_breakdown(plan, i),
            )
            for i in plan.inputs
        ],
    )


def _breakdown(plan: Plan, item: PlannedInput) -> str | None:
    """The first model's cost breakdown, then each later step's credits (a chain)."""
    if item.estimate is None:
        return None
    steps = [f"then {s.algorithm.name}: {credits_text(e.credits)}"
             for s, e in zip(plan.then, plan.step_estimates(item), strict=True) if e is not None]
    return "; ".join([item.estimate.breakdown, *steps])


def finished_answer(records: list[JobRecord]) -> CallToolResult:
    """A finished task's result: this tool's answer rebuilt from the batch's jobs as they ended (each job's spec
    holds what the plan said), with ``wait_for_jobs``' text."""
    first = records[0].spec
    costs = [r.spec.estimated_cost for r in records]
    known = [c for c in costs if c is not None]
    out = SeparationOut(
        dry_run=False,
        model=first.model_name,
        options=first.options,
        output_format=FORMAT_BY_CODE[first.output_format].name,
        output_dir=shown_path(first.output_root),
        spends_credits=first.spends_credits,
        estimated_credits_total=sum(known) if first.spends_credits and len(known) == len(costs) else None,
        estimates=[InputEstimate(input=r.spec.input_path or r.spec.url or "", duration_s=r.spec.input_duration_s,
                                 estimated_credits=r.spec.estimated_cost) for r in records],
        jobs=[job_view(r) for r in records],
    )
    return result(out, jobs_text(out.jobs), file_links(records))


def _cost_line(out: SeparationOut) -> str:
    if not out.spends_credits:
        return "Premium mode is off: the jobs run in MVSep's free queue and spend no credits."
    total = out.estimated_credits_total
    balance = f" (balance {out.credits_balance:g})" if out.credits_balance is not None else ""
    if total is None:
        return f"Premium mode is on: the jobs spend credits; the cost of URL inputs is known only afterwards{balance}."
    return f"Premium mode is on: estimated cost {credits_text(total)}{balance}."


def _estimate_line(estimate: InputEstimate, spends: bool) -> str:
    name = estimate.input if estimate.input.startswith("http") else Path(estimate.input).name
    cost = f", ~{credits_text(estimate.estimated_credits)}" if spends and estimate.estimated_credits is not None else ""
    return f"- {name}: {estimate.duration_s or 0:.0f} s{cost}"


@resolver
async def _plan(
    ctx: Context[Any, Any],
    inputs: list[str],
    model: str | int,
    options: dict[str, str | int | float] | None,
    output_format: OutputFormatName | None,
    output_dir: str | None,
    name_template: str | None,
    remote_type: RemoteType,
    recursive: bool,
    publish_as_demo: bool,
    daw_session: Literal["dawproject", "rpp", "both"] | None,
    then: list[dict[str, Any]] | None,
) -> Plan:
    account = await account_of(ctx)
    formats = ("dawproject", "rpp") if daw_session == "both" else (daw_session,) if daw_session else ()
    return await plan_separation(session_of(ctx), inputs=inputs, model=model, options=options,
                                 output_format=output_format, output_dir=output_dir, name_template=name_template,
                                 remote_type=remote_type, recursive=recursive, is_demo=publish_as_demo,
                                 daw_session=formats, account=account, then=then_steps(then or []))


@resolver
async def _consent(ctx: Context[Any, Any], plan: Annotated[Plan, Resolve(_plan)], dry_run: bool,
                   confirm_credits: int | None) -> Elicit[SpendConsent] | NoQuestion:
    return NoQuestion("free") if dry_run else ask_to_spend(ctx, plan, confirm_credits)


def register(server: MCPServer[Any]) -> None:
    @tool(server, name="separate_audio", annotations=SPENDS_AND_WRITES)
    async def separate_audio(
        ctx: Context[Any, Any],
        inputs: Annotated[
            list[str],
            Field(
                min_length=1,
                description="Files, folders (absolute) or http(s) URLs",
            ),
        ],
        model: Annotated[str | int, Field(description="render_id or name")],
        plan: Annotated[Plan, Resolve(_plan)],
        consent: Annotated[ElicitationResult[SpendConsent], Resolve(_consent)],
        options: Annotated[
            dict[str, str | int | float] | None,
            Field(description="By label or key"),
        ] = None,
        output_format: Annotated[
            OutputFormatName | None,
            Field(description="Default: setting"),
        ] = None,
        output_dir: Annotated[str | None, Field(description="Default: setting")] = None,
        name_template: Annotated[
            str | None,
            Field(description="Default {song}/{title} ({stem}).{ext}; also {artist} {album} {model} {date}"),
        ] = None,
        remote_type: Annotated[RemoteType, Field(description="Where a URL points")] = "direct",
        recursive: Annotated[bool, Field(description="Sub-folders too")] = False,
        dry_run: Annotated[bool, Field(description="Only quote the cost")] = False,
        confirm_credits: Annotated[int | None, Field(description="Credits agreed to")] = None,
        publish_as_demo: Annotated[bool, Field(description="On MVSep's demo page")] = False,
        daw_session: Annotated[
            Literal["dawproject", "rpp", "both"] | None, Field(description="Also a DAW session")
        ] = None,
        then: Annotated[
            list[dict[str, Any]] | None,
            Field(description="[{from_stem, model, options}]"),
        ] = None,
    ) -> Annotated[CallToolResult, SeparationOut]:
        """Separate songs into stems (tagged files, JSON manifest, no overwriting). Returns job ids: call
        wait_for_jobs until done. SPENDS CREDITS in premium mode (user is asked; dry_run quotes)."""
        session = session_of(ctx)
        account = await account_of(ctx)  # (the plan's, again: this call's answer shows files as the account may see)
        out = quote(plan, dry_run=dry_run)
        header = (
            f"{plan.models_text} on {len(plan.inputs)} input(s) → "
            f"{out.output_format} in {shown_path(plan.output_root)}. {_cost_line(out)}"
        )
        if dry_run:
            lines = [_estimate_line(e, out.spends_credits) for e in out.estimates]
            return result(
                out,
                f"Dry run, nothing sent. {header}\n"
                + "\n".join(lines)
                + f"\nCall separate_audio again without dry_run to start{_confirm_hint(plan)}.",
            )
        answer = verdict(consent)
        if answer == "declined":
            return result(out, f"Not started: the user declined to spend the credits. Nothing was sent. {header}")
        if answer == "needs_confirmation":
            return result(out, confirmation_needed(plan, "separate_audio"))
        records = await submit_plan(session, plan, wait_s=submit_wait_s(), account=account)
        out.jobs = [job_view(r) for r in records]
        ids = [j.id for j in out.jobs]
        text = f"{header}\nSubmitted {len(ids)} job(s):\n" + "\n".join(job_line(j) for j in out.jobs)
        text += f"\nNext: call wait_for_jobs with job_ids={ids} (repeat until all are completed)."
        return result(out, text, file_links(records))


def _confirm_hint(plan: Plan) -> str:
    total = plan.total_credits
    return f" (with confirm_credits={total} if the user agrees to spend them)" if plan.spends_credits and total else ""
