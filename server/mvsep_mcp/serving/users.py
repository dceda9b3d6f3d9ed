"""Hosted mode's accounts: each authenticated user's own MVSep account, folder and jobs.

A user links their MVSep token once on the server's page (:mod:`mvsep_mcp.serving.pages`), reached through a one-time
link that a tool call answers with (:class:`~mvsep_mcp.hosted.errors.AccountNotLinked`); the token is checked with
MVSep, sealed with the server key and stored in the journal's database until the user unlinks it (the same page,
reached from ``account_info``'s fresh link). Automation may instead send the token with each request
(``X-MVSep-Token``): used for that request's account and stored only while that account has unfinished jobs. Whatever
way it came, an account's token is kept sealed in the journal (``job_tokens``) from just before a request records its
jobs until none of them is unfinished (dropped by the next sweep, never sooner than ``JOB_TOKEN_GRACE_S`` after it
was kept), so that any replica can finish them; a kept token never stands in for a linked one. The model never sees a
token.

Each (user, MVSep account) pair has its own journal key (:func:`~mvsep_mcp.hosted.identity.hosted_account_key`), so
the journal, the runner's leases, the reuse of earlier results and every lookup by job or task id keep users apart
even when two of them link the same MVSep account; the user's files go to their own folder only.

In the background (``run``): accounts with unfinished jobs are attached again after a restart or when another
replica died (so any replica finishes any user's jobs), kept tokens whose jobs have ended are dropped, accounts idle
for ``ACCOUNT_IDLE_S`` with no unfinished job let go (their clients closed, never while a request uses them or the
runner works one of their jobs), and the retention sweep removes old files.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import anyio
import anyio.to_thread

from mvsep_mcp import policy
from mvsep_mcp.hosted.errors import AccountNotLinked, LinkInvalid, TokenRefused, TooBusy
from mvsep_mcp.hosted.header_tokens import HeaderTokens
from mvsep_mcp.hosted.identity import User, hosted_account_key
from mvsep_mcp.hosted.paths import LINK_PATH
from mvsep_mcp.hosted.presenting import Presenter
from mvsep_mcp.hosted.signing import DownloadSigner
from mvsep_mcp.hosted.storage import check_quota, sweep, user_root
from mvsep_mcp.hosted.usage import Usage
from mvsep_mcp.hosted.vault import ServerKey, TokenVault
from mvsep_mcp.jobs.journal.linked import KeptToken, LinkedAccount, LinkTicket
from mvsep_mcp.jobs.models import NON_TERMINAL_STATES
from mvsep_mcp.logs import forget_secret, register_secret
from mvsep_mcp.mvsep import MVSepClient, RequestStats
from mvsep_mcp.mvsep.errors import AuthenticationError, MVSepError
from mvsep_mcp.session import Account, Session, account_key_for

log = logging.getLogger(__name__)



def ticket_hash(ticket: str) -> str:
    return hashlib.sha256(ticket.encode()).hexdigest()


@dataclass
class _Attached:
    account: Account
    token: str  # out of the logs while the account is open (``logs.register_secret``), and back when it goes
    usage: Usage = field(default_factory=Usage)


class HostedAccounts:
    """Every user's account, for one :class:`Session` (its ``users``)."""

    def __init__(self, session: Session, key: ServerKey) -> None:
        self.session = session
        self.settings = session.settings.hosted
        self.vault = TokenVault(key)
        self.signer = DownloadSigner(key, self.settings.base_url)
        self._accounts: dict[str, _Attached] = {}  # by journal key
        self.retired_stats = RequestStats()  # what the clients of accounts let go had sent: counters never go back
        self.header_tokens = HeaderTokens(self._accepted)  # X-MVSep-Token: asked once, bounded per principal
        self._lock = anyio.Lock()

    # --- one user's account ---------------------------------------------------------------------------------------

    def home(self, user_key: str) -> Path:
        return user_root(self.session.settings.output_dir, user_key)

    async def account_for(self, user: User, header_token: str | None) -> Account:
        """The request's account: the header's token, else the linked one; else ``AccountNotLinked`` with a fresh
        one-time link."""
        account = await self.account_if_linked(user, header_token)
        if account is None:
            raise AccountNotLinked(await self.link_url(user.key, user.name), int(policy.LINK_TICKET_TTL_S // 60))
        return account

    async def account_if_linked(self, user: User, header_token: str | None = None) -> Account | None:
        """:meth:`account_for` without a link: ``None`` when the user has no account yet (nothing is written).
        A header's token is checked first (``header_tokens``): a refused one raises and opens nothing."""
        token = (header_token or "").strip() or None
        if token is not None:
            await self.header_tokens.check(user.key, token, in_use=self._journal_key(user.key, token) in self._accounts)
        else:
            linked = await anyio.to_thread.run_sync(self.session.journal.linked_account, user.key)
            token = self.vault.open(user.key, linked.sealed_token) if linked is not None else None
        return await self._account(user.key, token) if token is not None else None

    async def _accepted(self, token: str) -> bool:
        """Ask MVSep once whether it accepts ``token`` (on the shared pool; nothing stays open)."""
        async with self.session.new_client(token) as client:
            try:
                await client.user()
            except AuthenticationError:
                return False
        return True

    async def token_refused(self, user: User, account: Account, *, sent_header: bool,
                            may_relink: bool) -> TokenRefused:
        """MVSep refused the token of ``account`` in a call: remembered, the account let go at once (unless jobs of
        it are unfinished), and the sentence for the user (a fresh link page for a linked one, when ``may_relink``)."""
        attached = next((a for a in self._accounts.values() if a.account is account), None)
        if attached is not None:
            self.header_tokens.refused(attached.token)
            await self._let_go(lambda candidate: candidate is attached)
        if sent_header:
            return TokenRefused.header()
        return TokenRefused.linked(await self.link_url(user.key, user.name) if may_relink else None)

    def _journal_key(self, user_key: str, token: str) -> str:
        return hosted_account_key(user_key, account_key_for(token, self.session.settings.base_url))

    async def _account(self, user_key: str, token: str) -> Account:
        key = self._journal_key(user_key, token)
        async with self._lock:
            attached = self._accounts.get(key)
            if attached is None:
                if not register_secret(token):  # a token that cannot be kept out of the logs is not used
                    raise TooBusy("This server has as many MVSep accounts in use as it can keep out of its logs: "
                                  "try again in a few minutes.")
                account = await self.session.open_account(token, key, home=self.home(user_key))
                sealed = self.vault.seal(user_key, token)

                async def keep_token() -> None:
                    await anyio.to_thread.run_sync(self.session.journal.keep_job_token, user_key, key, sealed)

                account.keep_token = keep_token
                attached = self._accounts[key] = _Attached(account, token)
            attached.usage.touch()
        return attached.account

    def presenter(self, account: Account) -> Presenter:
        if account.home is None:
            raise ValueError("not a hosted account")
        return Presenter(account.home, account.home.name, self.signer)

    async def check_quota(self, account: Account) -> None:
        if account.home is not None:
            await anyio.to_thread.run_sync(check_quota, account.home, self.settings.quota_bytes,
                                           self.settings.retention_days)

    # --- linking ----------------------------------------------------------------------------------------------------

    async def link_url(self, user_key: str, shown_as: str = "") -> str:
        """A fresh one-time URL of the page where ``user_key`` (whom the page names as ``shown_as``: the name the
        authorization server gave) links their MVSep account."""
        ticket = secrets.token_urlsafe(policy.LINK_TICKET_BYTES)
        await anyio.to_thread.run_sync(self.session.journal.add_link_ticket, ticket_hash(ticket), user_key,
                                       time.time() + policy.LINK_TICKET_TTL_S, shown_as)
        return f"{self.settings.base_url}{LINK_PATH}{ticket}"

    async def ticket(self, ticket: str) -> LinkTicket | None:
        """A valid ticket (whose user, shown as whom), not used up; ``None`` when unknown, used or expired."""
        found: LinkTicket | None = await anyio.to_thread.run_sync(self.session.journal.link_ticket,
                                                                   ticket_hash(ticket))
        return found

    async def is_linked(self, user_key: str) -> bool:
        """Whether the user has an MVSep account linked (their page then offers to unlink it)."""
        return await anyio.to_thread.run_sync(self.session.journal.linked_account, user_key) is not None

    async def unlink(self, ticket: str) -> bool:
        """Remove the ticket's user's linked token (using the ticket up, and the user's other tickets); whether one
        was linked. Jobs already recorded still finish: their token stays kept only until they end."""
        user_key = await anyio.to_thread.run_sync(self.session.journal.take_link_ticket, ticket_hash(ticket))
        if user_key is None:
            raise LinkInvalid("This link has expired or was used already: ask for a fresh link.")
        removed = await anyio.to_thread.run_sync(self.session.journal.unlink_account, user_key)
        home = self.home(user_key)
        await self._let_go(lambda attached: attached.account.home == home)  # those with running jobs stay till then
        log.info("a user unlinked their MVSep account")
        return bool(removed)

    async def link(self, ticket: str, token: str) -> str:
        """Link ``token``'s MVSep account to the ticket's user once MVSep accepts it; returns the account's name.

        The ticket is used up only when the token works (with every other ticket of the user), so a mistyped token
        can be pasted again."""
        token = token.strip()
        if await self.ticket(ticket) is None:
            raise LinkInvalid("This link has expired or was used already: ask for the job again for a fresh link.")
        try:
            async with self.session.new_client(token) as client:
                info = await client.user()
        except AuthenticationError:
            raise LinkInvalid("MVSep does not accept this token: copy it again from https://mvsep.com/user-api."
                              ) from None
        except MVSepError as exc:
            raise LinkInvalid(f"MVSep could not be asked about this token ({exc.user_text()})") from None
        user_key = await anyio.to_thread.run_sync(self.session.journal.take_link_ticket, ticket_hash(ticket))
        if user_key is None:
            raise LinkInvalid("This link has expired or was used already: ask for the job again for a fresh link.")
        key = hosted_account_key(user_key, account_key_for(token, self.session.settings.base_url))
        await anyio.to_thread.run_sync(self.session.journal.link_account, user_key, key,
                                       self.vault.seal(user_key, token))
        log.info("a user linked an MVSep account")
        return str(info.name or info.email or "your MVSep account")

    # --- background -------------------------------------------------------------------------------------------------

    async def run(self, *, task_status: Any = anyio.TASK_STATUS_IGNORED) -> None:
        """Attach accounts with unfinished jobs, drop the tokens kept for ended ones and let idle accounts go (now
        and every ``HOSTED_RESUME_SWEEP_S``); sweep old files every ``RETENTION_SWEEP_S``."""
        task_status.started()
        last_sweep = float("-inf")
        while True:
            try:
                await self.resume_unfinished()
                await anyio.to_thread.run_sync(self.session.journal.drop_job_tokens, policy.JOB_TOKEN_GRACE_S)
                await self.evict_idle()
            except Exception as exc:  # a database away for a moment: the next round tries again
                log.warning("could not look after the accounts with unfinished jobs: %s", exc)
            if time.monotonic() - last_sweep >= policy.RETENTION_SWEEP_S:
                last_sweep = time.monotonic()
                await anyio.to_thread.run_sync(sweep, self.session.settings.output_dir, self.settings.retention_s)
            await anyio.sleep(policy.HOSTED_RESUME_SWEEP_S)

    async def resume_unfinished(self) -> int:
        """Attach every account whose jobs are unfinished (linked, or with a kept token) and that this process does
        not work yet."""
        linked: list[LinkedAccount] = await anyio.to_thread.run_sync(
            self.session.journal.linked_with_unfinished_jobs)
        kept: list[KeptToken] = await anyio.to_thread.run_sync(self.session.journal.kept_with_unfinished_jobs)
        attached = 0
        rows: list[LinkedAccount | KeptToken] = [*linked, *kept]
        for row in rows:
            if row.account_key in self._accounts:
                continue
            token = self.vault.open(row.user_key, row.sealed_token)
            if token is None:
                log.warning("an account's sealed token cannot be opened with the configured server key")
                continue
            await self._account(row.user_key, token)
            attached += 1
        return attached

    async def evict_idle(self) -> int:
        """Let go of every account unused for ``ACCOUNT_IDLE_S`` that has no unfinished job: its client is closed.
        Never one a running request holds, one whose info is being asked, or one the runner works a job of."""
        evicted = await self._let_go(lambda attached: attached.usage.idle_s() >= policy.ACCOUNT_IDLE_S)
        if evicted:
            log.info("let %d idle account(s) go", evicted)
        return evicted

    async def _let_go(self, eligible: Callable[[_Attached], bool]) -> int:
        """Close the clients of the eligible accounts that have no unfinished job, under the rules of
        :meth:`evict_idle`; how many."""
        evicted = 0
        for key, attached in list(self._accounts.items()):
            if not eligible(attached) or await self._has_unfinished_jobs(key):
                continue
            async with self._lock:  # a request asking for the account now waits, then opens a fresh one
                if (self._accounts.get(key) is not attached or not eligible(attached) or attached.usage.holders
                        or attached.account.asking or not self.session.runner.detach_account(key)):
                    continue
                del self._accounts[key]
            await attached.account.client.aclose()
            forget_secret(attached.token)
            self.retired_stats.add(attached.account.client.stats)
            evicted += 1
        return evicted

    async def _has_unfinished_jobs(self, account_key: str) -> bool:
        found = await anyio.to_thread.run_sync(lambda: self.session.journal.list(
            account_key, states=NON_TERMINAL_STATES, limit=1))
        return bool(found)

    def attached_count(self) -> int:
        return len(self._accounts)

    def clients(self) -> Iterator[MVSepClient]:
        for attached in list(self._accounts.values()):
            yield attached.account.client

    async def aclose(self) -> None:
        for attached in list(self._accounts.values()):
            await attached.account.client.aclose()
            forget_secret(attached.token)
        self._accounts.clear()
