"""Builds the MCP server: the lifespan that owns the :class:`~mvsep_mcp.session.Session`, and the toolsets.

Nothing else lives here: the state is in :mod:`mvsep_mcp.session` (free of MCP), the tools in ``mvsep_mcp_tools``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

import anyio
from mcp.server.caching import CacheableMethod, CacheHint
from mcp.server.mcpserver import MCPServer
from mvsep_mcp_tools import extensions, register_all

from mvsep_mcp import __version__, policy
from mvsep_mcp.config import Settings
from mvsep_mcp.logs import protect_logs, register_secret
from mvsep_mcp.serving.http_server import prepare
from mvsep_mcp.session import Session

# Lists are the same for every caller and change only with the settings a server starts with; reads (a job's files,
# the catalogue) are left without a hint: they change as jobs run.
LIST_CACHE_HINTS: dict[CacheableMethod, CacheHint] = {
    method: CacheHint(ttl_ms=policy.LIST_TTL_MS, scope="public")
    for method in ("tools/list", "prompts/list", "resources/list", "resources/templates/list", "server/discover")
}

INSTRUCTIONS = """\
MVSep separates music into stems (vocals, drums, bass, other, …) and runs related audio models.
Typical flow: search_models (pick a model: sort by rating, filter by stem) → separate_audio (returns job ids at once;
dry_run=true first to show the cost when credits are spent) → wait_for_jobs (blocks up to ~45 s; call again until
every job is completed) → the stems are already saved as tagged files under the output folder, with a JSON manifest.
Never invent file paths: inputs must be absolute paths (or ~/…) or http(s) URLs.
"""


def create_server(settings: Settings, *, on_stopped: Callable[[], None] | None = None) -> MCPServer[Session]:
    """The MCP server with the toolsets ``settings`` enables, resources and prompts; ``on_stopped()`` runs once its
    session is closed (``mvsep_mcp.serving.stopping``: the process may then exit)."""
    if settings.token is not None:
        register_secret(settings.token.get_secret_value())

    running: list[Session] = []
    hosting = prepare(settings)  # authentication, and in hosted mode each user's own account (ConfigError if unusable)

    def current_session() -> Session:
        if not running:
            raise RuntimeError("the server is not running")
        return running[-1]

    @asynccontextmanager
    async def lifespan(_server: MCPServer[Session]) -> AsyncIterator[Session]:
        session = Session(settings)
        running.append(session)
        try:
            async with anyio.create_task_group() as tg:
                await session.start(tg)
                await hosting.attach(session, tg)
                try:
                    yield session
                finally:
                    tg.cancel_scope.cancel()
        finally:
            running.remove(session)
            with anyio.CancelScope(shield=True):
                await hosting.detach(session)
                await session.aclose()
            if on_stopped is not None:
                on_stopped()

    server: MCPServer[Session] = MCPServer(
        "mvsep",
        title="MVSep music separation",
        instructions=INSTRUCTIONS,
        version=__version__,
        website_url="https://mvsep.com",
        lifespan=lifespan,
        extensions=extensions(settings.toolsets),  # MCP Apps (the stem player) must be given at construction
        cache_hints=LIST_CACHE_HINTS,
        auth=hosting.auth,
        token_verifier=hosting.token_verifier,
    )
    protect_logs()  # after MCPServer() configured logging: the handlers it added get the filter too
    register_all(server, settings.toolsets, current_session)
    hosting.add_routes(server, lambda: running[-1] if running else None)
    return server
