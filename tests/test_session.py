"""The session across account switches: an earlier account is kept while it has unfinished jobs, let go (its client
closed) once it has none, and taken back rather than opened twice (issue 16: a server that runs for days)."""

from __future__ import annotations

from pathlib import Path

from mvsep_mcp.config import load_settings
from mvsep_mcp.session import Session

from tests.jobs.fake_mvsep import BASE
from tests.jobs.helpers import input_file, make_spec

TOKEN_A, TOKEN_B = "a" * 30, "b" * 30


async def test_switching_accounts_lets_the_idle_ones_go_and_takes_a_kept_one_back(tmp_path: Path) -> None:
    env = {"MVSEP_BASE_URL": BASE, "MVSEP_DATA_DIR": str(tmp_path / "data"), "MVSEP_OUTPUT_DIR": str(tmp_path / "out"),
           "MVSEP_CONFIG": str(tmp_path / "absent.toml"), "MVSEP_CREDENTIALS": str(tmp_path / "credentials.json")}
    session = Session(load_settings({}, env))
    try:
        first_a = await session.use_token(TOKEN_A, source="test")
        b = await session.use_token(TOKEN_B, source="test")
        assert first_a.client.closed and not session.runner.attached(first_a.key, first_a.client)  # nothing to finish
        session.journal.add(make_spec(tmp_path, input_file(tmp_path), account_key=b.key))  # B has a job to finish
        a = await session.use_token(TOKEN_A, source="test")
        assert a is not first_a and not a.client.closed
        assert not b.client.closed and session.runner.attached(b.key, b.client)  # kept for its job
        assert await session.use_token(TOKEN_B, source="test") is b  # taken back, not opened a second time
        assert a.client.closed
    finally:
        await session.aclose()
