"""Resources: the catalogue, one model, one job (as JSON), and a job's saved files: each stem (the audio, whole), each
file made from the stems (DJ stems, practice mixes: ``files/<file name>``), its manifest and its DAW session files
(``.dawproject`` as a blob, ``.rpp`` as text), read through ``resources/read`` while they are the files that were
saved and within the size a read carries (``results.stored``)."""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote

import anyio
from mcp.server.mcpserver import Context, MCPServer
from mvsep_mcp.catalog import describe
from mvsep_mcp.media.manifest import without_server_paths
from mvsep_mcp.results.sessions import SESSION_MIME
from mvsep_mcp.results.stored import read_file, read_manifest, read_session

from mvsep_mcp_tools._caller import account_of, session_of
from mvsep_mcp_tools._job_view import MADE_MIME, MANIFEST_TEMPLATE, SESSION_TEMPLATE, STEM_TEMPLATE, job_view
from mvsep_mcp_tools._registration import resource, shows_paths
from mvsep_mcp_tools.catalog import summary_of

if TYPE_CHECKING:
    from mvsep_mcp.session import Session


def register(server: MCPServer[Any], current_session: Callable[[], Session]) -> None:
    """``current_session`` gives the running server's session (static resources get no context in mcp 2.x)."""

    @resource(
        server,
        "mvsep://catalog",
        name="catalog",
        title="MVSep models",
        mime_type="application/json",
        description="Every active MVSep model: id, name, group, outputs, access, price, rating.",
    )
    async def catalog_resource() -> str:
        catalog = await current_session().catalog()
        page = catalog.search(sort="name", limit=10_000)
        return json.dumps([summary_of(a).model_dump(mode="json") for a in page.items], ensure_ascii=False)

    @resource(
        server,
        "mvsep://models/{render_id}",
        name="model",
        title="One MVSep model",
        mime_type="application/json",
        description="A model's details: options with labels and keys, defaults, conditions, prices.",
    )
    async def model_resource(render_id: str, ctx: Context[Any, Any]) -> str:
        catalog = await session_of(ctx).catalog()
        return describe(catalog.find(render_id)).model_dump_json()

    @resource(
        server,
        "mvsep://jobs/{job_id}",
        name="job",
        title="One job",
        mime_type="application/json",
        description="A job from the local journal: state, progress, saved files, manifest.",
    )
    async def job_resource(job_id: str, ctx: Context[Any, Any]) -> str:
        account = await account_of(ctx)
        return job_view(session_of(ctx).runner.get(account.key, job_id)).model_dump_json()

    async def stored(ctx: Context[Any, Any], job_id: str, read: Callable[..., bytes], *args: str) -> bytes:
        """A file of the caller's job, read by ``read(record, *args)`` (``results.stored``) off the event loop; a
        refusal names the server's folder only where results show paths."""
        account = await account_of(ctx)
        record = session_of(ctx).runner.get(account.key, unquote(job_id))
        return await anyio.to_thread.run_sync(functools.partial(read, record, *args, show_paths=shows_paths()))

    def file_resource(ext: str) -> Callable[..., Any]:
        async def read(job_id: str, stem: str, ctx: Context[Any, Any]) -> bytes:
            return await stored(ctx, job_id, read_file, unquote(stem), ext)

        return read

    for ext, mime in MADE_MIME.items():  # one template per file type: a read's mimeType is its template's
        resource(
            server,
            STEM_TEMPLATE.replace("{ext}", ext),
            name=f"stem_{ext}",
            title=f"A saved stem ({ext})",
            mime_type=mime,
            description=f"One stem of a completed job, or a file made from them, by name: the whole {ext} file.",
        )(file_resource(ext))

    @resource(
        server,
        MANIFEST_TEMPLATE,
        name="manifest",
        title="A job's manifest",
        mime_type="application/json",
        description="The JSON manifest saved beside a completed job's stems.",
    )
    async def manifest_resource(job_id: str, ctx: Context[Any, Any]) -> str:
        data = await stored(ctx, job_id, read_manifest)
        if not shows_paths():  # no server path may show (hosted mode, or as the settings ask)
            data = without_server_paths(data)
        return data.decode("utf-8")

    def session_resource(ext: str, text: bool) -> Callable[..., Any]:
        async def read(job_id: str, name: str, ctx: Context[Any, Any]) -> str | bytes:
            data = await stored(ctx, job_id, read_session, f"{unquote(name)}.{ext}")
            return data.decode("utf-8", errors="replace") if text else data

        return read

    for kind, mime in SESSION_MIME.items():  # one template per kind, for its MIME type (as the stems have)
        resource(
            server,
            SESSION_TEMPLATE.replace("{ext}", kind),
            name=f"session_{kind}",
            title=f"A DAW session (.{kind})",
            mime_type=mime,
            description=f"A .{kind} session written with the job's stems (make_daw_session, separate_audio).",
        )(session_resource(kind, text=mime.startswith("text/")))
