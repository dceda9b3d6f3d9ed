"""Exact error texts for the common mistakes: each one names the fix, none leaks the token."""

from __future__ import annotations

from pathlib import Path

import pytest
from mvsep_mcp_testbench.sandbox import SandboxServer

from tests.audio_factory import make_audio

from .conftest import SANDBOX_FREE_TOKEN, SANDBOX_PREMIUM_TOKEN, connect, make_settings, text_of

NO_TOKEN = (
    "Error executing tool separate_audio: No MVSep API token is set. Add MVSEP_API_TOKEN to this server's environment "
    "in your MCP client's configuration (in Claude Desktop: the bundle's 'MVSep API token' field), or run "
    "`mvsep-mcp login` in a terminal; get a token at https://mvsep.com/user-api. Then call this tool again."
)
BAD_TOKEN = (
    'Error executing tool separate_audio: MVSep refused the API token ("invalid token"). Copy it again from '
    "https://mvsep.com/user-api into MVSEP_API_TOKEN (or run `mvsep-mcp login`), restart the server, and call this "
    "tool again."
)
WRONG_TOKEN = "WrongToken" + "0" * 20


@pytest.fixture
def song(tmp_path: Path) -> Path:
    return make_audio(tmp_path / "music", "flac", name="My Song", seconds=2)


async def call(
    tmp_path: Path,
    sandbox: SandboxServer,
    mode: str,
    tool: str,
    args: dict[str, object],
    token: str | None = SANDBOX_PREMIUM_TOKEN,
) -> tuple[bool, str]:
    async with connect(make_settings(tmp_path / "srv", sandbox.base_url, token=token), mode) as client:
        outcome = await client.call_tool(tool, args)
    return bool(outcome.is_error), text_of(outcome)


async def test_no_token(tmp_path: Path, sandbox: SandboxServer, mode: str, song: Path) -> None:
    assert await call(
        tmp_path, sandbox, mode, "separate_audio", {"inputs": [str(song)], "model": "40"}, token=None
    ) == (True, NO_TOKEN)


async def test_bundle_placeholder_counts_as_no_token(tmp_path: Path, sandbox: SandboxServer, song: Path) -> None:
    assert await call(
        tmp_path,
        sandbox,
        "legacy",
        "separate_audio",
        {"inputs": [str(song)], "model": "40"},
        token="${user_config.api_token}",
    ) == (True, NO_TOKEN)


async def test_bad_token(tmp_path: Path, sandbox: SandboxServer, mode: str, song: Path) -> None:
    error, text = await call(
        tmp_path, sandbox, mode, "separate_audio", {"inputs": [str(song)], "model": "40"}, token=WRONG_TOKEN
    )
    assert (error, text) == (True, BAD_TOKEN)
    assert WRONG_TOKEN not in text


async def test_missing_file_suggests_near_names(tmp_path: Path, sandbox: SandboxServer, mode: str, song: Path) -> None:
    missing = song.parent / "My Sng.flac"
    assert await call(tmp_path, sandbox, mode, "separate_audio", {"inputs": [str(missing)], "model": "40"}) == (
        True,
        f"Error executing tool separate_audio: No file 'My Sng.flac' in {song.parent}. Did you mean: My Song.flac?",
    )


async def test_relative_path(tmp_path: Path, sandbox: SandboxServer, song: Path) -> None:
    assert await call(
        tmp_path, sandbox, "legacy", "separate_audio", {"inputs": ["music/My Song.flac"], "model": "40"}
    ) == (
        True,
        "Error executing tool separate_audio: The input 'music/My Song.flac' is not an absolute path: give the "
        "full path, e.g. /Users/me/Music/My Song.flac or ~/Music/My Song.flac.",
    )


async def test_unknown_model(tmp_path: Path, sandbox: SandboxServer, mode: str, song: Path) -> None:
    error, text = await call(tmp_path, sandbox, mode, "separate_audio", {"inputs": [str(song)], "model": "Zzyzx"})
    assert error
    assert text.startswith('Error executing tool separate_audio: No model matches "Zzyzx". Closest: ')
    assert text.endswith("Give one of these render_ids, or search the catalogue by name, group or stem.")


async def test_bad_option_name(tmp_path: Path, sandbox: SandboxServer, mode: str, song: Path) -> None:
    assert await call(
        tmp_path, sandbox, mode, "separate_audio", {"inputs": [str(song)], "model": "40", "options": {"Bogus": "1"}}
    ) == (
        True,
        'Error executing tool separate_audio: BS Roformer (vocals, instrumental) has no option "Bogus". Use one '
        'of: "Vocal model type" (add_opt1), "Overlap" (add_opt2), "Set of stems" (add_opt3).',
    )


async def test_bad_option_value(tmp_path: Path, sandbox: SandboxServer, song: Path) -> None:
    error, text = await call(
        tmp_path,
        sandbox,
        "legacy",
        "separate_audio",
        {"inputs": [str(song)], "model": "40", "options": {"add_opt1": "999"}},
    )
    assert error
    assert text.startswith(
        'Error executing tool separate_audio: "Vocal model type" (add_opt1) has no choice "999". '
        'Use one of: "ver. 2024.02 (SDR vocals: 10.42, SDR instrum: 16.73)" (key 3), '
    )


async def test_premium_only_model_on_free_account(
    tmp_path: Path, sandbox: SandboxServer, mode: str, song: Path
) -> None:
    assert await call(
        tmp_path, sandbox, mode, "separate_audio", {"inputs": [str(song)], "model": "26"}, token=SANDBOX_FREE_TOKEN
    ) == (
        True,
        "Error executing tool separate_audio: Ensemble (vocals, instrum) (render_id 26) is for premium MVSep "
        "accounts only: buy premium on mvsep.com, or choose a model that your account may use.",
    )


async def test_not_enough_credits(tmp_path: Path, sandbox: SandboxServer, mode: str) -> None:
    token = "SandboxPoor" + "0" * 18 + ("1" if mode == "auto" else "2")
    sandbox.state.add_account(token, premium_minutes=1, premium_enabled=1)
    song = make_audio(tmp_path / "music", "flac", name="Long Song", seconds=31)
    # Ensemble All-In costs 6 credits a minute: 31 s -> 3 credits, the account has 1
    assert await call(
        tmp_path, sandbox, mode, "separate_audio", {"inputs": [str(song)], "model": "30"}, token=token
    ) == (
        True,
        "Error executing tool separate_audio: This file needs about 3 credits and the account has 1. "
        "Buy credits on mvsep.com, separate fewer files, or turn premium mode off (set_premium_mode, toolset "
        "account) to use the free queue.",
    )
    assert sandbox.state.jobs_of(token) == []


async def test_model_id_may_be_a_number(tmp_path: Path, sandbox: SandboxServer, song: Path) -> None:
    """Clients such as the MCP Inspector CLI send `model=40` as a JSON number."""
    error, text = await call(
        tmp_path, sandbox, "legacy", "separate_audio", {"inputs": [str(song)], "model": 40, "dry_run": True}
    )
    assert not error, text
    assert text.startswith("Dry run, nothing sent. BS Roformer (vocals, instrumental) (model 40)")


async def test_quality_submit_with_an_overlong_path_is_a_sentence(tmp_path: Path, sandbox: SandboxServer) -> None:
    """Found by the fault suite's fuzzing: an overlong zip path was an OSError, i.e. a bare "Error executing tool"."""
    settings = make_settings(tmp_path / "srv", sandbox.base_url, toolsets="quality")
    async with connect(settings) as client:
        outcome = await client.call_tool("quality_submit", {"zip_path": "/" + "x" * 5000, "algo_name": "a",
                                                            "description": "d", "dataset_type": 0, "password": "p"})
    assert outcome.is_error
    assert text_of(outcome).startswith("Error executing tool quality_submit: The path '/xxx")
    assert "is too long for this system (5001 characters)" in text_of(outcome)


async def test_a_damaged_journal_is_said_in_the_first_answer_and_the_server_works(
        tmp_path: Path, sandbox: SandboxServer, mode: str) -> None:
    settings = make_settings(tmp_path / "srv", sandbox.base_url)
    settings.journal_path.parent.mkdir(parents=True)
    settings.journal_path.write_bytes(b"half a journal, then the disk failed" * 100)
    async with connect(settings, mode) as client:
        first = await client.call_tool("list_jobs", {})
        second = await client.call_tool("list_jobs", {})
    [kept] = settings.journal_path.parent.glob("journal.damaged-*.sqlite3")
    assert not first.is_error and text_of(first).endswith(
        f"The job journal {settings.journal_path} was damaged (file is not a database), so it was moved aside to "
        f"{kept.name} beside it and a fresh journal started: nothing in it could be read. A job that was not "
        f"recovered is no longer followed here; its result stays on MVSep about 72 hours (your separation history "
        f"lists it).")
    assert not second.is_error and "damaged" not in text_of(second)
    assert kept.read_bytes().startswith(b"half a journal")
