"""Toolset ``jobs``: wait for jobs with progress (≤ ~45 s a call), list them from the local journal, cancel them."""

from __future__ import annotations

import base64
import logging
from collections.abc import Sequence
from typing import Annotated, Any

import anyio
from mcp.server.mcpserver import Context, MCPServer
from mcp_types import AudioContent, CallToolResult
from mvsep_mcp import policy
from mvsep_mcp.daw import DawError
from mvsep_mcp.daw.preview import PREVIEW_MIME
from mvsep_mcp.jobs.models import NON_TERMINAL_STATES, TERMINAL_STATES, JobRecord, JobState, ProgressUpdate
from mvsep_mcp.policy import PREVIEW_SECONDS
from mvsep_mcp.results.stem_player import stem_preview
from pydantic import Field

from mvsep_mcp_tools._caller import account_of, session_of
from mvsep_mcp_tools._job_view import JobView, file_links, job_line, job_view
from mvsep_mcp_tools._registration import DESTRUCTIVE, LOCAL_READ_ONLY, READ_ONLY, ToolOutput, result, tool
from mvsep_mcp_tools.player import UI_META, player_for, register_previews

logger = logging.getLogger(__name__)

TERMINAL_STATE_NAMES = frozenset(s.value for s in TERMINAL_STATES)


class WaitOut(ToolOutput):
    jobs: list[JobView]
    all_finished: bool = Field(description="True when every job has ended (completed, failed, cancelled, expired)")
    completed: int
    total: int
    # the stem player's data (player.Player), for clients with MCP Apps only: published as a bare object, since only
    # the App reads it and its full schema would cost every model ~700 bytes of tools/list
    player: dict[str, Any] | None = None


class JobList(ToolOutput):
    jobs: list[JobView]


def jobs_result(records: list[JobRecord], *, player: dict[str, Any] | None = None,
                previews: Sequence[AudioContent] = ()) -> CallToolResult:
    """What ``wait_for_jobs`` answers: each job and what to do next, a resource link per saved file, and the audio
    previews asked for."""
    views = [job_view(r) for r in records]
    completed = sum(1 for v in views if v.state == JobState.COMPLETED.value)
    finished = all(r.is_terminal for r in records)
    out = WaitOut(jobs=views, all_finished=finished, completed=completed, total=len(views), player=player)
    return result(out, jobs_text(views), [*file_links(records), *previews])


def jobs_text(views: list[JobView]) -> str:
    """The text of ``wait_for_jobs`` (and of a finished task): a line per job, manifests, or what to do next."""
    completed = sum(1 for v in views if v.state == JobState.COMPLETED.value)
    lines = "\n".join(job_line(v) for v in views)
    if all(v.state in TERMINAL_STATE_NAMES for v in views):
        manifests = sorted({v.manifest_path for v in views if v.manifest_path})
        tail = f"\nManifest(s): {', '.join(manifests)}" if manifests else ""
        return f"All {len(views)} job(s) finished, {completed} completed:\n{lines}{tail}"
    return (f"{completed}/{len(views)} completed so far:\n{lines}\n"
            f"Still running: call wait_for_jobs again with job_ids={[v.id for v in views]}.")


async def audio_previews(records: list[JobRecord]) -> list[AudioContent]:
    """The first seconds of every completed stem as small MP3s (stems that cannot be previewed, e.g. M4A, are
    left out: their links still serve the whole file)."""
    previews: list[AudioContent] = []
    for record in records:
        if record.state is not JobState.COMPLETED:
            continue
        for output in record.outputs:
            try:
                preview = await anyio.to_thread.run_sync(stem_preview, record, output.stem)
            except DawError as exc:
                logger.info("no preview of %s %s: %s", record.id, output.stem, exc.user_text())
                continue
            previews.append(AudioContent(type="audio", data=base64.b64encode(preview.data).decode("ascii"),
                                         mime_type=PREVIEW_MIME))
    return previews


def register(server: MCPServer[Any]) -> None:
    register_previews(server)

    @tool(server, name="wait_for_jobs", annotations=READ_ONLY, meta=UI_META)
    async def wait_for_jobs(
        ctx: Context[Any, Any],
        job_ids: Annotated[
            list[str] | None,
            Field(description="Default: all unfinished"),
        ] = None,
        max_wait_s: Annotated[
            float,
            Field(
                ge=0,
                le=policy.WAIT_CALL_BUDGET_S,
                description="At most this long",
            ),
        ] = policy.WAIT_CALL_BUDGET_S,
        audio_preview: Annotated[
            bool, Field(description=f"Stems' first {PREVIEW_SECONDS:g} s as audio")
        ] = False,
    ) -> Annotated[CallToolResult, WaitOut]:
        """Wait up to 45 s for jobs, with progress; finished ones are saved. Call again while any run."""
        account = await account_of(ctx)
        runner = session_of(ctx).runner
        if job_ids:
            ids = list(dict.fromkeys(job_ids))
            for job_id in ids:
                runner.get(account.key, job_id)  # raises JobNotFound for an id of another account or none
        else:
            ids = [r.id for r in runner.list(account.key, states=NON_TERMINAL_STATES, limit=200)]
            if not ids:
                jobs = [job_view(r) for r in runner.list(account.key, limit=5)]
                out = WaitOut(jobs=jobs, all_finished=True, completed=0, total=0)
                return result(
                    out,
                    "No unfinished jobs. Recent ones:\n" + "\n".join(job_line(j) for j in jobs)
                    if jobs
                    else "No jobs yet: start one with separate_audio.",
                )

        async def forward(update: ProgressUpdate) -> None:
            await ctx.report_progress(update.progress, update.total, update.text)

        deadline = anyio.current_time() + max_wait_s
        while True:
            remaining = deadline - anyio.current_time()
            records = await runner.wait(
                account.key,
                ids,
                timeout=max(0.0, min(policy.PROGRESS_INTERVAL_S, remaining)),
                on_progress=forward,
            )
            if all(r.is_terminal for r in records) or anyio.current_time() >= deadline:
                break
        previews = await audio_previews(records) if audio_preview else []
        return jobs_result(records, player=await player_for(ctx, records), previews=previews)

    @tool(server, name="list_jobs", annotations=LOCAL_READ_ONLY)
    async def list_jobs(
        ctx: Context[Any, Any],
        unfinished_only: bool = False,
        limit: Annotated[int, Field(ge=1, le=100)] = 20,
    ) -> Annotated[CallToolResult, JobList]:
        """Jobs started here, newest first."""
        session = session_of(ctx)
        account = await account_of(ctx)
        states = NON_TERMINAL_STATES if unfinished_only else None
        views = [job_view(r) for r in session.runner.list(account.key, states=states, limit=limit)]
        text = "\n".join(job_line(v) for v in views) if views else "No jobs yet."
        return result(JobList(jobs=views), text)

    @tool(server, name="cancel_job", annotations=DESTRUCTIVE)
    async def cancel_job(
        ctx: Context[Any, Any],
        job_id: str,
    ) -> Annotated[CallToolResult, JobView]:
        """Cancel a job MVSep has not started (credits refunded)."""
        session = session_of(ctx)
        account = await account_of(ctx)
        record = await session.runner.cancel(account.key, job_id)
        view = job_view(record)
        return result(view, f"Job {job_id} cancelled.")
