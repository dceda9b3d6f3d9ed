"""NI Stems files: five ALAC tracks of one length, the master enabled, the stem box, the song's tags; DJ sources."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import mutagen
import numpy as np
import pytest
import soundfile as sf
from mvsep_mcp.daw.aligned_audio import Layout
from mvsep_mcp.daw.dj_stems import dj_rows, dj_sources, source_bits
from mvsep_mcp.daw.errors import DawError
from mvsep_mcp.daw.mix import MixError
from mvsep_mcp.daw.ni_stems import STEM_NAMES, read_stem_manifest, stem_manifest, write_ni_stems
from mvsep_mcp.media.tag_model import CoverArt, TrackTags
from mvsep_mcp.policy import MIX_PEAK_CEILING_DB

from tests import ffmpeg
from tests.audio_factory import png_cover
from tests.daw.conftest import FRAMES, RATE, write_pcm


def _rows(frames: int, step: int = 4096, level: float = 0.1) -> Iterator[tuple[np.ndarray, ...]]:
    rng = np.random.default_rng(3)
    for start in range(0, frames, step):
        n = min(step, frames - start)
        yield tuple((rng.standard_normal((n, 2)) * level).astype(np.float32) for _ in range(5))


@pytest.mark.parametrize("bits", [16, 24])
def test_five_tracks_of_the_rows_length_and_the_stem_box(tmp_path: Path, bits: int) -> None:
    path = tmp_path / ".Song.stem.mp4.0000abcd.part"  # any name: the format is given
    tags = TrackTags(title="Song", artist="Artist", cover=CoverArt(data=png_cover(), mime="image/png"))
    assert write_ni_stems(path, _rows(FRAMES + 7), sample_rate=RATE, bits=bits, tags=tags, model="M") == FRAMES + 7
    audio = [s for s in ffmpeg.streams(path) if s["codec_type"] == "audio"]
    assert [int(s["duration_ts"]) for s in audio] == [FRAMES + 7] * 5
    assert {s["codec_name"] for s in audio} == {"alac"} and {s["channels"] for s in audio} == {2}
    assert [s.get("bits_per_raw_sample") for s in audio] == [str(bits)] * 5
    assert [s["disposition"]["default"] for s in audio] == [1, 0, 0, 0, 0]
    assert read_stem_manifest(path) == stem_manifest()
    assert [s["name"] for s in stem_manifest()["stems"]] == list(STEM_NAMES)
    written = mutagen.File(path, easy=False)
    assert written.tags["\xa9nam"] == ["Song"] and written.tags["covr"][0] == png_cover()
    assert written.tags["\xa9cmt"] == ["DJ stems of MVSep stems (M)"]


def test_the_tracks_hold_the_rows_samples(tmp_path: Path) -> None:
    rows = list(_rows(10_000))
    write_ni_stems(tmp_path / "x.stem.mp4", iter(rows), sample_rate=RATE, bits=16, tags=TrackTags(), model="M")
    import subprocess

    for track in range(5):
        pcm = subprocess.run([ffmpeg.program("ffmpeg"), "-v", "error", "-i", str(tmp_path / "x.stem.mp4"), "-map",
                              f"0:a:{track}", "-f", "f32le", "-"], check=True, capture_output=True).stdout
        decoded = np.frombuffer(pcm, dtype="<f4").reshape(-1, 2)
        expected = np.concatenate([row[track] for row in rows])
        assert np.abs(decoded - expected).max() <= 2 ** -15  # 16-bit rounding


def _stems(folder: Path, names: list[str], level: float = 1.0) -> dict[str, Path]:
    found = {}
    for name in names:
        path = folder / f"{name}.wav"
        audio = write_pcm(path, FRAMES)
        sf.write(str(path), audio * level, RATE, subtype="PCM_16")
        found[name] = path
    return found


def test_the_jobs_other_is_used_when_nothing_is_left_beside_it(tmp_path: Path) -> None:
    stems = _stems(tmp_path, ["Vocals", "Instrumental", "Drums", "Bass", "Other"])
    sources = dj_sources(stems, master=tmp_path / "song.wav")
    assert sources.other == stems["Other"] and sources.notes == () and sources.used == STEM_NAMES


def test_other_is_worked_out_as_the_rest_when_the_job_has_more_stems(tmp_path: Path) -> None:
    names = ["Vocals", "Drums", "Bass", "Other", "Guitar", "Piano"]
    stems = _stems(tmp_path, names)
    song = write_pcm(tmp_path / "song.wav", FRAMES)
    sources = dj_sources(stems, master=tmp_path / "song.wav")
    assert sources.other is None and sources.used == ("Drums", "Bass", "Vocals")
    assert sources.notes == ("Other is the song minus Drums, Bass and Vocals (the job's Other lacks its Guitar and "
                             "Piano).",)
    with dj_rows(sources, Layout(RATE, 2, FRAMES)) as rows:
        steps = list(rows)
    master = np.concatenate([s[0] for s in steps])
    four = sum(np.concatenate([s[i] for s in steps]) for i in range(1, 5))
    assert np.abs(master - song).max() < 1e-4 and np.abs(master - four).max() < 1e-6
    with pytest.raises(MixError, match="the song is not on disk here"):
        dj_sources(stems, master=None)


def test_without_the_song_the_master_is_the_sum_of_the_four(tmp_path: Path) -> None:
    quiet = dj_sources(_stems(tmp_path, ["Vocals", "Drums", "Bass", "Other"], level=0.2), master=None)
    assert quiet.notes == ("The master track is the sum of the four stems (the song itself is not on disk here).",)
    with dj_rows(quiet, Layout(RATE, 2, FRAMES)) as rows:
        first = next(iter(rows))
    assert np.abs(first[0] - sum(first[1:])).max() < 1e-6
    loud = dj_sources(_stems(tmp_path, ["Vocals", "Drums", "Bass", "Other"]), master=None)  # would clip: lowered
    with dj_rows(loud, Layout(RATE, 2, FRAMES)) as rows:
        master = np.concatenate([row[0] for row in rows])
    assert np.abs(master).max() == pytest.approx(10 ** (MIX_PEAK_CEILING_DB / 20), abs=1e-6)


def test_a_job_without_drums_bass_and_vocals_has_no_dj_stems(tmp_path: Path) -> None:
    with pytest.raises(MixError) as refused:
        dj_sources(_stems(tmp_path, ["Vocals", "Instrumental"]), master=None)
    assert refused.value.user_text() == (
        "DJ stems need Drums, Bass and Vocals stems (Other can be worked out from the song), and this job has no "
        "Drums and Bass (its stems: Vocals and Instrumental): separate the song with a 4-stem model "
        "(search_models stem='drums').")


def test_24_bits_when_a_source_has_more_than_16(tmp_path: Path) -> None:
    write_pcm(tmp_path / "a.flac", 100)
    write_pcm(tmp_path / "b.flac", 100, subtype="PCM_24")
    assert source_bits([tmp_path / "a.flac"]) == 16 and source_bits([tmp_path / "a.flac", tmp_path / "b.flac"]) == 24


def test_without_pyav_the_sentence_names_the_extra(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import sys

    monkeypatch.setitem(sys.modules, "av", None)  # as in a base install: PyAV comes with the m4a extra
    with pytest.raises(DawError) as refused:
        write_ni_stems(tmp_path / "x.stem.mp4", _rows(100), sample_rate=RATE, bits=16, tags=TrackTags(), model="M")
    assert refused.value.user_text() == ("Making DJ stems needs PyAV, which is not installed beside this server: "
                                         "install it with pip install 'mvsep-mcp[m4a]'.")
