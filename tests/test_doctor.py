"""`mvsep-mcp doctor` against the sandbox: one line per check, each problem with its fix, exit 1 only on a failure."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from mvsep_mcp import cli
from mvsep_mcp.doctor import run_doctor
from mvsep_mcp.jobs import Journal
from mvsep_mcp_testbench.sandbox import (
    SANDBOX_FREE_TOKEN,
    SANDBOX_PREMIUM_TOKEN,
    JobTiming,
    SandboxServer,
    SandboxState,
)

CHECKS = ["settings", "mvsep", "token", "premium", "credits", "output", "journal", "toolsets"]


@pytest.fixture(scope="module")
def sandbox() -> Iterator[SandboxServer]:
    with SandboxServer(SandboxState(timing=JobTiming.fast())) as server:
        yield server


def env_for(tmp_path: Path, base_url: str, **values: str) -> dict[str, str]:
    return {
        "MVSEP_BASE_URL": base_url,
        "MVSEP_OUTPUT_DIR": str(tmp_path / "out"),
        "MVSEP_DATA_DIR": str(tmp_path / "data"),
        "MVSEP_CONFIG": str(tmp_path / "absent.toml"),
        "MVSEP_CREDENTIALS": str(tmp_path / "absent.json"),
        **values,
    }


def doctor(env: dict[str, str]) -> tuple[int, dict[str, str]]:
    lines: list[str] = []
    code = run_doctor({}, env, write=lines.append)
    by_name = {line[7:].split()[0]: line for line in lines}
    assert list(by_name) == CHECKS, lines
    return code, by_name


def test_a_healthy_premium_setup(tmp_path: Path, sandbox: SandboxServer) -> None:
    (tmp_path / "out").mkdir()
    Journal(tmp_path / "data" / "journal.sqlite3").close()
    code, lines = doctor(env_for(tmp_path, sandbox.base_url, MVSEP_API_TOKEN=SANDBOX_PREMIUM_TOKEN,
                                 MVSEP_TOOLSETS="all"))
    assert code == 0
    assert all(line.startswith("[ok  ]") for line in lines.values()), lines
    assert lines["token"].endswith("valid: signed in as Sandbox Premium (token from the environment)")
    assert lines["premium"].endswith("on: up to 10 jobs at once, premium queue")
    assert lines["credits"].endswith(" premium credits")
    assert lines["output"].endswith(f"{tmp_path / 'out'} is writable")
    assert lines["journal"].endswith(": 0 jobs recorded, 0 unfinished")
    assert "quality" in lines["toolsets"] and "→ fix" not in lines["toolsets"]
    assert SANDBOX_PREMIUM_TOKEN not in "".join(lines.values())
    assert not list((tmp_path / "out").iterdir())  # the write probe left nothing behind


def test_a_free_account_is_warned_not_failed(tmp_path: Path, sandbox: SandboxServer) -> None:
    code, lines = doctor(env_for(tmp_path, sandbox.base_url, MVSEP_API_TOKEN=SANDBOX_FREE_TOKEN))
    assert code == 0
    assert lines["premium"].startswith("[WARN] premium") and "→ fix: turn it on with the set_premium_mode" in lines[
        "premium"]
    assert lines["credits"].startswith("[WARN] credits     0 premium credits") and "→ fix: buy credits" in lines[
        "credits"]
    assert lines["output"].endswith("will be created at the first separation")
    assert "none yet" in lines["journal"]


def test_every_problem_comes_with_its_fix(tmp_path: Path, sandbox: SandboxServer) -> None:
    (tmp_path / "out").write_text("not a folder", encoding="utf-8")
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "journal.sqlite3").write_bytes(b"this is not a database" * 100)
    code, lines = doctor(env_for(tmp_path, sandbox.base_url, MVSEP_TOOLSETS="catalog,bogus"))
    assert code == 1
    assert lines["token"] == (
        "[FAIL] token       no API token is set → fix: run `mvsep-mcp login`, or set MVSEP_API_TOKEN in your MCP "
        "client's configuration (token at https://mvsep.com/user-api)"
    )
    assert lines["premium"] == "[skip] premium     needs a valid token"
    assert lines["output"] == (
        f"[FAIL] output      {tmp_path / 'out'} is a file, not a folder → fix: set MVSEP_OUTPUT_DIR to a folder"
    )
    assert lines["journal"].startswith("[FAIL] journal") and "→ fix: start the server: it moves" in lines["journal"]
    assert lines["toolsets"] == (
        "[WARN] toolsets    'bogus' unknown and ignored; enabled: catalog → fix: MVSEP_TOOLSETS takes catalog, "
        "separation, jobs, studio, results, account, site, quality, auth or 'all'"
    )


def test_a_refused_token(tmp_path: Path, sandbox: SandboxServer) -> None:
    wrong = "WrongToken" + "7" * 20
    code, lines = doctor(env_for(tmp_path, sandbox.base_url, MVSEP_API_TOKEN=wrong))
    assert code == 1
    assert lines["token"] == (
        "[FAIL] token       MVSep refused the token (from the environment) → fix: copy a fresh token from "
        "https://mvsep.com/user-api and run `mvsep-mcp login` (or update MVSEP_API_TOKEN)"
    )
    assert wrong not in "".join(lines.values())


def test_an_unreachable_host(tmp_path: Path) -> None:
    code, lines = doctor(env_for(tmp_path, "http://127.0.0.1:9/api", MVSEP_API_TOKEN=SANDBOX_FREE_TOKEN))
    assert code == 1
    assert lines["mvsep"].startswith("[FAIL] mvsep       http://127.0.0.1:9/api does not answer (ConnectError) → fix:")
    assert lines["token"] == "[skip] token       set (from the environment); MVSep not reachable"


def test_a_bad_setting_is_one_failed_line(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    for key, value in env_for(tmp_path, "mvsep.com/api").items():
        monkeypatch.setenv(key, value)
    assert cli.main(["doctor"]) == 1
    assert capsys.readouterr().out == (
        "[FAIL] settings    MVSEP_BASE_URL must start with http:// or https:// (got 'mvsep.com/api'). → fix: correct "
        "that setting (environment, flag or config file)\n"
    )


def test_the_shared_database_is_checked_read_only_and_never_shown_whole(tmp_path: Path, sandbox: SandboxServer,
                                                                        postgres_url: str) -> None:
    from urllib.parse import urlsplit

    from mvsep_mcp.jobs.journal.postgres import PostgresJournal

    password = urlsplit(postgres_url).password or ""
    env = env_for(tmp_path, sandbox.base_url, MVSEP_DATABASE_URL=postgres_url)
    _, lines = doctor(env)
    assert lines["journal"].startswith("[ok  ]") and "empty" in lines["journal"], lines["journal"]
    with PostgresJournal(postgres_url):  # the first start creates the tables
        pass
    _, lines = doctor(env)
    assert lines["journal"].endswith(": 0 jobs recorded, 0 unfinished") and ":***@" in lines["journal"]
    wrong = postgres_url.replace(f":{password}@", ":wrong-password-4711@")
    code, lines = doctor(env_for(tmp_path, sandbox.base_url, MVSEP_DATABASE_URL=wrong))
    assert code == 1 and lines["journal"].startswith("[FAIL]") and "MVSEP_DATABASE_URL" in lines["journal"]
    assert password not in "".join(lines.values()) and "wrong-password-4711" not in "".join(lines.values())


def test_a_journal_the_server_moved_aside_is_reported(tmp_path: Path, sandbox: SandboxServer) -> None:
    path = tmp_path / "data" / "journal.sqlite3"
    path.parent.mkdir()
    path.write_bytes(b"this is not a database" * 100)
    with Journal(path) as journal:  # what the server does at start
        assert journal.damage is not None
        kept = Path(journal.damage.kept_as).name
    _, lines = doctor(env_for(tmp_path, sandbox.base_url, MVSEP_API_TOKEN=SANDBOX_PREMIUM_TOKEN))
    assert lines["journal"].startswith(f"[WARN] journal     {path}: 0 jobs recorded, 0 unfinished; on ")
    assert f"it was damaged (file is not a database) and moved aside to {kept}: 0 job(s) recovered" in lines["journal"]
    assert f"→ fix: nothing to do; delete {kept} (and its .json note) once you no longer need it" in lines["journal"]
