"""Completions on a hosted server, over real HTTP: each user is offered their own jobs and stems only, never
another's, and no path of the server's disk (a hosted server reads none)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from mcp_types import PromptReference, ResourceTemplateReference
from mvsep_mcp_testbench.sandbox import SandboxServer

from tests.http_server import free_port

from .conftest import Issuer, RunningServer, hosted_settings, mcp_client, text_of

pytestmark = pytest.mark.timeout(180)
JOB = ResourceTemplateReference(uri="mvsep://jobs/{job_id}")
STEM = ResourceTemplateReference(uri="mvsep://jobs/{job_id}/preview/{stem}")


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, issuer: Issuer, sandbox: SandboxServer) -> Iterator[RunningServer]:
    root = tmp_path_factory.mktemp("completions")
    port = free_port()
    settings = hosted_settings(root, sandbox.base_url, port, auth_issuer=issuer.issuer,
                               auth_jwks_url=issuer.url + "/jwks.json")
    with RunningServer(settings, port) as running:
        yield running


async def values(client: Any, ref: Any, name: str, value: str = "", known: dict[str, str] | None = None) -> list[str]:
    return list((await client.complete(ref, {"name": name, "value": value}, known)).completion.values)


async def test_each_user_is_offered_their_own_jobs_only(server: RunningServer, issuer: Issuer,
                                                        sandbox: SandboxServer, song_urls: list[str]) -> None:
    jobs: dict[str, str] = {}
    for name in ("ada", "bo"):
        token = f"Compl{name}".ljust(30, "0")[:30]
        sandbox.state.add_account(token, name=name, email=f"{name}@completions.test")
        bearer = issuer.token(name, aud=server.url + "/mcp")
        async with mcp_client(server.url, bearer, headers={"X-MVSep-Token": token}) as client:
            started = await client.call_tool("separate_audio", {"inputs": [song_urls[0]], "model": "27"})
            assert not started.is_error, text_of(started)
            job_id = started.structured_content["jobs"][0]["id"]
            for _ in range(60):
                waited = await client.call_tool("wait_for_jobs", {"job_ids": [job_id], "max_wait_s": 10})
                if waited.structured_content["all_finished"]:
                    break
            jobs[name] = job_id
            assert await values(client, JOB, "job_id") == [job_id]
            assert await values(client, STEM, "stem", "", {"job_id": job_id})  # its stems
            others = [j for n, j in jobs.items() if n != name]
            for other in others:
                assert await values(client, JOB, "job_id", other[:4]) in ([], [job_id])
                assert await values(client, STEM, "stem", "", {"job_id": other}) == []
            assert await values(client, PromptReference(name="karaoke"), "path", str(Path("/").resolve())) == []
    assert jobs["ada"] != jobs["bo"]


async def test_without_a_linked_account_nothing_is_offered(server: RunningServer, issuer: Issuer) -> None:
    async with mcp_client(server.url, issuer.token("nobody", aud=server.url + "/mcp")) as client:
        assert await values(client, JOB, "job_id") == []
        assert (await values(client, ResourceTemplateReference(uri="mvsep://models/{render_id}"), "render_id",
                             "40")) == ["40"]
