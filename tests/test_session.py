"""The session's DAW hook for the runner (``sessions_after_job``): the session files a request asked for, or none; and
the session across account switches: an earlier account is kept while it has unfinished jobs, let go (its client
closed) once it has none, and taken back rather than opened twice (issue 16: a server that runs for days)."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from mvsep_mcp.config import load_settings
from mvsep_mcp.session import Session, sessions_after_job

from tests.daw.conftest import FRAMES, write_pcm
from tests.jobs.fake_mvsep import BASE
from tests.jobs.helpers import input_file, make_spec
from tests.results.test_sessions import record

TOKEN_A, TOKEN_B = "a" * 30, "b" * 30


def song(tmp_path: Path) -> tuple[Path, dict[str, Path]]:
    mix = tmp_path / "in" / "Song.flac"
    mix.parent.mkdir()
    write_pcm(mix, FRAMES)
    out = tmp_path / "out"
    out.mkdir()
    stems = {"Vocals": out / "vocals.flac", "Instrumental": out / "instrumental.flac"}
    for path in stems.values():
        write_pcm(path, FRAMES)
    return mix, stems


def test_only_the_formats_asked_for_are_written_beside_the_stems(tmp_path: Path) -> None:
    mix, stems = song(tmp_path)
    done = record("ja", mix, stems, daw_session=["rpp"], output_root=str(tmp_path / "out"))
    written = sessions_after_job(done, [])
    assert [Path(p).name for p in written] == ["Café Song.rpp"]
    assert all(Path(p).parent == tmp_path / "out" for p in written)


def test_a_session_that_cannot_be_written_leaves_the_stems_and_says_why_in_the_log(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    mix, stems = song(tmp_path)
    done = record("ja", mix, stems, daw_session=["dawproject", "rpp"], output_root=str(tmp_path / "out"))
    stems["Vocals"].unlink()  # a stem gone before the session is written: SessionError
    with caplog.at_level(logging.WARNING, logger="mvsep_mcp.session"):
        assert sessions_after_job(done, []) == []
    assert "job ja: could not write the DAW session" in caplog.text
    assert stems["Instrumental"].is_file() and not list((tmp_path / "out").glob("*.rpp"))


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
