"""Toolset ``separation``: separate local files, folders or URLs into stems (submits jobs and returns at once)."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Annotated, Any, Literal

from mcp.server.mcpserver import Context, MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from mcp_types import CallToolResult
from mvsep_mcp import policy
from mvsep_mcp.planning import (
    Plan,
    PlanError,
    PlannedInput,
    absolute_path,
    build_specs,
    check_options,
    check_template,
    choose_model,
    describe_inputs,
    expand_inputs,
    output_format_code,
)
from pydantic import Field

from mvsep_mcp_tools._common import (
    SPENDS_AND_WRITES,
    ToolOutput,
    catalog_and_account,
    result,
    state_of,
    tool,
)
from mvsep_mcp_tools._job_view import JobView, job_line, job_view

OutputFormatName = Literal["mp3", "wav", "flac", "m4a", "wav32", "flac24"]
SUBMIT_WAIT_S = 20.0  # how long separate_audio waits for the creates to go through, so refusals show at once


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


def _estimates(plan: Plan) -> list[InputEstimate]:
    return [
        InputEstimate(
            input=i.source,
            duration_s=i.duration_s,
            estimated_credits=i.estimate.credits if i.estimate else None,
            breakdown=i.estimate.breakdown if i.estimate else None,
        )
        for i in plan.inputs
    ]


def _cost_line(out: SeparationOut) -> str:
    if not out.spends_credits:
        return "Premium mode is off: the jobs run in MVSep's free queue and spend no credits."
    total = out.estimated_credits_total
    balance = f" (balance {out.credits_balance:g})" if out.credits_balance is not None else ""
    if total is None:
        return f"Premium mode is on: the jobs spend credits; the cost of URL inputs is known only afterwards{balance}."
    return f"Premium mode is on: estimated cost {total} credits{balance}."


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
        remote_type: Annotated[
            Literal["direct", "mega", "drive", "dropbox"], Field(description="For URL inputs: where the link points")
        ] = "direct",
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
        state = state_of(ctx)
        session = state.require_session()
        settings = state.settings
        try:
            catalog, account_kind, user = await catalog_and_account(state)
            algorithm = choose_model(catalog, model, account_kind)
            resolved = check_options(algorithm, options, account_kind)
            format_code = output_format_code(output_format or settings.output_format)
            root = absolute_path(output_dir, "output folder") if output_dir else settings.output_dir
            template = name_template or settings.name_template
            check_template(template)
            planned: list[PlannedInput] = await describe_inputs(
                expand_inputs(inputs, recursive=recursive), algorithm, resolved
            )
        except PlanError as exc:
            raise ToolError(str(exc)) from None
        plan = Plan(
            algorithm=algorithm, options=resolved, output_format=format_code, output_root=Path(root), inputs=planned
        )
        spends = bool(user.premium_enabled)
        out = SeparationOut(
            dry_run=dry_run,
            model=algorithm.name,
            model_id=algorithm.render_id,
            options=resolved,
            output_format=output_format or settings.output_format,
            output_dir=str(root),
            spends_credits=spends,
            credits_balance=user.premium_minutes,
            estimated_credits_total=plan.total_credits,
            estimates=_estimates(plan),
        )
        if spends and plan.total_credits is not None and plan.total_credits > user.premium_minutes:
            files = "This file needs" if len(planned) == 1 else f"These {len(planned)} files need"
            raise ToolError(
                f"{files} about {plan.total_credits} credits and the account has "
                f"{user.premium_minutes:g}. Buy credits on mvsep.com, separate fewer files, or turn premium mode off "
                f"(set_premium_mode, toolset account) to use the free queue."
            )
        header = (
            f"{algorithm.name} (model {algorithm.render_id}) on {len(planned)} input(s) → "
            f"{out.output_format} in {root}. {_cost_line(out)}"
        )
        if dry_run:
            lines = [
                f"- {Path(e.input).name if not e.input.startswith('http') else e.input}: "
                f"{e.duration_s or 0:.0f} s"
                + (f", ~{e.estimated_credits} credits" if spends and e.estimated_credits is not None else "")
                for e in out.estimates
            ]
            return result(
                out,
                f"Dry run, nothing sent. {header}\n"
                + "\n".join(lines)
                + "\nCall separate_audio again without dry_run to start.",
            )
        specs = build_specs(
            plan,
            account_key=session.account_key,
            base_url=settings.base_url,
            name_template=template,
            remote_type=remote_type,
            is_demo=publish_as_demo,
            batch_id=uuid.uuid4().hex[:12],
        )
        records = await state.runner.submit(specs)
        records = await state.runner.wait(
            session.account_key,
            [r.id for r in records],
            timeout=min(SUBMIT_WAIT_S, policy.WAIT_CALL_BUDGET_S),
            until="submitted",
        )
        out.jobs = [job_view(r) for r in records]
        ids = [j.id for j in out.jobs]
        failed = [j for j in out.jobs if j.state == "failed"]
        text = f"{header}\nSubmitted {len(ids)} job(s):\n" + "\n".join(job_line(j) for j in out.jobs)
        if failed and len(failed) == len(out.jobs):
            raise ToolError(f"MVSep refused the job(s): {failed[0].error}")
        text += f"\nNext: call wait_for_jobs with job_ids={ids} (repeat until all are completed)."
        return result(out, text)
