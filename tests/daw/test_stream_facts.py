"""Stream facts: exact frame counts, encoder delay and padding, for every format a stem or an input comes in."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from mutagen.mp4 import MP4, MP4FreeForm
from mvsep_mcp.daw.mp4box import read_audio_timing
from mvsep_mcp.daw.stream_facts import MP3_DECODER_DELAY, UnreadableAudio, mp3_limits, read_stream_facts

from tests.daw.conftest import FRAMES, RATE, song_file, write_m4a, write_mp3, write_pcm


@pytest.mark.parametrize(("fmt", "subtype"), [("wav", "PCM_16"), ("wav", "PCM_24"), ("wav", "FLOAT"),
                                              ("wav", "PCM_U8"), ("flac", "PCM_16"), ("flac", "PCM_24")])
def test_pcm_facts_are_exact(tmp_path: Path, fmt: str, subtype: str) -> None:
    path = tmp_path / f"x.{fmt}"
    write_pcm(path, 12345, rate=48000, channels=1, subtype=subtype)
    facts = read_stream_facts(path)
    assert (facts.format, facts.sample_rate, facts.channels, facts.frames) == (fmt, 48000, 1, 12345)
    assert facts.frames_exact and facts.is_pcm and facts.encoding == subtype
    assert facts.start_offset == 0 and facts.gapless_source == "pcm"
    assert facts.duration_s == pytest.approx(12345 / 48000)


def test_format_is_recognised_by_content_not_name(tmp_path: Path) -> None:
    path = tmp_path / ".Song (Vocals).flac.0a1b2c3d.part"  # how a download sits before it is committed
    write_pcm(path, 1000, fmt="FLAC")
    assert read_stream_facts(path).format == "flac"


@pytest.mark.parametrize("channels", [1, 2])
@pytest.mark.parametrize("rate", [44100, 48000, 22050, 8000])
@pytest.mark.parametrize("encoder", ["lame", "ffmpeg"])
def test_mp3_lame_header_gives_the_gapless_length(tmp_path: Path, encoder: str, rate: int, channels: int) -> None:
    path = tmp_path / "x.mp3"
    frames = rate + 77
    write_mp3(path, frames, rate=rate, channels=channels, encoder=encoder)
    facts = read_stream_facts(path)
    assert facts.gapless_source == "lame" and facts.frames_exact
    assert facts.frames == sf.info(str(path)).frames  # what libmpg123 decodes, honouring the header
    if encoder == "lame":
        assert facts.frames == frames
    assert facts.encoder_delay == 576 and facts.encoder_padding is not None
    assert facts.decoder_delay == MP3_DECODER_DELAY and facts.start_offset == 576 + 529


def test_mp3_without_gapless_header_is_not_exact(tmp_path: Path) -> None:
    path = tmp_path / "x.mp3"
    write_mp3(path, RATE, encoder="ffmpeg", gapless_header=False)
    facts = read_stream_facts(path)
    assert not facts.frames_exact and facts.gapless_source is None
    assert facts.encoder_delay is None and facts.start_offset is None
    assert facts.frames is not None and facts.frames > RATE  # priming and padding included


def test_m4a_edit_list_is_sample_exact_with_a_fine_movie_timescale(tmp_path: Path) -> None:
    path = tmp_path / "x.m4a"
    write_m4a(path, 44223, movie_timescale=RATE)
    timing = read_audio_timing(path)
    assert timing is not None and timing.movie_timescale == RATE and timing.media_timescale == RATE
    facts = read_stream_facts(path)
    assert (facts.frames, facts.frames_exact, facts.gapless_source) == (44223, True, "edit_list")
    assert facts.encoder_delay == 1024 and facts.encoding == "AAC"
    assert facts.encoder_delay + facts.frames + facts.encoder_padding == timing.media_duration


def test_m4a_edit_list_in_milliseconds_is_not_exact(tmp_path: Path) -> None:
    path = tmp_path / "x.m4a"
    write_m4a(path, 44223)  # FFmpeg's default movie time scale: 1000
    facts = read_stream_facts(path)
    assert facts.gapless_source == "edit_list" and not facts.frames_exact
    assert abs(facts.frames - 44223) <= RATE // 1000 + 1


def test_m4a_itunsmpb_when_there_is_no_edit_list(tmp_path: Path) -> None:
    path = tmp_path / "x.m4a"
    write_m4a(path, 5000, movie_timescale=RATE)
    data = bytearray(path.read_bytes())
    at = data.find(b"edts")
    data[at:at + 4] = b"free"  # hide the edit list as a free box of the same size
    path.write_bytes(bytes(data))
    assert read_stream_facts(path).gapless_source is None
    audio = MP4(path)
    assert audio.tags is not None
    audio.tags["----:com.apple.iTunes:iTunSMPB"] = [MP4FreeForm(
        b" 00000000 00000840 000001C4 0000000000001388 00000000 00000000")]
    audio.save()
    facts = read_stream_facts(path)
    assert (facts.encoder_delay, facts.encoder_padding, facts.frames) == (0x840, 0x1C4, 5000)
    assert facts.gapless_source == "itunsmpb" and facts.frames_exact


def test_real_songs(song_dir: Path) -> None:
    for fmt in ("flac", "wav", "mp3", "m4a", "ogg"):
        facts = read_stream_facts(song_file(song_dir, fmt))
        assert (facts.sample_rate, facts.channels, facts.frames) == (RATE, 2, FRAMES), fmt
        assert facts.frames_exact, fmt


def test_unreadable_and_missing(tmp_path: Path) -> None:
    junk = tmp_path / "junk.wav"
    junk.write_bytes(b"hello, not audio" * 10)
    with pytest.raises(UnreadableAudio):
        read_stream_facts(junk)
    with pytest.raises(FileNotFoundError):
        read_stream_facts(tmp_path / "missing.wav")


def test_mp3_limits() -> None:
    assert mp3_limits(44100, 2) is None and mp3_limits(8000, 1) is None
    assert "96000 Hz" in (mp3_limits(96000, 2) or "")
    six = mp3_limits(48000, 6) or ""
    assert "at most 2 channels" in six and "input has 6" in six and "WAV or FLAC" in six


@pytest.mark.parametrize(("fmt", "subtype", "channels"), [
    ("WAV", "PCM_U8", 1), ("WAV", "PCM_16", 2), ("WAV", "PCM_24", 6), ("WAV", "PCM_32", 2), ("WAV", "FLOAT", 2),
    ("WAV", "DOUBLE", 1), ("WAV", "ULAW", 2), ("FLAC", "PCM_S8", 1), ("FLAC", "PCM_16", 2), ("FLAC", "PCM_24", 6),
])
def test_pcm_facts_from_headers_are_libsndfiles(tmp_path: Path, fmt: str, subtype: str, channels: int) -> None:
    path = tmp_path / f"a.{fmt.lower()}"
    sf.write(str(path), np.zeros((12345, channels)), 48000, subtype=subtype, format=fmt)
    facts = read_stream_facts(path)
    info = sf.info(str(path))
    assert (facts.format, facts.encoding, facts.sample_rate, facts.channels, facts.frames, facts.frames_exact) == (
        fmt.lower(), info.subtype, 48000, channels, 12345, True)


def test_pcm_facts_load_neither_libsndfile_nor_numpy(tmp_path: Path) -> None:
    wav, flac = tmp_path / "a.wav", tmp_path / "a.flac"
    for path in (wav, flac):
        sf.write(str(path), np.zeros((1000, 2)), 44100, subtype="PCM_16")
    code = ("import sys; from pathlib import Path; from mvsep_mcp.daw import read_stream_facts; "
            f"print([read_stream_facts(Path(p)).frames for p in {[str(wav), str(flac)]!r}]); "
            "print(sorted(m for m in ('numpy', 'soundfile') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split("\n")[:2] == ["[1000, 1000]", "[]"]
