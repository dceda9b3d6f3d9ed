"""The `mvsep-mcp` command: login stores the token owner-only (from a prompt, never an argument), settings errors."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from mvsep_mcp import cli
from mvsep_mcp_testbench.sandbox import SANDBOX_FREE_TOKEN, JobTiming, SandboxServer, SandboxState
from mvsep_mcp_testbench.sandbox.accounts import SANDBOX_PASSWORD


@pytest.fixture(scope="module")
def sandbox() -> Iterator[SandboxServer]:
    with SandboxServer(SandboxState(timing=JobTiming.fast())) as server:
        yield server


@pytest.fixture
def credentials(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "config" / "credentials.json"
    monkeypatch.setenv("MVSEP_CREDENTIALS", str(path))
    monkeypatch.setenv("MVSEP_CONFIG", str(tmp_path / "absent.toml"))
    monkeypatch.delenv("MVSEP_API_TOKEN", raising=False)
    return path


def test_login_with_a_pasted_token(sandbox: SandboxServer, credentials: Path, monkeypatch: pytest.MonkeyPatch,
                                   capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr(cli.getpass, "getpass", lambda prompt: SANDBOX_FREE_TOKEN)
    assert cli.main(["login", "--base-url", sandbox.base_url]) == 0
    assert json.loads(credentials.read_text()) == {"api_token": SANDBOX_FREE_TOKEN}
    # owner-only: the mode on POSIX; on Windows the file inherits the ACL of the user's profile folder
    assert sys.platform == "win32" or credentials.stat().st_mode & 0o777 == 0o600
    err = capsys.readouterr().err
    assert "Signed in as Sandbox Free" in err and SANDBOX_FREE_TOKEN not in err


def test_login_with_email_and_password(sandbox: SandboxServer, credentials: Path,
                                       monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cli.getpass, "getpass", lambda prompt: SANDBOX_PASSWORD)
    assert cli.main(["login", "--base-url", sandbox.base_url, "--email", "free@sandbox.mvsep.test"]) == 0
    assert json.loads(credentials.read_text()) == {"api_token": SANDBOX_FREE_TOKEN}


def test_a_refused_token_is_not_stored(sandbox: SandboxServer, credentials: Path, monkeypatch: pytest.MonkeyPatch,
                                       capsys: pytest.CaptureFixture[str]) -> None:
    wrong = "WrongToken" + "1" * 20
    monkeypatch.setattr(cli.getpass, "getpass", lambda prompt: wrong)
    assert cli.main(["login", "--base-url", sandbox.base_url]) == 1
    assert not credentials.exists()
    assert wrong not in capsys.readouterr().err


def test_bad_setting_is_one_sentence(credentials: Path, monkeypatch: pytest.MonkeyPatch,
                                     capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("MVSEP_OUTPUT_FORMAT", "ogg")
    assert cli.main(["serve"]) == 2
    assert capsys.readouterr().err == (
        "mvsep-mcp: MVSEP_OUTPUT_FORMAT 'ogg' is not one of mp3, wav, flac, m4a, wav32, flac24.\n")
