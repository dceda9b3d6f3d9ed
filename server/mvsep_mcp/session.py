"""What the server holds for its lifetime, free of MCP: settings, journal, job runner, catalogue, MVSep accounts.

A :class:`Session` is built once per server (the MCP lifespan, a CLI command or a test) and shared by every call.
An :class:`Account` is what a token buys: a client with that token, a non-reversible key for the journal, and a
short-lived cache of what MVSep says about the account. Nothing here assumes one user per process: the runner and the
journal are keyed by account key, and switching the token never strands the jobs of the previous one (the runner keeps
their client until they end; then, at the next switch, it is closed).
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol
from urllib.parse import urlsplit

import anyio
import anyio.abc
import anyio.to_thread

from mvsep_mcp import policy
from mvsep_mcp.catalog import AccountKind, Catalog, CatalogCache, Leaderboards, cache_path_for
from mvsep_mcp.config import Settings, store_token
from mvsep_mcp.errors import UserError
from mvsep_mcp.hosted.identity import User
from mvsep_mcp.hosted.presenting import Presenter
from mvsep_mcp.jobs import NON_TERMINAL_STATES, JobRunner, account_limit, open_journal
from mvsep_mcp.logs import register_secret
from mvsep_mcp.media.hash_cache import HashCache
from mvsep_mcp.memory import limit_malloc_arenas
from mvsep_mcp.mvsep import MVSepClient
from mvsep_mcp.mvsep.client import shared_client
from mvsep_mcp.mvsep.errors import APIError, MissingTokenError, MVSepError
from mvsep_mcp.mvsep.models import Algorithm, UserInfo
from mvsep_mcp.results.recorded import sessions_after_job

log = logging.getLogger(__name__)

CATALOG_SCOPES = ("single_upload", "no_upload", "matchering_upload")  # every model, not just uploads


def account_key_for(token: str, base_url: str) -> str:
    """A stable, non-reversible key for an account on one MVSep host (the token itself is never stored)."""
    host = urlsplit(base_url).netloc
    return hashlib.sha256(f"{host}\0{token}".encode()).hexdigest()[:20]


@dataclass
class Account:
    """One MVSep account as this server uses it: a client with its token, and what we know of the account."""

    client: MVSepClient
    key: str
    home: Path | None = None  # hosted mode: the user's own folder, the only one their files go to (else: settings)
    keep_token: Callable[[], Awaitable[None]] | None = None  # hosted mode: keeps the token for any replica (jobs)
    _user: UserInfo | None = None
    _user_at: float = 0.0
    _lock: anyio.Lock = field(default_factory=anyio.Lock)

    async def user(self, refresh: bool = False) -> UserInfo:
        """The account's info, cached for ``policy.USER_INFO_TTL_S``."""
        async with self._lock:
            if refresh or self._user is None or time.monotonic() - self._user_at > policy.USER_INFO_TTL_S:
                self._user = await self.client.user()
                self._user_at = time.monotonic()
            return self._user

    @property
    def asking(self) -> bool:
        """Whether a question to MVSep about the account (its info) is under way."""
        return self._lock.locked()

    async def before_jobs(self) -> None:
        """Called before jobs are recorded for this account (hosted mode: its token is kept, sealed, while they
        run, so any replica can finish them)."""
        if self.keep_token is not None:
            await self.keep_token()

    async def kind(self) -> AccountKind:
        """'premium' when the account has credits and premium mode on, else 'registered' (a token means registered)."""
        user = await self.user()
        return "premium" if user.premium_enabled and user.premium_minutes > 0 else "registered"


class UserAccounts(Protocol):
    """Hosted mode's accounts: each authenticated user's own (``mvsep_mcp.serving.users.HostedAccounts``)."""

    async def account_for(self, user: User, header_token: str | None) -> Account:
        """The user's account: from ``header_token`` (one request's), else the one they linked; raises a
        ``UserError`` carrying a one-time link page when they have none."""
        ...

    async def account_if_linked(self, user: User, header_token: str | None = None) -> Account | None:
        """``account_for`` without a link page: ``None`` when the user has no account yet (nothing is written)."""
        ...

    def presenter(self, account: Account) -> Presenter:
        """How the account's files are shown: paths inside the user's folder and signed download URLs."""
        ...

    async def link_url(self, user_key: str, shown_as: str = "") -> str:
        """A fresh one-time URL of the page where the user (whom it names as ``shown_as``) links (or unlinks) their
        MVSep account."""
        ...

    async def token_refused(self, user: User, account: Account, *, sent_header: bool,
                            may_relink: bool) -> UserError:
        """MVSep refused ``account``'s token during a call: the sentence for the user (the account is let go)."""
        ...


class Session:
    """Everything the calls share for the server's lifetime."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        database_url = settings.database_url.get_secret_value() if settings.database_url is not None else None
        self.journal = open_journal(database_url, settings.journal_path)
        # what the first tool answer says besides its own result (a damaged journal moved aside at start)
        self._notices: list[str] = [self.journal.damage.sentence()] if self.journal.damage is not None else []
        self.runner = JobRunner(
            self.journal,
            sessions_after_job=sessions_after_job,
            poll_interval=settings.poll_interval,
            # back-off while queued stays proportionate when a fast poll interval is configured (sandbox, tests)
            poll_interval_max=settings.poll_interval * policy.POLL_INTERVAL_MAX_S / policy.POLL_INTERVAL_S,
            status_rate=settings.status_rate,
            rehash_reused=settings.rehash_reused,
            lease_ttl=settings.lease_ttl,
        )
        self._http = shared_client()  # one bounded connection pool for every account's client
        self._public_client = self.new_client(None)
        self.hashes = HashCache(settings.data_dir / "hashes.sqlite3")
        self.catalogs = CatalogCache(
            self._fetch_catalog,
            cache_path_for(settings.base_url, settings.cache_dir),
            base_url=settings.base_url,
        )
        self.leaderboards = Leaderboards(lambda: self._public_client, settings.cache_dir, settings.base_url)
        self.account: Account | None = None
        self.users: UserAccounts | None = None  # hosted mode: accounts per user (set by the app), never self.account
        self._retired: list[Account] = []  # earlier accounts whose clients still serve their unfinished jobs
        self._task_group: anyio.abc.TaskGroup | None = None

    def new_client(self, token: str | None) -> MVSepClient:
        """A client for ``token`` on the session's shared connection pool (closing it keeps the pool open)."""
        return MVSepClient(token, base_url=self.settings.base_url, download_hosts=self.settings.download_hosts,
                           http=self._http)

    async def _fetch_catalog(self) -> list[Algorithm]:
        try:
            return await self._public_client.algorithms(scopes=CATALOG_SCOPES)
        except APIError as exc:  # a host that does not know `scopes` still serves the upload models
            log.warning("the catalogue with scopes was refused (%s); fetching the default scope", exc.status_code)
            return await self._public_client.algorithms()

    async def start(self, task_group: anyio.abc.TaskGroup) -> None:
        """Start the runner and, with a token in the settings, the account (never waits for MVSep)."""
        self._task_group = task_group
        # every blocking file operation runs in a worker thread: a few are enough, and each thread costs memory
        anyio.to_thread.current_default_thread_limiter().total_tokens = policy.WORKER_THREADS
        limit_malloc_arenas(policy.MALLOC_ARENAS)  # before those threads allocate: their arenas outlive the work
        if self.settings.token is not None and not self.settings.hosted.enabled:
            await self.use_token(self.settings.token.get_secret_value(), source=self.settings.token_source)
        await self.runner.start(task_group)

    async def use_token(self, token: str, *, source: str) -> Account:
        """Start using ``token`` (from settings at start-up, or after a login).

        The previous account's client stays attached to the runner while the account has unfinished jobs, so they
        finish with the token they were created with; earlier accounts with none are let go (their clients closed),
        and an account used again while it is still kept is taken back rather than opened a second time.
        """
        key = account_key_for(token, self.settings.base_url)
        if self.account is not None and self.account.key == key:
            return self.account
        register_secret(token)  # configured, or given by MVSep at a sign-in: trusted
        kept = next((a for a in self._retired if a.key == key), None)
        if kept is not None:
            self._retired.remove(kept)
        account = kept or await self.open_account(token, key)
        if self.account is not None:
            self._retired.append(self.account)
        self.account = account
        if source != self.settings.token_source:
            self.settings = self.settings.model_copy(update={"token_source": source})
        await self._let_go_of_idle_accounts()
        return account

    async def _let_go_of_idle_accounts(self) -> None:
        """Close the clients of earlier accounts with no unfinished job (each holds connections: a server that
        switches accounts for days would otherwise keep them all open)."""
        for account in list(self._retired):
            if self.journal.list(account.key, states=NON_TERMINAL_STATES, limit=1):
                continue
            if not self.runner.detach_account(account.key):
                continue  # work on one of its jobs is under way
            self._retired.remove(account)
            await account.client.aclose()

    async def open_account(self, token: str, key: str, home: Path | None = None) -> Account:
        """An :class:`Account` for ``token`` whose jobs the runner works under ``key`` (hosted mode: the user's own
        key and folder); the caller keeps it and closes its client (:meth:`aclose` does for the current one), and
        keeps the token out of the logs (``logs.register_secret``) while it is used."""
        client = self.new_client(token)
        account = Account(client=client, key=key, home=home)
        # Start on the safe side (the free limit) without waiting for MVSep: start-up never blocks on the network.
        await self.runner.attach_account(key, client, concurrency=policy.FREE_CONCURRENT_JOBS)
        if self._task_group is not None:
            self._task_group.start_soon(self._learn_limit, account)
        return account

    def take_notice(self) -> str | None:
        """What the user should hear once, with the next answer (then it is gone), or None."""
        return self._notices.pop(0) if self._notices else None

    def clients(self) -> Iterator[MVSepClient]:
        """Every MVSep client of this session (for request statistics)."""
        yield self._public_client
        for account in [*self._retired, *([self.account] if self.account else [])]:
            yield account.client

    async def _learn_limit(self, account: Account) -> None:
        """Raise the account's concurrency once MVSep says it is premium (a bad token is reported per call)."""
        try:
            limit = account_limit(await account.user())
        except MVSepError as exc:
            log.warning(
                "could not read the account (%s); keeping %d job at a time",
                type(exc).__name__,
                policy.FREE_CONCURRENT_JOBS,
            )
            return
        if not self.runner.attached(account.key, account.client):
            return  # let go meanwhile (hosted mode: idle), or replaced
        if limit != self.runner.concurrency(account.key):
            await self.runner.attach_account(account.key, account.client, concurrency=limit)

    async def sign_in(self, email: str, password: str) -> str | None:
        """Sign in with email and password, store the account's token owner-only and use it from now on.

        Returns the account's name (or email). The token itself is never returned.
        """
        if self.settings.hosted.enabled:
            raise UserError("Signing in through the model is off on this hosted server: each user links their own "
                            "MVSep account on the page a tool call offers.")
        outcome = await self._public_client.login(email, password)
        token = outcome.token()
        if not token:
            raise UserError(
                "MVSep signed you in but returned no API token. Copy the token from "
                "https://mvsep.com/user-api and set MVSEP_API_TOKEN (or run `mvsep-mcp login`)."
            )
        store_token(token, self.settings.credentials_file)
        await self.use_token(token, source="credentials file")
        return outcome.name or outcome.email

    def require_account(self) -> Account:
        """The current account; raises ``MissingTokenError`` (whose text says how to set a token) without one."""
        if self.account is None:
            raise MissingTokenError()
        return self.account

    def any_client(self) -> MVSepClient:
        """The account's client when there is a token, else a token-less one (for public endpoints)."""
        return self.account.client if self.account is not None else self._public_client

    async def catalog(self, refresh: bool = False) -> Catalog:
        return await self.catalogs.get(refresh=refresh)

    async def catalog_and_account(self, account: Account | None = None) -> tuple[Catalog, AccountKind, UserInfo]:
        """What planning a job needs from MVSep: the catalogue, the account's kind and its user info (of ``account``,
        default the session's)."""
        account = account or self.require_account()
        return await self.catalog(), await account.kind(), await account.user()

    async def aclose(self) -> None:
        self.runner.stop()
        for account in [*self._retired, *([self.account] if self.account else [])]:
            await account.client.aclose()
        await self._public_client.aclose()
        await self._http.aclose()
        self.journal.close()
        self.hashes.close()
