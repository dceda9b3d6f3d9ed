"""Toolset ``results``: download a finished job's result again into another folder; status of any MVSep hash; a DAW
session (``.dawproject``, ``.rpp``) of one song's stems picked from its jobs; files made from a job's stems: DJ stems
(``.stem.mp4``) and practice mixes."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Annotated, Any, Literal

import anyio
from mcp.server.mcpserver import Context, MCPServer
from mcp_types import CallToolResult
from mvsep_mcp.daw.ni_stems import STEM_NAMES
from mvsep_mcp.hosted.errors import NotOnThisServer
from mvsep_mcp.hosted.storage import check_quota
from mvsep_mcp.jobs.chains import earlier_steps
from mvsep_mcp.mvsep import OutputFormatName
from mvsep_mcp.planning import absolute_path
from mvsep_mcp.results.made import MadeFile, make_dj_stems, make_mix, record_made
from mvsep_mcp.results.recorded import record_sessions
from mvsep_mcp.results.sessions import SESSION_FORMATS, SessionFormat, StemPick, WrittenSession, sessions_from_jobs
from pydantic import BaseModel, Field
from pydantic.json_schema import SkipJsonSchema

from mvsep_mcp_tools._caller import account_of, session_of
from mvsep_mcp_tools._job_view import (
    JobView,
    download_url,
    file_links,
    job_line,
    job_view,
    made_links,
    made_uri,
    session_links,
    shown_path,
)
from mvsep_mcp_tools._registration import LOCAL_WRITES, READ_ONLY, SPENDS_AND_WRITES, ToolOutput, result, tool


class HashStatus(ToolOutput):
    status: str = Field(description="waiting, processing, distributing, merging, done, failed, not_found, …")
    message: str | None = None
    queue_position: int | None = None
    queue_count: int | None = None
    chunks: str | None = None
    new_hash: str | None = Field(None, description="For URL jobs: the hash to poll once the download is done")
    files: list[dict[str, Any]] = Field(default_factory=list, description="type (stem), url, size, download")
    algorithm: str | None = None


class Pick(BaseModel):
    job_id: str
    stem: str | None = None


class SessionFiles(ToolOutput):
    title: str
    files: list[str]
    tracks: list[str]
    notes: list[str] = Field(default_factory=list)


class Made(ToolOutput):
    """A file made from a job's stems: where it is and its resource URI (what it holds, a mix's gain and how a track
    was made are in the text and in the job's manifest, which the answer links)."""

    file: str
    uri: str
    url: SkipJsonSchema[str | None] = None  # hosted only: a signed download URL (left out of the published schema)


_OPENS_IN = {".dawproject": "Bitwig, Studio One, Cubase 14", ".rpp": "REAPER"}


def session_text(written: WrittenSession) -> str:
    tracks = [t.name + (" (muted)" if t.muted else "") for t in written.session.tracks]
    lines = [f"Session of {written.session.title}: {', '.join(tracks)}."]
    lines += [f"- {shown_path(p)} (opens in {_OPENS_IN.get(p.suffix.lower(), 'a DAW')})" for p in written.paths]
    return "\n".join(lines + list(written.notes))


def made_text(made: MadeFile) -> str:
    """What was made, for the model: the file, what it holds, how, and where it plays."""
    name = made.path.name
    if made.kind == "dj_stems":
        line = f"DJ stems: {name} (the song + {', '.join(STEM_NAMES)}; plays in Traktor, Mixxx 2.5+, djay)."
    else:
        lowered = f", lowered {-(made.gain_db or 0.0):.1f} dB so as not to clip" if made.gain not in (None, 1.0) else ""
        line = f"Mix: {name} = {' + '.join(made.stems)}{lowered}."
    again = ["Made before and unchanged: the same file."] if made.reused else []
    return "\n".join([line, *made.notes, *again])


async def _make(ctx: Context[Any, Any], job_id: str, make: Callable[..., MadeFile]) -> CallToolResult:
    session = session_of(ctx)
    account = await account_of(ctx)
    record = session.runner.get(account.key, job_id)
    steps_before = earlier_steps(lambda step: session.runner.get(account.key, step), record)  # a chain's stems too
    if account.home is not None:  # hosted: a big file must fit the user's storage
        hosted = session.settings.hosted
        await anyio.to_thread.run_sync(check_quota, account.home, hosted.quota_bytes, hosted.retention_days)
    made = await anyio.to_thread.run_sync(functools.partial(make, record, steps_before=steps_before))
    await record_made(session.runner.changes, made)
    out = Made(file=shown_path(made.path), uri=made_uri(record.id, made.path), url=download_url(made.path))
    download = f"\nDownload: {out.url}" if out.url else ""  # hosted: the model hands the link to the user
    return result(out, made_text(made) + download, made_links(record.id, [made.path]))


def register(server: MCPServer[Any]) -> None:
    @tool(server, name="fetch_job_results", annotations=SPENDS_AND_WRITES)
    async def fetch_job_results(
        ctx: Context[Any, Any],
        job_id: str,
        output_dir: Annotated[str, Field(description="Absolute folder")],
    ) -> Annotated[CallToolResult, JobView]:
        """Download a job's stems again into another folder (~72 h). Free."""
        session = session_of(ctx)
        account = await account_of(ctx)
        if account.home is not None:
            raise NotOnThisServer("On this hosted server your stems stay in your own storage: wait_for_jobs links "
                                  "each file for download, so there is no folder to fetch them into.")
        root = absolute_path(output_dir, "output folder")
        record = await session.runner.refetch(account.key, job_id, str(root))
        view = job_view(record)
        return result(view, f"{job_line(view)}\nNext: call wait_for_jobs with job_ids=['{view.id}'].",
                      file_links([record]))

    @tool(server, name="check_mvsep_hash", annotations=READ_ONLY)
    async def check_mvsep_hash(
        ctx: Context[Any, Any],
        hash: Annotated[str, Field(min_length=5, description="Job hash")],
        remote: Annotated[bool, Field(description="Created from a URL")] = False,
    ) -> Annotated[CallToolResult, HashStatus]:
        """Status and file links of any MVSep job hash."""
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

    @tool(server, name="make_daw_session", annotations=LOCAL_WRITES)
    async def make_daw_session(
        ctx: Context[Any, Any],
        picks: Annotated[
            list[Pick],
            Field(min_length=1, description="Jobs of one song; job_id alone: all stems"),
        ],
        formats: Annotated[
            list[Literal["dawproject", "rpp"]] | None, Field(description="Default: both")
        ] = None,
        embed: Annotated[bool, Field(description="Stems inside the .dawproject")] = False,
    ) -> Annotated[CallToolResult, SessionFiles]:
        """A .dawproject (Bitwig, Studio One, Cubase) and .rpp (REAPER) of one song's stems, beside them (mix
        muted). Free."""
        session = session_of(ctx)
        account = await account_of(ctx)
        records = [session.runner.get(account.key, p.job_id) for p in picks]
        wanted: list[SessionFormat] = list(formats or SESSION_FORMATS)
        written = await anyio.to_thread.run_sync(functools.partial(
            sessions_from_jobs, records, [StemPick(p.job_id, p.stem) for p in picks], wanted, embed=embed))
        await record_sessions(session.runner.changes, written)
        out = SessionFiles(title=written.session.title, files=[shown_path(p) for p in written.paths],
                         tracks=[t.name for t in written.session.tracks], notes=list(written.notes))
        return result(out, session_text(written), session_links(written.song.picked[0].record.id, written.paths))

    @tool(server, name="make_dj_stems", annotations=LOCAL_WRITES)
    async def make_dj_stems_tool(ctx: Context[Any, Any], job_id: str) -> Annotated[CallToolResult, Made]:
        """DJ stems (.stem.mp4: song, drums, bass, other, vocals) of a completed job. Free."""
        return await _make(ctx, job_id, make_dj_stems)

    @tool(server, name="mix_stems", annotations=LOCAL_WRITES)
    async def mix_stems(
        ctx: Context[Any, Any],
        job_id: str,
        without: Annotated[list[str] | None, Field(description="Stems to leave out")] = None,
        only: Annotated[list[str] | None, Field(description="Stems to keep")] = None,
        output_format: Annotated[OutputFormatName | None, Field(description="Default: the stems'")] = None,
    ) -> Annotated[CallToolResult, Made]:
        """A completed job's stems summed in one file, e.g. without=['Bass']. Free."""
        return await _make(ctx, job_id, functools.partial(make_mix, without=without, only=only,
                                                          output_format=output_format))
