"""Toolset ``quality``: MVSep's quality checker — public leaderboards of separation quality, entries, submissions."""

from __future__ import annotations

import json
from typing import Annotated, Any

import anyio.to_thread
from mcp.server.mcpserver import Context, MCPServer
from mcp_types import CallToolResult
from mvsep_mcp.hosted.errors import NotOnThisServer
from mvsep_mcp.mvsep.models import QualityEntry
from mvsep_mcp.planning import readable_file
from pydantic import Field

from mvsep_mcp_tools._caller import account_of, session_of
from mvsep_mcp_tools._registration import DESTRUCTIVE, READ_ONLY, SPENDS_AND_WRITES, Skip, ToolOutput, result, tool

DATASET_TYPES = {0: "Synth", 1: "Multi", 2: "Piano", 3: "Lead/Back vocals", 4: "Guitar"}


class EntryOut(ToolOutput):
    id: int | None = None
    algo_name: str | None = None
    dataset_type: int | None = None
    dataset_name: str | None = None
    date: str | None = None
    state: int | str | None = Field(None, description="Processing state (MVSep's proc: 0 queued, 1 done, 2 failed)")
    message: str | None = Field(None, description="'OK' or an error")
    scores: dict[str, Any] = Field(default_factory=dict, description="SDR and other metrics by stem")
    description: str | None = None


class EntriesOut(ToolOutput):
    entries: list[EntryOut]
    next_start: int | None = None


class LeaderboardOut(EntriesOut):
    sortables: list[str] = Field(default_factory=list, description="Columns `sort` accepts")
    sort: str | None = Field(default=None, description="The column sorted by")


class SubmittedOut(ToolOutput):
    id: int | None = None
    link: str | None = None


class DeletedOut(ToolOutput):
    id: int
    message: str


def _text(value: Any) -> str | None:
    """A scalar as text, a list or object as compact JSON, None as None."""
    if value is None:
        return None
    return value if isinstance(value, str) else json.dumps(value) if isinstance(value, dict | list) else str(value)


def state_out(proc: Any) -> int | str | None:
    """MVSep's ``proc``: a number (as a number or a numeric string), else kept as text."""
    if isinstance(proc, int) and not isinstance(proc, bool):
        return proc
    text = _text(proc)
    return int(text) if text is not None and text.lstrip("-").isdigit() else text


def sortables_out(sortables: Any) -> list[str]:
    """MVSep documents a list of column names; an object's keys or a single name are read the same way."""
    if sortables is None:
        return []
    if isinstance(sortables, dict):
        return [str(key) for key in sortables]
    if isinstance(sortables, list):
        return [text for text in (_text(item) for item in sortables) if text is not None]
    return [str(sortables)]


def entry_out(entry: QualityEntry) -> EntryOut:
    extras = entry.model_extra or {}
    scores = {k: v for k, v in extras.items() if k.startswith(("sdr", "metric"))}
    if isinstance(entry.metrics, dict):
        scores.update(entry.metrics)
    return EntryOut(
        id=entry.id,
        algo_name=entry.algo_name,
        dataset_type=entry.dataset_type,
        dataset_name=entry.dataset_name,
        date=entry.date,
        state=state_out(entry.proc),
        message=entry.msg,
        scores=scores,
        description=entry.main_text,
    )


def _summary(entries: list[EntryOut]) -> str:
    lines = []
    for e in entries:
        best = ", ".join(f"{k}={v}" for k, v in list(e.scores.items())[:4])
        lines.append(f"- #{e.id} {e.algo_name} ({e.date or '?'}): {best or e.message or ''}")
    return "\n".join(lines) or "No entries."


def register(server: MCPServer[Any]) -> None:
    @tool(server, name="quality_leaderboard", annotations=READ_ONLY)
    async def quality_leaderboard(
        ctx: Context[Any, Any],
        dataset_type: Annotated[
            int,
            Field(
                ge=0, le=20, description="e.g. 0 Synth, 1 Multi, 2 Piano"
            ),
        ] = 0,
        algo_name_filter: Annotated[str | None, Field(description="Name contains")] = None,
        sort: Annotated[str | None, Field(description="e.g. sdr_vocals")] = None,
        start: Skip = 0,
        limit: Annotated[int, Field(ge=1, le=100)] = 20,
    ) -> Annotated[CallToolResult, LeaderboardOut]:
        """Quality-checker leaderboard: models by SDR per stem."""
        board = (
            await session_of(ctx)
            .any_client()
            .quality_leaderboard(
                dataset_type=dataset_type, start=start, limit=limit, algo_name_filter=algo_name_filter, sort=sort
            )
        )
        entries = [entry_out(e) for e in board.data]
        out = LeaderboardOut(
            entries=entries,
            sortables=sortables_out(board.sortables),
            sort=_text(board.sort),
            next_start=start + len(entries) if len(entries) == limit else None,
        )
        name = DATASET_TYPES.get(dataset_type, f"dataset {dataset_type}")
        return result(out, f"Leaderboard ({name}):\n{_summary(entries)}")

    @tool(server, name="quality_entry", annotations=READ_ONLY)
    async def quality_entry(
        ctx: Context[Any, Any],
        entry_id: Annotated[int, Field(ge=1)],
    ) -> Annotated[CallToolResult, EntryOut]:
        """A quality-checker entry's scores."""
        entry = entry_out(await session_of(ctx).any_client().quality_entry(entry_id))
        return result(entry, _summary([entry]))

    @tool(server, name="quality_queue", annotations=READ_ONLY)
    async def quality_queue(
        ctx: Context[Any, Any],
        start: Skip = 0,
        limit: Annotated[int, Field(ge=1, le=100)] = 20,
    ) -> Annotated[CallToolResult, EntriesOut]:
        """Quality-checker entries awaiting scores."""
        queue = await session_of(ctx).any_client().quality_queue(start=start, limit=limit)
        entries = [entry_out(e) for e in queue]
        out = EntriesOut(entries=entries, next_start=start + len(entries) if len(entries) == limit else None)
        return result(out, f"Quality-checker queue:\n{_summary(entries)}")

    @tool(server, name="quality_submit", annotations=SPENDS_AND_WRITES)
    async def quality_submit(
        ctx: Context[Any, Any],
        zip_path: Annotated[str, Field(description="Absolute .zip path")],
        algo_name: Annotated[str, Field(min_length=1, description="Leaderboard name")],
        description: Annotated[str, Field(description="Shown with it")],
        dataset_type: Annotated[int, Field(ge=0, le=20, description="Dataset")],
        password: Annotated[str, Field(min_length=1, description="To delete it later")],
        ensemble: Annotated[bool, Field(description="Is an ensemble")] = False,
    ) -> Annotated[CallToolResult, SubmittedOut]:
        """Submit your outputs (a zip) to the quality checker; ask the user first."""
        account = await account_of(ctx)
        if account.home is not None:
            raise NotOnThisServer("A hosted server does not read files on its own disk: submit the zip to MVSep's "
                                  "quality checker from a local mvsep-mcp or on mvsep.com.")
        path = await anyio.to_thread.run_sync(readable_file, zip_path, "zip")
        added = await account.client.quality_add(
            path,
            algo_name=algo_name,
            main_text=description,
            dataset_type=dataset_type,
            ensemble=ensemble,
            password=password,
        )
        out = SubmittedOut(id=added.id, link=added.link)
        return result(out, f"Submitted as entry #{added.id}: {added.link or ''}. Check quality_queue for its progress.")

    @tool(server, name="quality_delete", annotations=DESTRUCTIVE)
    async def quality_delete(
        ctx: Context[Any, Any],
        entry_id: Annotated[int, Field(ge=1)],
        password: Annotated[str, Field(min_length=1, description="Its password")],
    ) -> Annotated[CallToolResult, DeletedOut]:
        """Delete your quality-checker entry."""
        message = await session_of(ctx).any_client().quality_delete(entry_id, password)
        return result(DeletedOut(id=entry_id, message=message), f"Entry #{entry_id}: {message}")
