"""HostedAccounts directly (no MCP, no HTTP): the token of an account with unfinished jobs is kept sealed for any
replica and dropped once they end, never standing in for a linked one; idle accounts are let go, never while a
request holds them or they have unfinished jobs."""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import anyio
import pytest
from mvsep_mcp.hosted.errors import AccountNotLinked
from mvsep_mcp.hosted.header_tokens import HeaderTokens
from mvsep_mcp.hosted.identity import User
from mvsep_mcp.hosted.usage import request_scope
from mvsep_mcp.hosted.vault import ServerKey
from mvsep_mcp.jobs.models import JobState
from mvsep_mcp.serving import users as accounts
from mvsep_mcp.serving.users import HostedAccounts
from mvsep_mcp.session import Session

from tests.jobs.test_journal import spec

from .conftest import hosted_settings

KEY = ServerKey(("k" * 43,))
ALICE = User("a" * 24)
TOKEN = "AliceMVSepToken".ljust(30, "0")
NOWHERE = "http://127.0.0.1:9"  # never asked: nothing here talks to MVSep (the runner is not started)


async def accept_every_token(_token: str) -> bool:
    return True


@asynccontextmanager
async def hosted(tmp_path: Path) -> AsyncIterator[HostedAccounts]:
    settings = hosted_settings(tmp_path, NOWHERE, 9, auth_issuer=NOWHERE + "/", auth_jwks_url=NOWHERE + "/jwks")
    session = Session(settings)
    users = HostedAccounts(session, KEY)
    users.header_tokens = HeaderTokens(accept_every_token)  # no MVSep here to ask
    session.users = users
    try:
        yield users
    finally:
        await users.aclose()
        await session.aclose()


def kept_rows(tmp_path: Path) -> list[tuple[str, str, str]]:
    with sqlite3.connect(tmp_path / "data" / "journal.sqlite3") as db:
        return [tuple(row) for row in db.execute("SELECT user_key, account_key, sealed_token FROM job_tokens")]


async def test_a_request_tokens_account_is_kept_while_its_jobs_run_and_taken_over(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(accounts.policy, "JOB_TOKEN_GRACE_S", 0.0)
    async with hosted(tmp_path) as users:
        account = await users.account_for(ALICE, TOKEN)
        assert kept_rows(tmp_path) == []  # a request that records no job keeps nothing
        await account.before_jobs()
        [(user_key, account_key, sealed)] = kept_rows(tmp_path)
        assert (user_key, account_key) == (ALICE.key, account.key) and TOKEN not in sealed
        journal = users.session.journal
        record = journal.add(spec(tmp_path, account_key=account.key))
        assert await users.resume_unfinished() == 0  # this process works it already
        with pytest.raises(AccountNotLinked):  # a kept token is never a linked account
            await users.account_for(ALICE, None)
        async with hosted(tmp_path) as other:  # another replica on the same journal finds it
            assert await other.resume_unfinished() == 1
            assert other.attached_count() == 1
        assert journal.drop_job_tokens(grace_s=-1e9) == 0  # unfinished: kept
        journal.update(record.id, state=JobState.COMPLETED)
        assert journal.drop_job_tokens(grace_s=-1e9) == 1 and kept_rows(tmp_path) == []


async def test_idle_accounts_are_let_go_but_not_in_use_or_with_unfinished_jobs(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(accounts.policy, "ACCOUNT_IDLE_S", 0.2)
    async with hosted(tmp_path) as users:
        with request_scope():  # a request under way, longer than the idle time
            account = await users.account_for(ALICE, TOKEN)
            await anyio.sleep(0.3)
            assert await users.evict_idle() == 0
        await anyio.sleep(0.3)
        record = users.session.journal.add(spec(tmp_path, account_key=account.key))
        assert await users.evict_idle() == 0  # an unfinished job: its client stays
        users.session.journal.update(record.id, state=JobState.COMPLETED)
        await anyio.sleep(0.3)
        account.client.stats.requests["/api/separate/get"] += 3  # what it sent: counted after it is let go too
        assert await users.evict_idle() == 1
        assert users.attached_count() == 0 and account.client.closed
        assert users.retired_stats.total_requests == 3
        assert not users.session.runner.attached(account.key, account.client)
        again = await users.account_for(ALICE, TOKEN)  # the next request opens a fresh one
        assert again is not account and not again.client.closed
        assert users.session.runner.attached(again.key, again.client)
        assert await users.evict_idle() == 0  # just used


async def test_unlinking_lets_the_users_idle_accounts_go_at_once(tmp_path: Path) -> None:
    async with hosted(tmp_path) as users:
        account = await users.account_for(ALICE, TOKEN)
        ticket = (await users.link_url(ALICE.key)).rstrip("/").rsplit("/", 1)[1]
        await users.unlink(ticket)
        assert users.attached_count() == 0 and account.client.closed
