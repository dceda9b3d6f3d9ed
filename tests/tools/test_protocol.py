"""A client's mistakes answered as the spec says, in both eras (``auto``: 2026-07-28, ``legacy``: the handshake),
in-process and over streamable HTTP: -32602 with a sentence for an unknown tool, prompt or resource and for a
prompt's wrong arguments, a tool result (``isError``) with one sentence per wrong tool argument, -32601 for an
unknown method, and never a traceback in the log nor code 0."""

from __future__ import annotations

import logging
import os
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, Literal

import pytest
from mcp.client.client import Client
from mcp.client.streamable_http import streamable_http_client
from mcp.shared._httpx_utils import create_mcp_http_client
from mcp.shared.exceptions import MCPError
from mcp_types import EmptyResult, Request, RequestParams, SetLevelRequest, SetLevelRequestParams
from mcp_types.jsonrpc import INVALID_PARAMS, METHOD_NOT_FOUND
from mvsep_mcp_testbench.sandbox import SANDBOX_PREMIUM_TOKEN, SandboxServer

from tests.http_server import serving_http

from .conftest import connect, make_settings, text_of

TRACEBACK = "Traceback (most recent call last)"
ARGUMENTS = (
    "Error executing tool separate_audio: The argument 'inputs' was 3 (a number); it takes a list of at least 1 item, "
    "each a text. The argument 'model' is missing; it takes a text or a whole number. The argument 'output_format' "
    "was \"flac16\" (a text); it takes one of 'mp3', 'wav', 'flac', 'm4a', 'wav32', 'flac24'."
)


class UnknownMethod(Request[RequestParams | None, Literal["nope/nope"]]):
    method: Literal["nope/nope"] = "nope/nope"
    params: RequestParams | None = None


async def refused(call: Any) -> tuple[int, str]:
    with pytest.raises(MCPError) as caught:
        await call
    return caught.value.error.code, caught.value.error.message


async def check_answers(client: Client) -> None:
    """Every mistake of the module docstring, as one client sees them."""
    assert await refused(client.get_prompt("nope", {})) == (
        INVALID_PARAMS, "No prompt is named 'nope'; this server's prompts are karaoke, remix_stems, clean_dialogue.")
    assert await refused(client.get_prompt("karaoke", {})) == (
        INVALID_PARAMS, "The argument 'path' is missing; it takes a text.")
    assert await refused(client.get_prompt("karaoke", {"path": "/a.flac", "speed": "2"})) == (
        INVALID_PARAMS, "There is no argument 'speed'; the arguments are 'path', 'output_format', 'model'.")
    assert await refused(client.get_prompt("karaoke", {"path": "/a.flac", "output_format": "ogg"})) == (
        INVALID_PARAMS, "The argument 'output_format' was \"ogg\" (a text); it takes one of 'mp3', 'wav', 'flac', "
                        "'m4a', 'wav32', 'flac24'.")
    code, message = await refused(client.get_prompt("karaoke", {"path": "/a.flac", "model": "Nonexistent Model"}))
    assert code == INVALID_PARAMS and message.startswith('No model matches "Nonexistent Model". Closest: ')

    code, message = await refused(client.call_tool("nope", {}))
    assert code == INVALID_PARAMS and message.startswith("No tool is named 'nope'; this server's tools are ")
    wrong = await client.call_tool("separate_audio", {"inputs": 3, "output_format": "flac16"})
    assert wrong.is_error and text_of(wrong) == ARGUMENTS

    code, message = await refused(client.read_resource("mvsep://nowhere"))
    assert code == INVALID_PARAMS and message.startswith("No resource is at mvsep://nowhere: this server's resources ")
    assert "mvsep://jobs/{job_id}/files/{stem}.mp3 (or .wav, .flac, .m4a, .mp4)" in message
    code, message = await refused(client.read_resource("mvsep://jobs/j0000000"))
    assert (code, message) == (INVALID_PARAMS, "No job 'j0000000' exists for this account; list the jobs to see "
                                               "their ids.")
    code, message = await refused(client.read_resource("mvsep://models/Nonexistent"))
    assert code == INVALID_PARAMS and message.startswith('No model matches "Nonexistent". Closest: ')

    code, _ = await refused(client.session.send_request(UnknownMethod(), EmptyResult))
    assert code == METHOD_NOT_FOUND


async def check_log_level(client: Client) -> None:
    """``logging/setLevel`` is accepted where the protocol has it (the handshake era)."""
    request = SetLevelRequest(params=SetLevelRequestParams(level="warning"))
    assert isinstance(await client.session.send_request(request, EmptyResult), EmptyResult)


async def test_in_process(tmp_path: Path, sandbox: SandboxServer, mode: str, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)
    async with connect(make_settings(tmp_path, sandbox.base_url), mode) as client:
        await check_answers(client)
        if mode == "legacy":
            await check_log_level(client)
    assert not [r for r in caplog.records if r.exc_info or TRACEBACK in r.getMessage()]
    assert "Tool 'separate_audio' rejected arguments: ['inputs', 'model', 'output_format']" in caplog.text


@pytest.fixture(scope="module")
def http_url(tmp_path_factory: pytest.TempPathFactory, sandbox: SandboxServer) -> Iterator[tuple[str, Path]]:
    root = tmp_path_factory.mktemp("http")
    env = {"PATH": os.environ.get("PATH", ""), "HOME": str(root), "MVSEP_BASE_URL": sandbox.base_url,
           "MVSEP_API_TOKEN": SANDBOX_PREMIUM_TOKEN, "MVSEP_OUTPUT_DIR": str(root / "out"),
           "MVSEP_DATA_DIR": str(root / "data"), "MVSEP_TOOLSETS": "all", "MVSEP_CONFIG": str(root / "absent.toml"),
           "MVSEP_CREDENTIALS": str(root / "absent.json")}
    log = root / "server.log"
    with serving_http(env, log) as url:
        yield url, log


@asynccontextmanager
async def over_http(url: str, mode: str) -> AsyncIterator[Client]:
    async with create_mcp_http_client() as http, \
            Client(streamable_http_client(url, http_client=http), mode=mode) as client:
        yield client


async def test_over_http(http_url: tuple[str, Path], mode: str) -> None:
    url, log = http_url
    async with over_http(url, mode) as client:
        await check_answers(client)
        if mode == "legacy":
            await check_log_level(client)
    assert TRACEBACK not in log.read_text(encoding="utf-8")
