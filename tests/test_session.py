"""The session's DAW hook for the runner (``sessions_after_job``): the session files a request asked for, or none."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from mvsep_mcp.session import sessions_after_job

from tests.daw.conftest import FRAMES, write_pcm
from tests.daw.test_from_jobs import record


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
