"""The tasks extension on a hosted server, over streamable HTTP with authentication: a client that declares
``io.modelcontextprotocol/tasks`` gets a task from ``separate_audio`` and follows it to the stems; another user's
``tasks/get`` and ``tasks/cancel`` of that task id are refused exactly like an unknown task's, and say nothing of it;
``tasks/get`` needs ``mvsep:read`` and ``tasks/cancel`` also ``mvsep:separate`` (403 ``insufficient_scope``)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest
from mcp.client.client import Client
from mcp.client.extension import ClientExtension
from mcp.client.streamable_http import streamable_http_client
from mcp.shared._httpx_utils import create_mcp_http_client
from mcp.shared.exceptions import MCPError
from mvsep_mcp_testbench.sandbox import SandboxServer

from tests.http_server import free_port
from tests.tasks_client import ANY_DICT, TaskRef, TasksCancel, TasksClient, TasksGet

from .conftest import MCP_HEADERS, Issuer, RunningServer, hosted_settings, text_of

pytestmark = pytest.mark.timeout(180)
MODEL = 27  # Demucs4 Vocals 2023: two stems


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, issuer: Issuer, sandbox: SandboxServer) -> Iterator[RunningServer]:
    root = tmp_path_factory.mktemp("tasks")
    port = free_port()
    settings = hosted_settings(root, sandbox.base_url, port, auth_issuer=issuer.issuer,
                               auth_jwks_url=issuer.url + "/jwks.json")
    with RunningServer(settings, port) as running:
        yield running


def mvsep_token(sandbox: SandboxServer, name: str) -> str:
    token = f"Tasks{name}".ljust(30, "0")[:30]
    sandbox.state.add_account(token, name=name, email=f"{name.lower()}@tasks.test")
    return token


@asynccontextmanager
async def tasks_client(server: RunningServer, bearer: str, mvsep: str,
                       extension: ClientExtension) -> AsyncIterator[Client]:
    """A modern (2026) client of the hosted server that declares the tasks extension and sends its MVSep token."""
    headers = {"Authorization": f"Bearer {bearer}", "X-MVSep-Token": mvsep}
    async with create_mcp_http_client(headers=headers) as http, \
            Client(streamable_http_client(server.url + "/mcp", http_client=http), mode="auto",
                   extensions=[extension]) as client:
        yield client


async def refused(client: Client, request: Any) -> MCPError:
    with pytest.raises(MCPError) as caught:
        await client.session.send_request(request, ANY_DICT)
    return caught.value


async def test_a_users_task_is_followed_to_the_stems_and_nobody_else_can_see_or_cancel_it(
        server: RunningServer, issuer: Issuer, sandbox: SandboxServer, song_urls: list[str]) -> None:
    tasks = TasksClient()
    alice = issuer.token("alice", aud=server.url + "/mcp")
    async with tasks_client(server, alice, mvsep_token(sandbox, "Alice"), tasks) as client:
        outcome = await client.call_tool("separate_audio", {"inputs": song_urls[:1], "model": MODEL})
    assert not outcome.is_error, text_of(outcome)
    [created] = tasks.created
    assert tasks.polls[-1]["status"] == "completed"
    [job] = (outcome.structured_content or {})["jobs"]
    assert job["state"] == "completed" and job["outputs"], job
    assert all("path" not in o and o["url"].startswith(server.url + "/files/") for o in job["outputs"]), job

    bob = issuer.token("bob", aud=server.url + "/mcp")
    async with tasks_client(server, bob, mvsep_token(sandbox, "Bob"), TasksClient()) as client:
        unknown = await refused(client, TasksGet(params=TaskRef(task_id="t" + "0" * 31)))
        theirs = await refused(client, TasksGet(params=TaskRef(task_id=created.task_id)))
        cancel = await refused(client, TasksCancel(params=TaskRef(task_id=created.task_id)))
    for error in (unknown, theirs, cancel):
        assert error.code == -32602
    assert theirs.message == unknown.message.replace("t" + "0" * 31, created.task_id)
    assert cancel.message == theirs.message

    # scopes: following a task is reading (mvsep:read); cancelling one acts on the jobs (mvsep:separate too)
    reader = issuer.token("alice", aud=server.url + "/mcp", scope="mvsep:read")
    async with tasks_client(server, reader, mvsep_token(sandbox, "Alice"), TasksClient()) as client:
        got = await client.session.send_request(TasksGet(params=TaskRef(task_id=created.task_id)), ANY_DICT)
    assert got["status"] == "completed" and got["taskId"] == created.task_id
    everything = repr(got) + repr(tasks.polls)
    assert str(server.settings.output_dir) not in everything  # no server path in any task answer
    cancel_body = {"jsonrpc": "2.0", "id": 7, "method": "tasks/cancel", "params": {"taskId": created.task_id}}
    async with httpx.AsyncClient() as http:
        answer = await http.post(server.url + "/mcp", json=cancel_body,
                                 headers={**MCP_HEADERS, "Authorization": f"Bearer {reader}"})
    assert answer.status_code == 403, answer.text
    challenge = answer.headers["www-authenticate"]
    assert 'error="insufficient_scope"' in challenge and "mvsep:separate" in challenge
