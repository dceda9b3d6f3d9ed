"""Toolset ``results``: download a finished job's result again into another folder; status of any MVSep hash."""

from __future__ import annotations

from typing import Annotated, Any

from mcp.server.mcpserver import Context, MCPServer
from mcp_types import CallToolResult
from mvsep_mcp.planning import absolute_path
from pydantic import Field

from mvsep_mcp_tools._common import (
    READ_ONLY,
    SPENDS_AND_WRITES,
    ToolOutput,
    result,
    session_of,
    tool,
)
from mvsep_mcp_tools._job_view import JobView, job_line, job_view


class HashStatus(ToolOutput):
    status: str = Field(description="waiting, processing, distributing, merging, done, failed, not_found, …")
    message: str | None = None
    queue_position: int | None = None
    queue_count: int | None = None
    chunks: str | None = None
    new_hash: str | None = Field(None, description="For URL jobs: the hash to poll once the download is done")
    files: list[dict[str, Any]] = Field(default_factory=list, description="type (stem), url, size, download")
    algorithm: str | None = None


def register(server: MCPServer[Any]) -> None:
    @tool(server, name="fetch_job_results", annotations=SPENDS_AND_WRITES)
    async def fetch_job_results(
        ctx: Context[Any, Any],
        job_id: Annotated[str, Field(description="Job id")],
        output_dir: Annotated[str, Field(description="Absolute folder")],
    ) -> Annotated[CallToolResult, JobView]:
        """Download a job's stems again into another folder while MVSep keeps them (~72 h). Free."""
        session = session_of(ctx)
        account = session.require_account()
        root = absolute_path(output_dir, "output folder")
        record = await session.runner.refetch(account.key, job_id, str(root))
        view = job_view(record)
        return result(view, f"{job_line(view)}\nNext: call wait_for_jobs with job_ids=['{view.id}'].")

    @tool(server, name="check_mvsep_hash", annotations=READ_ONLY)
    async def check_mvsep_hash(
        ctx: Context[Any, Any],
        hash: Annotated[str, Field(min_length=5, description="MVSep job hash")],
        remote: Annotated[
            bool, Field(description="A job created from a URL")
        ] = False,
    ) -> Annotated[CallToolResult, HashStatus]:
        """Status and file links of any MVSep job by hash, even one not started here. Free."""
        client = session_of(ctx).any_client()
        res = await (client.get_remote_separation(hash) if remote else client.get_separation(hash))
        d = res.data
        chunks = f"{d.finished_chunks}/{d.all_chunks}" if d.all_chunks else None
        out = HashStatus(
            status=res.status,
            message=d.message,
            queue_position=d.current_order,
            queue_count=d.queue_count,
            chunks=chunks,
            new_hash=d.hash if remote else None,
            files=[f.model_dump(include={"type", "url", "size", "download"}) for f in d.files],
            algorithm=d.algorithm,
        )
        text = f"{hash}: {res.status}" + (f" — {d.message}" if d.message else "")
        if out.files:
            text += "\n" + "\n".join(f"- {f.get('type')}: {f.get('url')}" for f in out.files)
        return result(out, text)
