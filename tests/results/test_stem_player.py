"""What the stem player shows: songs grouped from jobs, names and colours as in a session, bounded peaks, previews."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from mvsep_mcp.daw.daw_session import stem_colour
from mvsep_mcp.daw.preview import PreviewUnavailable
from mvsep_mcp.jobs.models import JobState
from mvsep_mcp.results.stem_player import player_view, stem_preview

from tests.daw.conftest import FRAMES, write_m4a, write_pcm
from tests.results.test_sessions import jobs, record, song  # noqa: F401  (the fixture)


def test_songs_group_jobs_and_name_stems_like_a_session(song: dict[str, Path], tmp_path: Path) -> None:  # noqa: F811
    j = jobs(song)
    other_mix = tmp_path / "in" / "Other.flac"
    write_pcm(other_mix, FRAMES, channels=1)  # another song: other content, other hash
    other_stem = tmp_path / "other_vocals.flac"
    write_pcm(other_stem, FRAMES, channels=1, subtype="PCM_24")
    other = record("jz", other_mix, {"Vocals": other_stem}, tags={"title": "Other Song"})
    running = j["b"].model_copy(update={"id": "jr", "state": JobState.ACTIVE})
    view = player_view([j["a"], j["b"], other, j["c"], running, j["a"]], peaks=100)
    assert [s.title for s in view.songs] == ["Café Song", "Other Song"]
    first = view.songs[0]
    assert [(s.job_id, s.name) for s in first.stems] == [
        ("ja", "Vocals (BS Roformer)"), ("ja", "Instrumental"), ("jb", "Vocals (Demucs4 HT)"),
        ("jb", "Drums (Demucs4 HT)"), ("jc", "Drums (DrumSep)"), ("jc", "Other")]
    assert first.stems[0].colour == stem_colour("Vocals") and all(len(s.peaks or b"") == 100 for s in first.stems)
    assert first.stems[0].duration_s == pytest.approx(1.5) and view.left_out == 0


def test_stems_beyond_the_cap_are_counted_and_bad_files_noted(song: dict[str, Path], tmp_path: Path) -> None:  # noqa: F811
    j = jobs(song)
    assert player_view([j["a"], j["b"]], max_stems=3).left_out == 1
    m4a = tmp_path / "vocals.m4a"
    write_m4a(m4a, FRAMES)
    odd = record("jm", song["mix"], {"Vocals": m4a, "Bass": song["b_drums"]})
    song["b_drums"].unlink()
    view = player_view([odd])
    vocals, bass = view.songs[0].stems
    assert vocals.peaks is not None and max(vocals.peaks) > 0 and vocals.note is None  # M4A: decoded by PyAV
    assert vocals.duration_s == pytest.approx(1.5, abs=0.05)
    assert bass.peaks is None and "is gone from" in (bass.note or "") and bass.name == "Bass"
    assert player_view([j["a"].model_copy(update={"state": JobState.FAILED})]).songs == ()


def test_stem_preview(song: dict[str, Path]) -> None:  # noqa: F811
    a = jobs(song)["a"]
    assert stem_preview(a, "vocals").data
    with pytest.raises(PreviewUnavailable, match="has no 'bass' stem"):
        stem_preview(a, "bass")
    with pytest.raises(PreviewUnavailable, match="no stems to preview yet"):
        stem_preview(a.model_copy(update={"state": JobState.DOWNLOADING}), "vocals")
    song["a_vocals"].unlink()
    with pytest.raises(PreviewUnavailable, match="is gone"):
        stem_preview(a, "Vocals")


def test_an_m4a_stem_without_pyav_is_listed_with_the_install_command(tmp_path: Path,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "av", None)  # an install without the m4a extra
    m4a = tmp_path / "vocals.m4a"
    write_m4a(m4a, FRAMES)
    [vocals] = player_view([record("jm", m4a, {"Vocals": m4a})]).songs[0].stems
    assert vocals.peaks is None and vocals.name == "Vocals"
    assert "install it with pip install 'mvsep-mcp[m4a]'" in (vocals.note or ""), vocals.note
