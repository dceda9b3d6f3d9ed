"""The token never leaves the server: not in any tool result or progress message, not in the stems or manifests, not
in the journal or caches, not on stderr."""

from __future__ import annotations

import secrets
import string
from pathlib import Path

import pytest
from mvsep_mcp_testbench.sandbox import SandboxServer

from .conftest import ServerEnv, make_input, run_server, text_of

MODEL = "27"


def new_token() -> str:
    """A distinctive 30-character token of a fresh premium sandbox account (so a match is never a coincidence)."""
    alphabet = string.ascii_letters + string.digits
    return "Leak" + "".join(secrets.choice(alphabet) for _ in range(26))


def files_containing(root: Path, needle: bytes) -> list[Path]:
    return [p for p in root.rglob("*") if p.is_file() and needle in p.read_bytes()]


@pytest.mark.parametrize("log_level", [None, "DEBUG"], ids=["default-logging", "debug-logging"])
async def test_token_never_reaches_client_files_journal_or_stderr(sandbox: SandboxServer, server_env: ServerEnv,
                                                                  log_level: str | None) -> None:
    token = new_token()
    sandbox.state.add_account(token, name="Leak Check", premium_minutes=1000, premium_enabled=1)
    song = make_input(server_env.root / "in", "m4a", title="Secret Song")
    params = server_env.params(token, log_level=log_level)
    async with run_server(params, server_env.stderr_path) as session:
        await session.call("list_jobs", {})
        await session.ok("separate_audio", {"inputs": [str(song)], "model": MODEL, "dry_run": True})
        submitted = await session.ok("separate_audio", {"inputs": [str(song)], "model": MODEL,
                                                        "output_format": "m4a"})
        ids = [job["id"] for job in submitted["jobs"]]
        done = await session.wait_all(ids)
        assert done["completed"] == 1
        await session.ok("separate_audio", {"inputs": [str(song)], "model": MODEL, "output_format": "m4a"})
        await session.call("wait_for_jobs", {})
        await session.call("list_jobs", {})
        await session.call("cancel_job", {"job_id": ids[0]})  # an error: already completed
        await session.call("cancel_job", {"job_id": "no-such-job"})
        await session.call("separate_audio", {"inputs": [str(song)], "model": MODEL,
                                              "options": {"add_opt1": "no such option"}})
        await session.call("account_info", {})

    assert len(session.received) > 10
    leaked = [text for text in session.received if token in text]
    assert leaked == [], f"the token reached the client: {leaked[:3]}"

    stems = list(server_env.output_dir.rglob("*.m4a"))
    assert stems and list(server_env.output_dir.rglob("*.json"))
    assert files_containing(server_env.output_dir, token.encode()) == []
    journal_files = list(server_env.data_dir.rglob("*"))
    assert any(p.name.startswith("journal") for p in journal_files)
    assert files_containing(server_env.data_dir, token.encode()) == []

    stderr = server_env.stderr_path.read_text(encoding="utf-8", errors="replace")
    if log_level == "DEBUG":
        assert stderr.strip(), "nothing was logged at DEBUG level"
    assert token not in stderr


async def test_a_refused_token_is_reported_without_being_repeated(sandbox: SandboxServer,
                                                                  server_env: ServerEnv) -> None:
    token = new_token()  # no sandbox account has it: MVSep answers "invalid token"
    song = make_input(server_env.root / "in", "flac", title="Wrong Key")
    async with run_server(server_env.params(token, log_level="DEBUG"), server_env.stderr_path) as session:
        result = await session.call("separate_audio", {"inputs": [str(song)], "model": MODEL})
        assert result.is_error
        text = text_of(result)
        assert "MVSEP_API_TOKEN" in text, text
        assert "token" in text.lower()
        await session.call("list_jobs", {})
        await session.call("wait_for_jobs", {"max_wait_s": 0.5})
    assert [text for text in session.received if token in text] == []
    assert files_containing(server_env.data_dir, token.encode()) == []
    assert files_containing(server_env.output_dir, token.encode()) == []
    assert token not in server_env.stderr_path.read_text(encoding="utf-8", errors="replace")
