"""The stem player's audio: waveform peaks of a bounded size and short MP3 previews that every browser plays."""

from __future__ import annotations

import base64
import io
import os
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from mvsep_mcp.daw.decode import M4A_EXTRA_INSTALL
from mvsep_mcp.daw.peaks import NoWaveform, cached_peaks, peaks_text, waveform_peaks
from mvsep_mcp.daw.preview import PREVIEW_MIME, PreviewUnavailable, mp3_preview, preview_rate

from tests.daw.conftest import FRAMES, RATE, write_m4a, write_mp3, write_pcm


@pytest.fixture
def without_pyav(monkeypatch: pytest.MonkeyPatch) -> None:
    """An install without the m4a extra: ``import av`` fails."""
    monkeypatch.setitem(sys.modules, "av", None)


def _halves(path: Path, frames: int, *, rate: int = RATE, channels: int = 2, loud: float = 0.5) -> None:
    """Silence, then a constant ``loud`` level on the last channel only: peaks know exactly what to say."""
    audio = np.zeros((frames, channels), dtype=np.float32)
    audio[frames // 2:, -1] = loud
    sf.write(str(path), audio, rate, subtype="FLOAT" if path.suffix == ".wav" else "PCM_24")


@pytest.mark.parametrize("suffix", [".wav", ".flac"])
def test_peaks_follow_the_signal(tmp_path: Path, suffix: str) -> None:
    path = tmp_path / f"half{suffix}"
    _halves(path, 100_000)
    peaks = waveform_peaks(path, 10)
    assert len(peaks) == 10
    assert list(peaks[:5]) == [0] * 5 and all(abs(p - 128) <= 1 for p in peaks[5:])


def test_peaks_are_bounded_whatever_the_length(tmp_path: Path) -> None:
    short, long = tmp_path / "short.wav", tmp_path / "long.flac"
    _halves(short, 300, channels=1)
    _halves(long, RATE * 20, loud=1.0)
    assert len(waveform_peaks(short)) == len(waveform_peaks(long)) == 800
    assert max(waveform_peaks(long)) == 255
    assert len(base64.b64decode(peaks_text(waveform_peaks(short)))) == 800


def test_mp3_and_m4a_have_peaks_like_the_lossless_stem(tmp_path: Path) -> None:
    wav, mp3, m4a = tmp_path / "s.wav", tmp_path / "s.mp3", tmp_path / "s.m4a"
    write_pcm(wav, FRAMES)  # the same signal in each format
    write_mp3(mp3, FRAMES)
    write_m4a(m4a, FRAMES)
    lossless = np.frombuffer(waveform_peaks(wav, 50), dtype=np.uint8).astype(int)
    for lossy in (mp3, m4a):  # decoded with the encoder's priming skipped: the same shape at the same places
        peaks = np.frombuffer(waveform_peaks(lossy, 50), dtype=np.uint8).astype(int)
        assert np.abs(peaks - lossless).max() <= 30, (lossy.suffix, peaks - lossless)


def test_m4a_without_pyav_names_the_install_command(tmp_path: Path, without_pyav: None) -> None:
    m4a, junk = tmp_path / "s.m4a", tmp_path / "junk.m4a"
    write_m4a(m4a, FRAMES)
    junk.write_bytes(b"not audio at all")
    with pytest.raises(NoWaveform, match=f"s.m4a: M4A \\(AAC\\) stems are decoded with PyAV.*"
                                         f"{M4A_EXTRA_INSTALL.replace('[', '.').replace(']', '.')}"):
        waveform_peaks(m4a)
    with pytest.raises(PreviewUnavailable, match="install it with pip install 'mvsep-mcp.m4a.'"):
        mp3_preview(m4a)
    with pytest.raises(NoWaveform, match="junk.m4a cannot be decoded here"):  # not audio: no install advice
        waveform_peaks(junk)


def test_cached_peaks_follow_the_file(tmp_path: Path) -> None:
    path = tmp_path / "c.wav"
    _halves(path, 10_000)
    first = cached_peaks(path, 20)
    assert cached_peaks(path, 20) is first
    _halves(path, 10_000, loud=0.9)
    os.utime(path, ns=(1, 1))  # another modification time: another answer
    assert cached_peaks(path, 20) != first


def _decoded(data: bytes) -> tuple[np.ndarray, int]:
    audio, rate = sf.read(io.BytesIO(data), dtype="float32", always_2d=True)
    return audio, rate


@pytest.mark.parametrize(("rate", "seconds", "preview_rate_hz"), [(44100, 40.0, 22050), (48000, 3.0, 24000),
                                                                   (96000, 2.0, 24000), (16000, 2.0, 16000)])
def test_previews_are_short_mono_mp3(tmp_path: Path, rate: int, seconds: float, preview_rate_hz: int) -> None:
    path = tmp_path / f"s{rate}.flac"
    t = np.arange(int(rate * seconds)) / rate
    tone = 0.5 * np.sin(2 * np.pi * 440 * t)
    sf.write(str(path), np.stack([tone, tone], axis=1), rate)
    preview = mp3_preview(path, seconds=30.0)
    assert preview.mime == PREVIEW_MIME == "audio/mpeg"
    assert preview.data[:3] == b"ID3" or preview.data[:2] in (b"\xff\xf3", b"\xff\xfb")  # MPEG-2 or -1 layer III
    audio, out_rate = _decoded(preview.data)
    assert out_rate == preview.sample_rate == preview_rate_hz and audio.shape[1] == 1
    assert preview.seconds == pytest.approx(min(seconds, 30.0), abs=0.01)
    assert len(audio) / out_rate == pytest.approx(min(seconds, 30.0), abs=0.15)  # MP3 frames round the end up
    assert np.abs(audio).max() > 0.3  # the tone survived, at about its level
    assert len(preview.data) <= 30 * 40_000 / 8 * 1.05  # ~40 kbit/s


def test_odd_rates_are_interpolated() -> None:
    mono, rate = preview_rate(np.zeros(50_000, dtype=np.float32), 50_000)
    assert rate == 22050 and len(mono) == pytest.approx(22050, abs=2)


def test_previews_refuse_what_they_cannot_give(tmp_path: Path) -> None:
    junk, empty, big = (tmp_path / n for n in ("junk.wav", "empty.wav", "big.wav"))
    junk.write_bytes(b"RIFF????WAVE")
    sf.write(str(empty), np.zeros((0, 2), dtype=np.float32), RATE)
    _halves(big, RATE * 5)
    for path, message in ((junk, "junk.wav cannot be decoded here.*so it has no preview"), (empty, "no audio")):
        with pytest.raises(PreviewUnavailable, match=message) as refused:
            mp3_preview(path)
        assert str(tmp_path) not in refused.value.user_text()  # the file's name, never the server's folders
    with pytest.raises(NoWaveform) as no_wave:
        waveform_peaks(junk)
    assert "junk.wav" in no_wave.value.user_text() and str(tmp_path) not in no_wave.value.user_text()
    with pytest.raises(PreviewUnavailable, match="above the 1 KB a host's bridge is given"):
        mp3_preview(big, max_bytes=1000)


def test_m4a_previews_are_mono_mp3(tmp_path: Path) -> None:
    m4a = tmp_path / "s.m4a"
    write_m4a(m4a, RATE * 3)
    preview = mp3_preview(m4a, seconds=2.0)
    audio, rate = _decoded(preview.data)
    assert audio.shape[1] == 1 and rate == preview.sample_rate == 22050
    assert preview.seconds == pytest.approx(2.0, abs=0.01) and np.abs(audio).max() > 0.1
