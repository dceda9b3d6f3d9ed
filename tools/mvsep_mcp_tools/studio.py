"""Toolset ``studio``: Matchering (master a track to a reference) and text-input models (speech, generation)."""

from __future__ import annotations

from typing import Annotated, Any

from mcp.server.mcpserver import Context, MCPServer
from mcp_types import CallToolResult
from mvsep_mcp.mvsep import OutputFormatName
from mvsep_mcp.planning import Plan, plan_mastering, plan_text, submit_plan
from mvsep_mcp.session import Session
from pydantic import Field

from mvsep_mcp_tools._common import SPENDS_AND_WRITES, ToolOutput, result, session_of, tool
from mvsep_mcp_tools._job_view import JobView, job_line, job_view


class StudioOut(ToolOutput):
    model: str
    estimated_credits: int | None = None
    spends_credits: bool
    jobs: list[JobView]


async def _submit(session: Session, plan: Plan) -> CallToolResult:
    views = [job_view(r) for r in await submit_plan(session, plan)]
    out = StudioOut(
        model=plan.algorithm.name,
        estimated_credits=plan.total_credits,
        spends_credits=plan.spends_credits,
        jobs=views,
    )
    ids = [v.id for v in views]
    return result(
        out,
        f"{plan.algorithm.name}: submitted\n"
        + "\n".join(job_line(v) for v in views)
        + f"\nNext: call wait_for_jobs with job_ids={ids} until completed.",
    )


def register(server: MCPServer[Any]) -> None:
    @tool(server, name="master_audio", annotations=SPENDS_AND_WRITES)
    async def master_audio(
        ctx: Context[Any, Any],
        target: Annotated[str, Field(description="Absolute path of the track")],
        reference: Annotated[str, Field(description="Absolute path of the track to sound like")],
        model: Annotated[
            str | int | None, Field(description="Default: MVSep's Matchering")
        ] = None,
        options: Annotated[
            dict[str, str | int | float] | None, Field(description="By label or key")
        ] = None,
        output_format: Annotated[
            OutputFormatName | None, Field(description="Default: the setting")
        ] = None,
        output_dir: Annotated[str | None, Field(description="Absolute folder; default: the setting")] = None,
    ) -> Annotated[CallToolResult, StudioOut]:
        """Master a track to sound like a reference (Matchering). Returns a job id: then wait_for_jobs. Spends credits
        in premium mode."""
        session = session_of(ctx)
        plan = await plan_mastering(session, target=target, reference=reference, model=model, options=options,
                                    output_format=output_format, output_dir=output_dir)
        return await _submit(session, plan)

    @tool(server, name="generate_from_text", annotations=SPENDS_AND_WRITES)
    async def generate_from_text(
        ctx: Context[Any, Any],
        model: Annotated[str | int, Field(description="Id or name (search_models text='tts')")],
        options: Annotated[
            dict[str, str | int | float],
            Field(
                description='By label or key, with the text, e.g. {"Text": "Hello"}'
            ),
        ],
        title: Annotated[str | None, Field(description="Title of the saved files")] = None,
        output_format: Annotated[
            OutputFormatName | None, Field(description="Default: the setting")
        ] = None,
        output_dir: Annotated[str | None, Field(description="Absolute folder; default: the setting")] = None,
    ) -> Annotated[CallToolResult, StudioOut]:
        """Run a text-input model (speech, generation). Returns a job id: then wait_for_jobs. Spends credits in
        premium mode."""
        session = session_of(ctx)
        plan = await plan_text(session, model=model, options=options, title=title, output_format=output_format,
                               output_dir=output_dir)
        return await _submit(session, plan)
