"""Toolset ``separation``: separate local files, folders or URLs into stems (submits jobs and returns at once)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

from mcp.server.mcpserver import Context, MCPServer
from mcp_types import CallToolResult
from mvsep_mcp.mvsep import OutputFormatName, RemoteType
from mvsep_mcp.planning import Plan, plan_separation, submit_plan
from pydantic import Field

from mvsep_mcp_tools._common import SPENDS_AND_WRITES, ToolOutput, result, session_of, tool
from mvsep_mcp_tools._job_view import JobView, job_line, job_view


class InputEstimate(ToolOutput):
    input: str
    duration_s: float | None = None
    estimated_credits: int | None = None
    breakdown: str | None = None


class SeparationOut(ToolOutput):
    dry_run: bool
    model: str
    model_id: int
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
        model=plan.algorithm.name,
        model_id=plan.algorithm.render_id,
        options=plan.options,
        output_format=plan.output_format_name,
        output_dir=str(plan.output_root),
        spends_credits=plan.spends_credits,
        credits_balance=plan.balance,
        estimated_credits_total=plan.total_credits,
        estimates=[
            InputEstimate(
                input=i.source,
                duration_s=i.duration_s,
                estimated_credits=i.estimate.credits if i.estimate else None,
                breakdown=i.estimate.breakdown if i.estimate else None,
            )
            for i in plan.inputs
        ],
    )


def _cost_line(out: SeparationOut) -> str:
    if not out.spends_credits:
        return "Premium mode is off: the jobs run in MVSep's free queue and spend no credits."
    total = out.estimated_credits_total
    balance = f" (balance {out.credits_balance:g})" if out.credits_balance is not None else ""
    if total is None:
        return f"Premium mode is on: the jobs spend credits; the cost of URL inputs is known only afterwards{balance}."
    return f"Premium mode is on: estimated cost {total} credits{balance}."


def _estimate_line(estimate: InputEstimate, spends: bool) -> str:
    name = estimate.input if estimate.input.startswith("http") else Path(estimate.input).name
    cost = f", ~{estimate.estimated_credits} credits" if spends and estimate.estimated_credits is not None else ""
    return f"- {name}: {estimate.duration_s or 0:.0f} s{cost}"


def register(server: MCPServer[Any]) -> None:
    @tool(server, name="separate_audio", annotations=SPENDS_AND_WRITES)
    async def separate_audio(
        ctx: Context[Any, Any],
        inputs: Annotated[
            list[str],
            Field(
                min_length=1,
                description=(
                    "Absolute paths of audio files or folders (~ allowed), or http(s) URLs. A folder means every audio "
                    "file in it."
                ),
            ),
        ],
        model: Annotated[str | int, Field(description="Model render_id (e.g. '20') or name, from search_models")],
        options: Annotated[
            dict[str, str | int | float] | None,
            Field(
                description=(
                    'Model options by label or key, e.g. {"Model Type": "SDR Vocals 11.93"} or {"add_opt2": "7"}; '
                    "omitted options take their defaults (see get_model)"
                )
            ),
        ] = None,
        output_format: Annotated[
            OutputFormatName | None,
            Field(
                description=(
                    "mp3 (320 kbps), wav (16-bit), flac (16-bit), m4a, wav32 (32-bit float), flac24 (24-bit); "
                    "default: the server's setting"
                )
            ),
        ] = None,
        output_dir: Annotated[
            str | None, Field(description=("Absolute folder for the stems; default: the server's output folder"))
        ] = None,
        name_template: Annotated[
            str | None,
            Field(
                description=(
                    "File naming template, default '{song}/{title} ({stem}).{ext}'; placeholders {title} {artist} "
                    "{album} {song} {stem} {model} {format} {ext} {input} {hash} {date} {track}"
                )
            ),
        ] = None,
        remote_type: Annotated[RemoteType, Field(description="For URL inputs: where the link points")] = "direct",
        recursive: Annotated[bool, Field(description="For folders: include sub-folders")] = False,
        dry_run: Annotated[
            bool, Field(description=("true: only check everything and estimate the cost; nothing is uploaded or spent"))
        ] = False,
        publish_as_demo: Annotated[bool, Field(description="Publish the result on MVSep's public demo page")] = False,
    ) -> Annotated[CallToolResult, SeparationOut]:
        """Separate songs into stems with an MVSep model: local files, whole folders or URLs, in one batch.
        Checks the model, options and files first (nothing is uploaded if anything is wrong), then records and
        submits the jobs and returns their ids at once — it does NOT wait for the results. Then call wait_for_jobs
        with the job ids until every job is completed: the stems are saved automatically as tagged files (input's
        tags and cover art, title like 'Song (Vocals)') under the output folder, with a JSON manifest, never
        overwriting anything. When premium mode is on this SPENDS CREDITS (duration × model price): use
        dry_run=true first to show the estimate. Without premium, jobs run one at a time in the free queue.
        Identical requests reuse the earlier result without uploading again."""
        session = session_of(ctx)
        session.require_account()
        plan = await plan_separation(
            session,
            inputs=inputs,
            model=model,
            options=options,
            output_format=output_format,
            output_dir=output_dir,
            name_template=name_template,
            remote_type=remote_type,
            recursive=recursive,
            is_demo=publish_as_demo,
        )
        out = quote(plan, dry_run=dry_run)
        header = (
            f"{plan.algorithm.name} (model {plan.algorithm.render_id}) on {len(plan.inputs)} input(s) → "
            f"{out.output_format} in {plan.output_root}. {_cost_line(out)}"
        )
        if dry_run:
            lines = [_estimate_line(e, out.spends_credits) for e in out.estimates]
            return result(
                out,
                f"Dry run, nothing sent. {header}\n"
                + "\n".join(lines)
                + "\nCall separate_audio again without dry_run to start.",
            )
        records = await submit_plan(session, plan)
        out.jobs = [job_view(r) for r in records]
        ids = [j.id for j in out.jobs]
        text = f"{header}\nSubmitted {len(ids)} job(s):\n" + "\n".join(job_line(j) for j in out.jobs)
        text += f"\nNext: call wait_for_jobs with job_ids={ids} (repeat until all are completed)."
        return result(out, text)
