"""Errors as a host sees them over stdio: no token (also an unfilled bundle placeholder, started from "/"), and a
missing input file with a near name suggested."""

from __future__ import annotations

import pytest
from mvsep_mcp_testbench.sandbox import SANDBOX_PREMIUM_TOKEN, SandboxServer

from .conftest import ServerEnv, count_creates, files_under, make_input, run_server, text_of

MODEL = "27"


def assert_token_help(text: str) -> None:
    assert "MVSEP_API_TOKEN" in text, text
    assert "mvsep-mcp login" in text, text


@pytest.mark.parametrize(("token", "cwd"), [
    (None, None),
    ("${user_config.api_token}", "/"),  # what Claude Desktop passes for a blank bundle field, from its working dir
], ids=["unset", "bundle-placeholder-from-root"])
async def test_without_a_token_separate_audio_says_how_to_set_one(sandbox: SandboxServer, server_env: ServerEnv,
                                                                   token: str | None, cwd: str | None) -> None:
    creates = count_creates(sandbox.state)
    song = make_input(server_env.root / "in", "mp3", title="No Token Song")
    params = server_env.params(token) if cwd is None else server_env.params(token, cwd=cwd)
    async with run_server(params, server_env.stderr_path) as session:
        tools = {tool.name for tool in (await session.client.list_tools()).tools}
        assert {"separate_audio", "wait_for_jobs", "list_jobs", "cancel_job"} <= tools
        result = await session.call("separate_audio", {"inputs": [str(song)], "model": MODEL})
        assert result.is_error
        assert_token_help(text_of(result))
        waited = await session.call("wait_for_jobs", {})
        assert waited.is_error
        assert_token_help(text_of(waited))
    assert creates.attempts == 0
    if token is not None:
        assert token not in text_of(result)


async def test_missing_input_names_the_file_and_suggests_a_near_name(sandbox: SandboxServer,
                                                                     server_env: ServerEnv) -> None:
    creates = count_creates(sandbox.state)
    folder = server_env.root / "music"
    real = make_input(folder, "flac", title="Midnight Drive")
    make_input(folder, "flac", title="Completely Different", seed=3)
    typo = folder / "Midnight Drvie.flac"
    async with run_server(server_env.params(SANDBOX_PREMIUM_TOKEN), server_env.stderr_path) as session:
        result = await session.call("separate_audio", {"inputs": [str(typo)], "model": MODEL})
        assert result.is_error
        text = text_of(result)
        assert "Midnight Drvie.flac" in text, text
        assert real.name in text, f"no near name suggested: {text}"
        assert "Completely Different" not in text, text
        listed = await session.ok("list_jobs", {})
        assert listed["jobs"] == []
    assert creates.attempts == 0
    assert files_under(server_env.output_dir) == set()
