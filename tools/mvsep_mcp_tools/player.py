"""The stem player: an MCP App (``io.modelcontextprotocol/ui``) on ``wait_for_jobs``, and the previews it plays.

- ``extension()`` is the ``Apps`` extension given to the server at construction: it serves ``stem_player.html``
  (inline script and style, no network) at ``PLAYER_URI`` and advertises the extension to clients.
- ``UI_META`` is the ``_meta`` that binds a tool to the player (as ``Apps.tool`` stamps it; the tool itself is
  registered by ``_registration.tool`` so that errors and schemas are handled in the one place).
- ``player_for(ctx, records)`` is the ``player`` part of a result: None unless the client negotiated MCP Apps, so
  a host without Apps gets exactly the result it got before. Peaks are computed in a worker thread.
- ``register_previews(server)`` serves ``mvsep://jobs/{job_id}/preview/{stem}``: the first seconds of a stem as a
  small mono MP3 (a blob), read by the player through the host, since a sandboxed App cannot open local files.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from importlib.resources import files
from typing import Any
from urllib.parse import quote

import anyio
from mcp.server.apps import Apps, client_supports_apps
from mcp.server.mcpserver import Context, MCPServer
from mvsep_mcp.daw.peaks import peaks_text
from mvsep_mcp.daw.preview import PREVIEW_MIME
from mvsep_mcp.jobs.models import JobRecord
from mvsep_mcp.policy import PREVIEW_SECONDS
from mvsep_mcp.results.stem_player import PlayerView, player_view, stem_preview

from mvsep_mcp_tools._caller import account_of, session_of
from mvsep_mcp_tools._registration import ToolOutput, resource

PLAYER_URI = "ui://mvsep/stem-player.html"
PREVIEW_TEMPLATE = "mvsep://jobs/{job_id}/preview/{stem}"
UI_META: dict[str, Any] = {"ui": {"resourceUri": PLAYER_URI}}


class PlayerStem(ToolOutput):
    job_id: str
    stem: str
    name: str
    colour: str
    duration_s: float | None = None
    peaks: str | None = None  # base64, one byte per slice (0-255, linear)
    preview: str | None = None  # the preview's resource URI
    note: str | None = None


class PlayerSong(ToolOutput):
    title: str
    stems: list[PlayerStem]


class Player(ToolOutput):
    songs: list[PlayerSong]
    preview_s: float
    left_out: int = 0


@functools.cache
def player_html() -> str:
    return files("mvsep_mcp_tools").joinpath("stem_player.html").read_text(encoding="utf-8")


def extension() -> Apps:
    """The Apps extension serving the stem player (give it to ``MCPServer(extensions=[...])``)."""
    apps = Apps()
    apps.add_html_resource(PLAYER_URI, player_html(), name="stem-player", title="Stem player",
                           description="Each stem's waveform with play, solo and mute.", prefers_border=False)
    return apps


def preview_uri(job_id: str, stem: str) -> str:
    return PREVIEW_TEMPLATE.format(job_id=quote(job_id, safe=""), stem=quote(stem, safe=""))


def player_out(view: PlayerView) -> Player:
    return Player(
        songs=[PlayerSong(title=song.title, stems=[
            PlayerStem(job_id=s.job_id, stem=s.stem, name=s.name, colour=s.colour, duration_s=s.duration_s,
                       peaks=peaks_text(s.peaks) if s.peaks is not None else None,
                       preview=preview_uri(s.job_id, s.stem) if s.peaks is not None else None, note=s.note)
            for s in song.stems]) for song in view.songs],
        preview_s=PREVIEW_SECONDS,
        left_out=view.left_out,
    )


async def player_for(ctx: Context[Any, Any], records: Sequence[JobRecord]) -> dict[str, Any] | None:
    """The player's data for ``records`` (a ``Player`` as JSON), or None for a client without MCP Apps or when no
    job has stems to play."""
    if not client_supports_apps(ctx) or not any(r.outputs for r in records):
        return None
    view = await anyio.to_thread.run_sync(functools.partial(player_view, list(records)))
    return player_out(view).model_dump(mode="json", exclude_none=True) if view.songs else None


def register_previews(server: MCPServer[Any]) -> None:
    @resource(
        server,
        PREVIEW_TEMPLATE,
        name="stem_preview",
        title="Stem preview",
        mime_type=PREVIEW_MIME,
        description=f"The first {PREVIEW_SECONDS:g} s of a job's stem as a small mono MP3, for the stem player.",
    )
    async def stem_preview_resource(job_id: str, stem: str, ctx: Context[Any, Any]) -> bytes:
        record = session_of(ctx).runner.get((await account_of(ctx)).key, job_id)
        preview = await anyio.to_thread.run_sync(stem_preview, record, stem)
        return preview.data
