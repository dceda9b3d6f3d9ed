"""probe(): format and duration of each test format; UnsupportedAudio; near names for missing files."""

from __future__ import annotations

from pathlib import Path

import pytest
from mvsep_mcp.media import AudioInfo, MediaError, UnsupportedAudio, find_similar_names, probe

from tests.audio_factory import FORMATS, make_audio


@pytest.mark.parametrize("fmt", FORMATS)
def test_probe_reads_duration_and_format(tmp_path: Path, fmt: str) -> None:
    path = make_audio(tmp_path, fmt, seconds=3.0)
    info = probe(path)
    assert isinstance(info, AudioInfo)
    assert info.format == fmt
    assert info.duration_s is not None and 2.9 <= info.duration_s <= 3.2  # encoder padding
    assert info.sample_rate == 44100
    assert info.channels == 2
    assert info.bitrate and info.bitrate > 0
    assert info.size_bytes == path.stat().st_size


@pytest.mark.parametrize("fmt", FORMATS)
def test_probe_detects_by_content_under_any_suffix(tmp_path: Path, fmt: str) -> None:
    path = make_audio(tmp_path, fmt, tagged=False)
    hidden = path.rename(tmp_path / ".song.0123abcd.part")
    assert probe(hidden).format == fmt


def test_probe_32_bit_float_wav(tmp_path: Path) -> None:
    import soundfile as sf

    from tests.audio_factory import signal

    path = tmp_path / "float.wav"
    sf.write(path, signal(2.0), 44100, format="WAV", subtype="FLOAT")
    info = probe(path)
    assert info.format == "wav"
    assert info.duration_s == pytest.approx(2.0, abs=0.01)


def test_probe_rejects_non_audio_with_a_sentence_naming_formats(tmp_path: Path) -> None:
    path = tmp_path / "notes.mp3"
    path.write_text("these are not the droids you are looking for\n" * 10)
    with pytest.raises(UnsupportedAudio) as caught:
        probe(path)
    assert isinstance(caught.value, MediaError)
    message = str(caught.value)
    assert message.startswith("notes.mp3 is not an audio file this server can read; use one of mp3, flac")
    assert message.endswith(".")


def test_probe_missing_file_raises_file_not_found(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        probe(tmp_path / "nope.flac")


def test_find_similar_names_suggests_near_names(tmp_path: Path) -> None:
    for name in ("My Song.flac", "My Song.mp3", "Other Track.wav", ".hidden.flac", "zzz.txt"):
        (tmp_path / name).write_bytes(b"x")
    suggestions = find_similar_names(tmp_path / "My Sogn.flac")
    assert suggestions[0] == "My Song.flac"
    assert "My Song.mp3" in suggestions
    assert ".hidden.flac" not in suggestions
    assert len(find_similar_names(tmp_path / "my song.flac", limit=1)) == 1


def test_find_similar_names_same_stem_other_suffix(tmp_path: Path) -> None:
    (tmp_path / "take.aiff").write_bytes(b"x")
    assert find_similar_names(tmp_path / "take.flac") == ["take.aiff"]


def test_find_similar_names_missing_parent_is_empty(tmp_path: Path) -> None:
    assert find_similar_names(tmp_path / "no such folder" / "song.flac") == []
    assert find_similar_names(tmp_path / "nothing-like-it.flac") == []


def test_probe_webm_falls_back_to_pyav(tmp_path: Path) -> None:
    import av
    import numpy as np

    from tests.audio_factory import signal

    path = tmp_path / "clip.webm"
    audio = np.ascontiguousarray(signal(2.0, 48000).T)
    with av.open(str(path), "w", format="webm") as container:
        stream = container.add_stream("libopus", rate=48000, layout="stereo")
        for start in range(0, audio.shape[1], 960):
            frame = av.AudioFrame.from_ndarray(np.ascontiguousarray(audio[:, start : start + 960]), format="fltp",
                                               layout="stereo")
            frame.sample_rate = 48000
            frame.pts = start
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode(None):
            container.mux(packet)
    info = probe(path)
    assert info.format == "webm"
    assert info.duration_s is not None and 1.9 <= info.duration_s <= 2.2
    assert info.channels == 2
