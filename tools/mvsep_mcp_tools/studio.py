"""Toolset ``studio``: Matchering (master a track to a reference) and text-input models (speech, generation)."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Annotated, Any, Literal

import anyio
from mcp.server.mcpserver import Context, MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from mcp_types import CallToolResult
from mvsep_mcp import policy
from mvsep_mcp.catalog import Catalog, estimate_cost
from mvsep_mcp.jobs.models import JobSpec
from mvsep_mcp.mvsep.models import Algorithm
from mvsep_mcp.planning import (
    PlanError,
    absolute_path,
    check_options,
    check_template,
    choose_model,
    describe_file,
    model_widget,
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


class StudioOut(ToolOutput):
    model: str
    model_id: int
    options: dict[str, str]
    estimated_credits: int | None = None
    spends_credits: bool
    jobs: list[JobView]


def _first_model(catalog: Catalog, widget: str) -> Algorithm:
    for algorithm in catalog.algorithms:
        if model_widget(algorithm) == widget:
            return algorithm
    raise PlanError("MVSep's catalogue lists no model of that kind right now; search_models to see what exists.")


def register(server: MCPServer[Any]) -> None:
    async def submit(
        ctx: Context[Any, Any],
        spec_kwargs: dict[str, Any],
        algorithm: Algorithm,
        options: dict[str, str],
        estimate: int | None,
        spends: bool,
    ) -> CallToolResult:
        state = state_of(ctx)
        session = state.require_session()
        spec = JobSpec(
            account_key=session.account_key,
            base_url=state.settings.base_url,
            sep_type=algorithm.render_id,
            model_name=algorithm.name,
            options=options,
            estimated_cost=estimate,
            batch_id=uuid.uuid4().hex[:12],
            **spec_kwargs,
        )
        records = await state.runner.submit([spec])
        records = await state.runner.wait(
            session.account_key,
            [r.id for r in records],
            timeout=min(20.0, policy.WAIT_CALL_BUDGET_S),
            until="submitted",
        )
        views = [job_view(r) for r in records]
        if all(v.state == "failed" for v in views):
            raise ToolError(f"MVSep refused the job: {views[0].error}")
        out = StudioOut(
            model=algorithm.name,
            model_id=algorithm.render_id,
            options=options,
            estimated_credits=estimate,
            spends_credits=spends,
            jobs=views,
        )
        ids = [v.id for v in views]
        return result(
            out,
            f"{algorithm.name}: submitted\n"
            + "\n".join(job_line(v) for v in views)
            + f"\nNext: call wait_for_jobs with job_ids={ids} until completed.",
        )

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
        state = state_of(ctx)
        try:
            catalog, kind, user = await catalog_and_account(state)
            algorithm = (
                choose_model(catalog, model, kind, widget="matchering_upload")
                if model
                else _first_model(catalog, "matchering_upload")
            )
            resolved = check_options(algorithm, options, kind)
            fmt = output_format_code(output_format or state.settings.output_format)
            root = absolute_path(output_dir, "output folder") if output_dir else state.settings.output_dir
            check_template(state.settings.name_template)
            target_info = await anyio.to_thread.run_sync(describe_file, absolute_path(target, "target"))
            reference_info = await anyio.to_thread.run_sync(describe_file, absolute_path(reference, "reference"))
        except PlanError as exc:
            raise ToolError(str(exc)) from None
        estimate = (
            estimate_cost(algorithm, resolved, target_info.duration_s).credits if target_info.duration_s else None
        )
        return await submit(
            ctx,
            {
                "kind": "matchering",
                "target_path": target_info.source,
                "reference_path": reference_info.source,
                "output_format": fmt,
                "output_root": str(root),
                "name_template": state.settings.name_template,
                "input_sha256": target_info.sha256,
                "reference_sha256": reference_info.sha256,
                "input_tags": target_info.tags,
            },
            algorithm,
            resolved,
            estimate,
            bool(user.premium_enabled),
        )

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
        state = state_of(ctx)
        try:
            catalog, kind, user = await catalog_and_account(state)
            algorithm = choose_model(catalog, model, kind, widget="no_upload")
            resolved = check_options(algorithm, options, kind)
            fmt = output_format_code(output_format or state.settings.output_format)
            root = absolute_path(output_dir, "output folder") if output_dir else state.settings.output_dir
            check_template(state.settings.name_template)
        except PlanError as exc:
            raise ToolError(str(exc)) from None
        tags = {"title": title} if title else {}
        return await submit(
            ctx,
            {
                "kind": "text",
                "output_format": fmt,
                "output_root": str(Path(root)),
                "name_template": state.settings.name_template,
                "input_tags": tags,
            },
            algorithm,
            resolved,
            None,
            bool(user.premium_enabled),
        )
