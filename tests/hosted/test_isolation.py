"""Users apart, under load, over real HTTP on loopback: 20 simulated users, each with their own bearer token and their
own sandbox MVSep account, start 5 jobs each at once (all of them from the same 5 song URLs, so any sharing of
results between users would show). Every job ends; no user sees, waits on, cancels, reads or reuses another's job;
each user's files are in their own storage only; each MVSep account got exactly its own 5 creates.

Half the users link their account on the one-time page, half send it per request (``X-MVSep-Token``). The journal is
SQLite, and PostgreSQL too (the same run against a throwaway server, as the replicas share it).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import anyio
import httpx
import pytest
from mvsep_mcp.hosted.identity import User
from mvsep_mcp_testbench.sandbox import SandboxServer

from tests.http_server import free_port

from .conftest import Issuer, RunningServer, hosted_settings, link_account, mcp_client, text_of

pytestmark = pytest.mark.timeout(600)

USERS = 20
JOBS_PER_USER = 5
MODEL = 27  # Demucs4 Vocals 2023: two stems


@pytest.fixture(params=["sqlite", "postgres"])
def server(request: pytest.FixtureRequest, tmp_path: Path, issuer: Issuer,
           sandbox: SandboxServer) -> Iterator[RunningServer]:
    extra: dict[str, str] = {}
    if request.param == "postgres":
        extra["database_url"] = request.getfixturevalue("postgres_url")
    port = free_port()
    settings = hosted_settings(tmp_path, sandbox.base_url, port, auth_issuer=issuer.issuer,
                               auth_jwks_url=issuer.url + "/jwks.json", **extra)
    with RunningServer(settings, port) as running:
        yield running


class SimulatedUser:
    def __init__(self, n: int, run: str, sandbox: SandboxServer) -> None:
        self.sub = f"user-{run}-{n:02d}"
        self.mvsep_token = f"Iso{run}{n:02d}".ljust(30, "0")[:30]
        self.by_header = n % 2 == 1
        sandbox.state.add_account(self.mvsep_token, name=self.sub, email=f"{self.sub}@isolation.test")
        self.job_ids: list[str] = []
        self.outputs: list[dict[str, Any]] = []


def server_records(server: RunningServer, job_id: str) -> Any:
    """The journal's record of a job (the server's own view, files and all)."""
    from mvsep_mcp.jobs.journal import open_journal

    database_url = server.settings.database_url
    journal = open_journal(database_url.get_secret_value() if database_url else None, server.settings.journal_path)
    try:
        return journal.get(job_id)
    finally:
        journal.close()


async def ok(client: Any, name: str, arguments: dict[str, Any]) -> dict[str, Any]:
    answer = await client.call_tool(name, arguments)
    assert not answer.is_error, f"{name}: {text_of(answer)}"
    return answer.structured_content or {}


async def refused(client: Any, name: str, arguments: dict[str, Any]) -> str:
    answer = await client.call_tool(name, arguments)
    assert answer.is_error, f"{name} {arguments} was allowed: {text_of(answer)}"
    return text_of(answer)


async def test_twenty_users_five_jobs_each_never_see_each_other(
        server: RunningServer, issuer: Issuer, sandbox: SandboxServer, song_urls: list[str]) -> None:
    run = "pg" if server.settings.database_url else "sq"
    users = [SimulatedUser(n, run, sandbox) for n in range(USERS)]
    resource = server.url + "/mcp"

    def connect(user: SimulatedUser) -> Any:
        headers = {"X-MVSep-Token": user.mvsep_token} if user.by_header else None
        return mcp_client(server.url, issuer.token(user.sub, aud=resource), headers=headers)

    async def work(user: SimulatedUser) -> None:
        async with connect(user) as client, httpx.AsyncClient() as http:
            if not user.by_header:
                await link_account(http, await refused(client, "list_jobs", {}), user.mvsep_token)
            started = await ok(client, "separate_audio", {"inputs": song_urls[:JOBS_PER_USER], "model": MODEL})
            user.job_ids = [job["id"] for job in started["jobs"]]
            assert len(user.job_ids) == JOBS_PER_USER
            done: dict[str, Any] = {}
            for _ in range(120):
                done = await ok(client, "wait_for_jobs", {"job_ids": user.job_ids, "max_wait_s": 10})
                if done["all_finished"]:
                    break
            assert done["all_finished"], done
            assert [job["state"] for job in done["jobs"]] == ["completed"] * JOBS_PER_USER, done
            user.outputs = [o for job in done["jobs"] for o in job["outputs"]]

    async with anyio.create_task_group() as tg:
        for user in users:
            tg.start_soon(work, user)

    every_job = {job_id: user for user in users for job_id in user.job_ids}
    assert len(every_job) == USERS * JOBS_PER_USER  # every job ended, completed (above), ids never shared

    async def cross_check(user: SimulatedUser, other: SimulatedUser) -> None:
        theirs = other.job_ids[0]
        async with connect(user) as client:
            listed = await ok(client, "list_jobs", {"limit": 100})
            assert sorted(job["id"] for job in listed["jobs"]) == sorted(user.job_ids)
            unfinished = await ok(client, "wait_for_jobs", {"max_wait_s": 0})
            assert all(job["id"] in user.job_ids for job in unfinished["jobs"])
            for name, arguments in (("wait_for_jobs", {"job_ids": [theirs], "max_wait_s": 0}),
                                    ("cancel_job", {"job_id": theirs}),
                                    ("make_daw_session", {"picks": [{"job_id": theirs}]}),
                                    ("make_dj_stems", {"job_id": theirs}),
                                    ("mix_stems", {"job_id": theirs, "without": ["Vocals"]})):
                assert f"No job {theirs!r} exists for this account" in await refused(client, name, arguments)

    async def cross_read(user: SimulatedUser, other: SimulatedUser) -> None:
        async with connect(user) as client:
            for uri in (f"mvsep://jobs/{other.job_ids[0]}", other.outputs[0]["uri"], f"mvsep://jobs/{other.job_ids[0]}/manifest"):
                with pytest.raises(Exception, match="No job"):
                    await client.read_resource(uri)
            assert (await client.read_resource(user.outputs[0]["uri"])).contents  # their own: readable

    for index, user in enumerate(users):
        other = users[(index + 1) % USERS]
        await cross_check(user, other)
        await cross_read(user, other)

    output_dir = server.settings.output_dir
    for user in users:
        home = output_dir / User.of(issuer.issuer, user.sub, "test-client").key
        saved = [Path(o.path) for job_id in user.job_ids for o in server_records(server, job_id).outputs]
        assert saved and all(p.is_relative_to(home) and p.is_file() for p in saved)  # in their own storage only
        assert sandbox.state.traffic.creates(user.mvsep_token) == JOBS_PER_USER  # nobody reused another's results
        assert len(sandbox.state.jobs_of(user.mvsep_token)) == JOBS_PER_USER
    homes = sorted(p.name for p in output_dir.iterdir() if p.is_dir())
    assert homes == sorted(User.of(issuer.issuer, u.sub, "test-client").key for u in users)
