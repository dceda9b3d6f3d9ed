"""Fixtures of the DAW tests: a real song in every input format, and small writers of audio with exact lengths."""

from __future__ import annotations

from pathlib import Path

import av
import numpy as np
import pytest
import soundfile as sf

from tests.audio_factory import Song, make_audio, signal

RATE = 44100
SECONDS = 1.5
FRAMES = int(RATE * SECONDS)
DATA = Path(__file__).parent / "data"


@pytest.fixture(scope="module")
def song_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("songs")
    for fmt in ("flac", "wav", "mp3", "m4a", "ogg"):
        make_audio(folder, fmt, seconds=SECONDS, song=Song(title="Café Song"))
    return folder


def song_file(folder: Path, fmt: str) -> Path:
    return next(p for p in folder.iterdir() if p.suffix == f".{fmt}")


def write_pcm(path: Path, frames: int, *, rate: int = RATE, channels: int = 2, subtype: str = "PCM_16",
              fmt: str | None = None) -> np.ndarray:
    """A noise signal of exactly ``frames`` frames in WAV/FLAC; returns what was written (float)."""
    audio = signal(frames / rate + 1.0, rate, channels=min(channels, 2))[:frames]
    if channels > 2:
        audio = np.tile(audio[:, :1], (1, channels))
    sf.write(str(path), audio, rate, subtype=subtype, format=fmt or path.suffix.lstrip(".").upper())
    return audio


def write_m4a(path: Path, frames: int, *, rate: int = RATE, movie_timescale: int | None = None) -> None:
    """AAC in MP4 of ``frames`` frames; ``movie_timescale`` None keeps FFmpeg's default (1000: ms rounding)."""
    audio = signal(frames / rate + 1.0, rate)[:frames]
    options = {"movie_timescale": str(movie_timescale)} if movie_timescale else {}
    with av.open(str(path), "w", format="mp4", options=options) as container:
        stream = container.add_stream("aac", rate=rate, layout="stereo")
        frame = av.AudioFrame.from_ndarray(np.ascontiguousarray(audio.T), format="fltp", layout="stereo")
        frame.sample_rate = rate
        frame.pts = 0
        for packet in [*stream.encode(frame), *stream.encode(None)]:
            container.mux(packet)


def write_mp3(path: Path, frames: int, *, rate: int = RATE, channels: int = 2, encoder: str = "lame",
              gapless_header: bool = True) -> None:
    """An MP3 through libsndfile's LAME (``encoder="lame"``) or FFmpeg's libmp3lame (``"ffmpeg"``)."""
    audio = signal(frames / rate + 1.0, rate, channels=channels)[:frames]
    if encoder == "lame":
        sf.write(str(path), audio, rate, format="MP3")
        return
    layout = "stereo" if channels == 2 else "mono"
    options = {} if gapless_header else {"write_xing": "0"}
    with av.open(str(path), "w", format="mp3", options=options) as container:
        stream = container.add_stream("libmp3lame", rate=rate, layout=layout)
        frame = av.AudioFrame.from_ndarray(np.ascontiguousarray(audio.T), format="fltp", layout=layout)
        frame.sample_rate = rate
        frame.pts = 0
        for packet in [*stream.encode(frame), *stream.encode(None)]:
            container.mux(packet)
