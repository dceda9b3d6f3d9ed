"""Tasks through the real server process, over stdio and over streamable HTTP: a client that declares the tasks
extension follows a task to the stems; a legacy client gets job ids and wait_for_jobs from the same server."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
from mcp.client.client import Client
from mcp.client.extension import ClientExtension
from mvsep_mcp_testbench.sandbox import SANDBOX_PREMIUM_TOKEN, SandboxServer

from tests.http_server import serving_http
from tests.tasks_client import TasksClient

from .conftest import ServerEnv, make_input, text_of

TRANSPORTS = ("stdio", "http")


@asynccontextmanager
async def connect(server_env: ServerEnv, transport: str, mode: str,
                  extensions: list[ClientExtension]) -> AsyncIterator[Client]:
    params = server_env.params(SANDBOX_PREMIUM_TOKEN)
    if transport == "stdio":
        async with Client(params, mode=mode, extensions=extensions) as client:
            yield client
        return
    env = {"PATH": os.environ.get("PATH", ""), **(params.env or {})}
    with serving_http(env, server_env.root / "http-server.log") as url:
        async with Client(url, mode=mode, extensions=extensions) as client:
            yield client


@pytest.mark.parametrize("transport", TRANSPORTS)
async def test_a_task_is_followed_to_the_stems(tmp_path: Path, server_env: ServerEnv, sandbox: SandboxServer,
                                              transport: str) -> None:
    song = make_input(tmp_path / "in", "flac", title="Task Song")
    tasks = TasksClient()
    async with connect(server_env, transport, "auto", [tasks]) as client:
        outcome = await client.call_tool("separate_audio", {"inputs": [str(song)], "model": "40"})
    assert len(tasks.created) == 1 and tasks.created[0].status == "working", text_of(outcome)
    [job] = outcome.structured_content["jobs"]
    assert job["state"] == "completed" and all(Path(o["path"]).is_file() for o in job["outputs"])
    assert sandbox.state.traffic.creates(SANDBOX_PREMIUM_TOKEN) == 1


@pytest.mark.parametrize("transport", TRANSPORTS)
async def test_a_legacy_client_gets_job_ids(tmp_path: Path, server_env: ServerEnv, transport: str) -> None:
    song = make_input(tmp_path / "in", "flac", title="Legacy Song")
    tasks = TasksClient()
    async with connect(server_env, transport, "legacy", [tasks]) as client:
        outcome = await client.call_tool("separate_audio", {"inputs": [str(song)], "model": "40"})
        ids: list[Any] = [j["id"] for j in outcome.structured_content["jobs"]]
        for _ in range(30):
            waited = await client.call_tool("wait_for_jobs", {"job_ids": ids, "max_wait_s": 10})
            if waited.structured_content["all_finished"]:
                break
    assert tasks.created == []
    assert waited.structured_content["jobs"][0]["state"] == "completed", text_of(waited)
