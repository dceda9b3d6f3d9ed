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
    model_id: int
    options: dict[str, str]
    estimated_credits: int | None = None
    spends_credits: bool
    jobs: list[JobView]


async def _submit(session: Session, plan: Plan) -> CallToolResult:
    views = [job_view(r) for r in await submit_plan(session, plan)]
    out = StudioOut(
        model=plan.algorithm.name,
        model_id=plan.algorithm.render_id,
        options=plan.options,
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
        target: Annotated[str, Field(description="Absolute path of the track to master")],
        reference: Annotated[str, Field(description="Absolute path of a finished track whose sound to match")],
        model: Annotated[
            str | int | None, Field(description="A Matchering model id or name; default: MVSep's Matchering")
        ] = None,
        options: Annotated[
            dict[str, str | int | float] | None, Field(description="Model options by label or key")
        ] = None,
        output_format: Annotated[
            OutputFormatName | None, Field(description="Output format; default: the setting")
        ] = None,
        output_dir: Annotated[str | None, Field(description="Absolute output folder; default: the setting")] = None,
    ) -> Annotated[CallToolResult, StudioOut]:
        """Master a track so it sounds like a reference track (MVSep's Matchering): loudness, EQ, stereo width.
        Uploads both files and returns a job id at once; then call wait_for_jobs. Spends credits when premium mode
        is on. The mastered file is saved tagged like the target."""
        session = session_of(ctx)
        plan = await plan_mastering(session, target=target, reference=reference, model=model, options=options,
                                    output_format=output_format, output_dir=output_dir)
        return await _submit(session, plan)

    @tool(server, name="generate_from_text", annotations=SPENDS_AND_WRITES)
    async def generate_from_text(
        ctx: Context[Any, Any],
        model: Annotated[str | int, Field(description="A text-input model's id or name (search_models text='tts')")],
        options: Annotated[
            dict[str, str | int | float],
            Field(
                description=('The model\'s fields by label or key, including the text prompt, e.g. {"Text": "Hello"}')
            ),
        ],
        title: Annotated[str | None, Field(description="Title for the saved file(s)")] = None,
        output_format: Annotated[
            OutputFormatName | None, Field(description="Output format; default: the setting")
        ] = None,
        output_dir: Annotated[str | None, Field(description="Absolute output folder; default: the setting")] = None,
    ) -> Annotated[CallToolResult, StudioOut]:
        """Run a model that takes no audio upload (text to speech, generation) with the given text options.
        Returns a job id at once; then call wait_for_jobs. Spends credits when premium mode is on."""
        session = session_of(ctx)
        plan = await plan_text(session, model=model, options=options, title=title, output_format=output_format,
                               output_dir=output_dir)
        return await _submit(session, plan)
