"""Builds the MCP server: settings, the shared state (journal, runner, catalogue, account), toolsets from ``tools/``.

The state lives for the server's lifetime (the lifespan): one job runner in the background that keeps creating,
polling and downloading jobs between tool calls, so finished jobs land on disk without being asked.
Nothing here assumes one user per process: an :class:`AccountSession` is what a token buys, keyed by a hash of it.
"""

from __future__ import annotations

import hashlib
import importlib
import logging
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import anyio
from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ToolError

from mvsep_mcp import __version__, policy
from mvsep_mcp.catalog import AccountKind, Catalog, CatalogCache, cache_path_for
from mvsep_mcp.config import Settings
from mvsep_mcp.jobs import JobRunner, Journal
from mvsep_mcp.logs import protect_logs, register_secret
from mvsep_mcp.mvsep import MVSepClient
from mvsep_mcp.mvsep.errors import APIError, MVSepError
from mvsep_mcp.mvsep.models import Algorithm, UserInfo

log = logging.getLogger(__name__)

USER_INFO_TTL_S = 60.0
CATALOG_SCOPES = ("single_upload", "no_upload", "matchering_upload")  # every model, not just uploads

INSTRUCTIONS = """\
MVSep separates music into stems (vocals, drums, bass, other, …) and runs related audio models.
Typical flow: search_models (pick a model: sort by rating, filter by stem) → separate_audio (returns job ids at once;
dry_run=true first to show the cost when credits are spent) → wait_for_jobs (blocks up to ~45 s; call again until
every job is completed) → the stems are already saved as tagged files under the output folder, with a JSON manifest.
Never invent file paths: inputs must be absolute paths (or ~/…) or http(s) URLs.
"""


def account_key_for(token: str, base_url: str) -> str:
    """A stable, non-reversible key for an account on one MVSep host (the token itself is never stored)."""
    host = urlsplit(base_url).netloc
    return hashlib.sha256(f"{host}\0{token}".encode()).hexdigest()[:20]


@dataclass
class AccountSession:
    """One MVSep account as this server uses it: a client with its token, and what we know of the account."""

    client: MVSepClient
    account_key: str
    _user: UserInfo | None = None
    _user_at: float = 0.0
    _lock: anyio.Lock = field(default_factory=anyio.Lock)

    async def user(self, refresh: bool = False) -> UserInfo:
        async with self._lock:
            if refresh or self._user is None or time.monotonic() - self._user_at > USER_INFO_TTL_S:
                self._user = await self.client.user()
                self._user_at = time.monotonic()
            return self._user

    @staticmethod
    def concurrency(user: UserInfo) -> int:
        return policy.PREMIUM_CONCURRENT_JOBS if user.premium_enabled else policy.FREE_CONCURRENT_JOBS

    async def account_kind(self) -> AccountKind:
        """'premium' when the account has credits and premium mode on, else 'registered' (a token means registered)."""
        user = await self.user()
        return "premium" if user.premium_enabled and user.premium_minutes > 0 else "registered"


class AppState:
    """Everything the tools share for the server's lifetime."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.journal = Journal(settings.journal_path)
        self.runner = JobRunner(
            self.journal,
            poll_interval=settings.poll_interval,
            # back-off while queued stays proportionate when a fast poll interval is configured (sandbox, tests)
            poll_interval_max=min(policy.POLL_INTERVAL_MAX_S, settings.poll_interval * 4),
        )
        self._public_client = MVSepClient(None, base_url=settings.base_url)
        self.catalogs = CatalogCache(
            self._fetch_catalog,
            cache_path_for(settings.base_url, settings.cache_dir),
            base_url=settings.base_url,
        )
        self.session: AccountSession | None = None
        self._task_group: anyio.abc.TaskGroup | None = None

    async def _fetch_catalog(self) -> list[Algorithm]:
        try:
            return await self._public_client.algorithms(scopes=CATALOG_SCOPES)
        except APIError as exc:  # a host that does not know `scopes` still serves the upload models
            log.warning("the catalogue with scopes was refused (%s); fetching the default scope", exc.status_code)
            return await self._public_client.algorithms()

    async def start(self, task_group: anyio.abc.TaskGroup) -> None:
        self._task_group = task_group
        if self.settings.token is not None:
            await self.use_token(self.settings.token.get_secret_value(), source=self.settings.token_source)
        await self.runner.start(task_group)

    async def use_token(self, token: str, *, source: str) -> AccountSession:
        """Start using ``token`` for this process (from settings at start-up, or after the login tool)."""
        register_secret(token)
        client = MVSepClient(token, base_url=self.settings.base_url)
        session = AccountSession(client=client, account_key=account_key_for(token, self.settings.base_url))
        # Start on the safe side (the free limit) without waiting for MVSep: start-up never blocks on the network.
        await self.runner.attach_account(session.account_key, client, concurrency=policy.FREE_CONCURRENT_JOBS)
        if self._task_group is not None:
            self._task_group.start_soon(self._learn_limit, session)
        if self.session is not None and self.session.account_key != session.account_key:
            await self.session.client.aclose()
        self.session = session
        if source != self.settings.token_source:
            self.settings = self.settings.model_copy(update={"token_source": source})
        return session

    async def _learn_limit(self, session: AccountSession) -> None:
        """Raise the account's concurrency once MVSep says it is premium (a bad token is reported per call)."""
        try:
            limit = session.concurrency(await session.user())
        except MVSepError as exc:
            log.warning(
                "could not read the account (%s); keeping %d job at a time",
                type(exc).__name__,
                policy.FREE_CONCURRENT_JOBS,
            )
            return
        if limit != self.runner.concurrency(session.account_key):
            await self.runner.attach_account(session.account_key, session.client, concurrency=limit)

    def require_session(self) -> AccountSession:
        if self.session is None:
            from mvsep_mcp_tools._common import TOKEN_HELP

            raise ToolError(TOKEN_HELP)
        return self.session

    def any_client(self) -> MVSepClient:
        """The account's client when there is a token, else a token-less one (for public endpoints)."""
        return self.session.client if self.session is not None else self._public_client

    async def catalog(self, refresh: bool = False) -> Catalog:
        return await self.catalogs.get(refresh=refresh)

    async def aclose(self) -> None:
        self.runner.stop()
        if self.session is not None:
            await self.session.client.aclose()
        await self._public_client.aclose()
        self.journal.close()


TOOLSET_MODULES = {
    "catalog": "mvsep_mcp_tools.catalog",
    "separation": "mvsep_mcp_tools.separation",
    "jobs": "mvsep_mcp_tools.jobs",
    "studio": "mvsep_mcp_tools.studio",
    "results": "mvsep_mcp_tools.results",
    "account": "mvsep_mcp_tools.account",
    "site": "mvsep_mcp_tools.site",
    "quality": "mvsep_mcp_tools.quality",
    "auth": "mvsep_mcp_tools.auth",
}


def create_server(settings: Settings) -> MCPServer[AppState]:
    """The MCP server with the toolsets ``settings`` enables, resources and prompts."""
    if settings.token is not None:
        register_secret(settings.token.get_secret_value())

    running: list[AppState] = []

    def current_state() -> AppState:
        if not running:
            raise RuntimeError("the server is not running")
        return running[-1]

    @asynccontextmanager
    async def lifespan(_server: MCPServer[AppState]) -> AsyncIterator[AppState]:
        state = AppState(settings)
        running.append(state)
        try:
            async with anyio.create_task_group() as tg:
                await state.start(tg)
                try:
                    yield state
                finally:
                    tg.cancel_scope.cancel()
        finally:
            running.remove(state)
            with anyio.CancelScope(shield=True):
                await state.aclose()

    server: MCPServer[AppState] = MCPServer(
        "mvsep",
        title="MVSep music separation",
        instructions=INSTRUCTIONS,
        version=__version__,
        website_url="https://mvsep.com",
        lifespan=lifespan,
    )
    protect_logs()  # after MCPServer() configured logging: the handlers it added get the filter too
    for name in settings.toolsets:
        importlib.import_module(TOOLSET_MODULES[name]).register(server)
    importlib.import_module("mvsep_mcp_tools.resources").register(server, current_state)
    importlib.import_module("mvsep_mcp_tools.prompts").register(server)
    return server
