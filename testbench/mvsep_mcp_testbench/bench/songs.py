"""Input files of a benchmark run: small tagged songs, a long WAV, and a large sparse WAV for the upload figure."""

from __future__ import annotations

import struct
from pathlib import Path

from mvsep_mcp_testbench.sandbox.samples import Song, make_audio

SAMPLE_RATE = 44100
CHANNELS = 2
SAMPLE_BYTES = 2


def song(directory: Path, title: str, *, seconds: float, fmt: str = "flac", seed: int = 7) -> Path:
    """A real, tagged song; distinct ``seed`` and ``title`` give distinct content and distinct output names."""
    tags = Song(title=title, artist="Bench Ensemble", album="Benchmark Sessions", date="2026", genre="Test", track="1")
    return make_audio(directory, fmt, name=title, seconds=seconds, song=tags, seed=seed)


def songs(directory: Path, prefix: str, count: int, *, seconds: float, first_seed: int) -> list[Path]:
    return [song(directory, f"{prefix} {i + 1:02d}", seconds=seconds, seed=first_seed + i) for i in range(count)]


def sparse_wav(path: Path, size_bytes: int) -> Path:
    """A valid 16-bit stereo WAV of about ``size_bytes`` whose audio is silence left as a hole in the file, so
    that it takes almost no disk space and costs no time to make."""
    frame = CHANNELS * SAMPLE_BYTES
    data = max(frame, (size_bytes - 44) // frame * frame)
    header = b"RIFF" + struct.pack("<I", 36 + data) + b"WAVE"
    header += b"fmt " + struct.pack("<IHHIIHH", 16, 1, CHANNELS, SAMPLE_RATE, SAMPLE_RATE * frame, frame, 16)
    header += b"data" + struct.pack("<I", data)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as fh:
        fh.write(header)
        fh.truncate(len(header) + data)
    return path
