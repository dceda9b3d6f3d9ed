# mypy: disable-error-code="no-untyped-call"
"""Makes small, real, tagged audio files: mp3, flac, m4a, ogg and wav, with cover art.

Used by `mvsep-mcp demo` (a song to separate when the user has none at hand) and by the tests
(``tests/audio_factory.py`` re-exports this module). The signal is a few seconds of deterministic stereo tones plus
noise, so that stem splits are non-trivial.
"""

from __future__ import annotations

import base64
import struct
import zlib
from dataclasses import dataclass, field
from pathlib import Path

import av
import numpy as np
import soundfile as sf
from mutagen.flac import FLAC, Picture
from mutagen.id3 import APIC, ID3, TALB, TCON, TDRC, TIT2, TPE1, TPE2, TRCK
from mutagen.mp4 import MP4, MP4Cover
from mutagen.oggvorbis import OggVorbis
from mutagen.wave import WAVE

FORMATS = ("mp3", "flac", "m4a", "ogg", "wav")


def png_cover(width: int = 8, height: int = 8, rgb: tuple[int, int, int] = (200, 40, 90)) -> bytes:
    """A tiny valid PNG image in one colour."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    raw = b"".join(b"\x00" + bytes(rgb) * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b"")


@dataclass
class Song:
    title: str | None = "Test Song"
    artist: str | None = "Test Artist"
    album: str | None = "Test Album"
    albumartist: str | None = None
    date: str | None = "2024"
    genre: str | None = "Electronic"
    track: str | None = "3"
    cover: bytes | None = field(default_factory=png_cover)


def signal(seconds: float = 3.0, sample_rate: int = 44100, channels: int = 2, seed: int = 7) -> np.ndarray:
    """Deterministic float32 audio of shape (frames, channels) in [-0.5, 0.5]."""
    t = np.arange(int(seconds * sample_rate)) / sample_rate
    rng = np.random.default_rng(seed)
    low = 0.2 * np.sin(2 * np.pi * 55.0 * t)  # "bass"
    mid = 0.15 * np.sin(2 * np.pi * 440.0 * t) * (0.5 + 0.5 * np.sin(2 * np.pi * 0.5 * t))  # "voice"
    high = 0.05 * rng.standard_normal(t.size)  # "hats"
    left = low + mid + high
    right = low + 0.6 * mid + 0.8 * high
    stereo = np.stack([left, right], axis=1) if channels == 2 else left[:, None]
    return np.clip(stereo, -0.5, 0.5).astype(np.float32)


def write_m4a(path: Path, audio: np.ndarray, sample_rate: int) -> None:
    """AAC in an MP4 container through PyAV; the edit list states the length to the sample."""
    layout = "stereo" if audio.shape[1] == 2 else "mono"
    with av.open(str(path), "w", format="mp4", options={"movie_timescale": str(sample_rate)}) as container:
        stream = container.add_stream("aac", rate=sample_rate, layout=layout)
        stream.bit_rate = 192_000
        frame_size = 1024
        planar = np.ascontiguousarray(audio.T)
        for start in range(0, planar.shape[1], frame_size):
            block = np.ascontiguousarray(planar[:, start : start + frame_size])
            frame = av.AudioFrame.from_ndarray(block, format="fltp", layout=layout)
            frame.sample_rate = sample_rate
            frame.pts = start
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode(None):
            container.mux(packet)


def write_audio(path: Path, audio: np.ndarray, sample_rate: int) -> None:
    """Encode ``audio`` to ``path`` in the format its suffix names."""
    fmt = path.suffix.lower().lstrip(".")
    if fmt == "mp3":
        sf.write(path, audio, sample_rate, format="MP3", subtype="MPEG_LAYER_III")
    elif fmt == "flac":
        sf.write(path, audio, sample_rate, format="FLAC", subtype="PCM_16")
    elif fmt == "ogg":
        sf.write(path, audio, sample_rate, format="OGG", subtype="VORBIS")
    elif fmt == "wav":
        sf.write(path, audio, sample_rate, format="WAV", subtype="PCM_16")
    elif fmt == "m4a":
        write_m4a(path, audio, sample_rate)
    else:
        raise ValueError(f"unsupported test format {fmt!r}")


def tag_audio(path: Path, song: Song) -> None:
    """Write ``song``'s tags and cover into ``path`` the way common taggers do for its format."""
    fmt = path.suffix.lower().lstrip(".")
    if fmt in ("mp3", "wav"):
        container = WAVE(path) if fmt == "wav" else None
        if container is not None:
            if container.tags is None:
                container.add_tags()
            tags = container.tags
        else:
            try:
                tags = ID3(path)
            except Exception:
                tags = ID3()
        assert tags is not None
        for frame_cls, value in ((TIT2, song.title), (TPE1, song.artist), (TALB, song.album),
                                 (TPE2, song.albumartist), (TDRC, song.date), (TCON, song.genre), (TRCK, song.track)):
            if value:
                tags.add(frame_cls(encoding=3, text=[value]))
        if song.cover:
            tags.add(APIC(encoding=3, mime="image/png", type=3, desc="Cover", data=song.cover))
        if container is not None:
            container.save()
        else:
            tags.save(path)
        return
    mapping = {"title": song.title, "artist": song.artist, "album": song.album, "albumartist": song.albumartist,
               "date": song.date, "genre": song.genre, "tracknumber": song.track}
    if fmt in ("flac", "ogg"):
        vorbis = FLAC(path) if fmt == "flac" else OggVorbis(path)
        for key, value in mapping.items():
            if value:
                vorbis[key] = [value]
        if song.cover:
            picture = Picture()
            picture.type = 3
            picture.mime = "image/png"
            picture.data = song.cover
            if isinstance(vorbis, FLAC):
                vorbis.add_picture(picture)
            else:  # Ogg carries the FLAC picture block base64-encoded in a comment
                vorbis["metadata_block_picture"] = [base64.b64encode(picture.write()).decode("ascii")]
        vorbis.save()
    elif fmt == "m4a":
        mp4 = MP4(path)
        if mp4.tags is None:
            mp4.add_tags()
        atoms = {"\xa9nam": song.title, "\xa9ART": song.artist, "\xa9alb": song.album, "aART": song.albumartist,
                 "\xa9day": song.date, "\xa9gen": song.genre}
        for atom, value in atoms.items():
            if value:
                mp4[atom] = [value]
        if song.track:
            mp4["trkn"] = [(int(song.track), 0)]
        if song.cover:
            mp4["covr"] = [MP4Cover(song.cover, imageformat=MP4Cover.FORMAT_PNG)]
        mp4.save()


def make_audio(
    directory: Path,
    fmt: str = "flac",
    *,
    name: str | None = None,
    seconds: float = 3.0,
    sample_rate: int = 44100,
    song: Song | None = None,
    tagged: bool = True,
    seed: int = 7,
) -> Path:
    """Create ``directory/<name>.<fmt>`` with real audio and (unless ``tagged`` is false) tags and cover art."""
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{name or 'song'}.{fmt}"
    write_audio(path, signal(seconds, sample_rate, seed=seed), sample_rate)
    if tagged:
        tag_audio(path, song or Song())
    return path
