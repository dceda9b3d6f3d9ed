"""The timing of the audio track of an MP4/M4A file: its edit list (``moov/trak/edts/elst``) and time scales.

Written here (about 150 lines) because mutagen reads MP4 tags and stream facts but not the edit list, and the edit
list is where an AAC encoder says how many priming samples precede the song (``media_time``) and how long the song
really is (``segment_duration``, in the movie's time scale). Boxes are walked with seeks; only ``moov`` is read into
memory (it holds no audio).

Length is sample-exact only when the movie time scale can express every sample (it is a multiple of the sample
rate); FFmpeg's default movie time scale is 1000, which rounds the length to the millisecond.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

_CONTAINERS = {b"moov", b"trak", b"mdia", b"minf", b"stbl", b"edts"}
_MOOV_MAX_BYTES = 64 << 20  # a moov larger than this is not an audio file's (covers are a few MB at most)


@dataclass(frozen=True)
class EditEntry:
    """One edit: ``segment_duration`` in the movie time scale; ``media_time`` in the track's (-1: an empty edit)."""

    segment_duration: int
    media_time: int


@dataclass(frozen=True)
class Mp4AudioTiming:
    """What the container says about the first audio track's timing."""

    movie_timescale: int
    media_timescale: int
    media_duration: int  # in the media time scale: every encoded sample, priming and padding included
    edits: tuple[EditEntry, ...]


def _boxes(data: bytes, start: int, end: int) -> list[tuple[bytes, int, int]]:
    """(type, payload start, payload end) of the boxes in ``data[start:end]``."""
    found = []
    position = start
    while position + 8 <= end:
        size, kind = struct.unpack(">I4s", data[position:position + 8])
        header = 8
        if size == 1 and position + 16 <= end:
            size = struct.unpack(">Q", data[position + 8:position + 16])[0]
            header = 16
        elif size == 0:
            size = end - position
        if size < header or position + size > end:
            break
        found.append((kind, position + header, position + size))
        position += size
    return found


def _read_moov(path: Path) -> bytes | None:
    with Path(path).open("rb") as handle:
        handle.seek(0, 2)
        total = handle.tell()
        position = 0
        while position + 8 <= total:
            handle.seek(position)
            head = handle.read(16)
            size, kind = struct.unpack(">I4s", head[:8])
            header = 8
            if size == 1 and len(head) >= 16:
                size = struct.unpack(">Q", head[8:16])[0]
                header = 16
            elif size == 0:
                size = total - position
            if size < header:
                return None
            if kind == b"moov":
                if size > _MOOV_MAX_BYTES:
                    return None
                handle.seek(position + header)
                return handle.read(size - header)
            position += size
    return None


def _full_box(data: bytes, start: int) -> tuple[int, int]:
    """(version, offset of the fields after version and flags)."""
    return data[start], start + 4


def _mvhd_timescale(data: bytes, start: int) -> int:
    version, at = _full_box(data, start)
    at += 16 if version == 1 else 8  # creation and modification times
    return int(struct.unpack(">I", data[at:at + 4])[0])


def _mdhd(data: bytes, start: int) -> tuple[int, int]:
    version, at = _full_box(data, start)
    if version == 1:
        timescale, duration = struct.unpack(">IQ", data[at + 16:at + 28])
    else:
        timescale, duration = struct.unpack(">II", data[at + 8:at + 16])
    return int(timescale), int(duration)


def _elst(data: bytes, start: int) -> tuple[EditEntry, ...]:
    version, at = _full_box(data, start)
    count = struct.unpack(">I", data[at:at + 4])[0]
    at += 4
    entries = []
    for _ in range(count):
        if version == 1:
            duration, media_time = struct.unpack(">Qq", data[at:at + 16])
            at += 20
        else:
            duration, media_time = struct.unpack(">Ii", data[at:at + 8])
            at += 12
        entries.append(EditEntry(int(duration), int(media_time)))
    return tuple(entries)


def _find(data: bytes, start: int, end: int, kind: bytes) -> tuple[int, int] | None:
    return next(((s, e) for k, s, e in _boxes(data, start, end) if k == kind), None)


def read_audio_timing(path: Path) -> Mp4AudioTiming | None:
    """The first audio (``soun``) track's timing, or None when ``path`` is not an MP4 file with one."""
    try:
        moov = _read_moov(path)
    except (OSError, struct.error):
        return None
    if moov is None:
        return None
    try:
        mvhd = _find(moov, 0, len(moov), b"mvhd")
        if mvhd is None:
            return None
        movie_timescale = _mvhd_timescale(moov, mvhd[0])
        for kind, start, end in _boxes(moov, 0, len(moov)):
            if kind != b"trak":
                continue
            mdia = _find(moov, start, end, b"mdia")
            if mdia is None:
                continue
            hdlr = _find(moov, mdia[0], mdia[1], b"hdlr")
            mdhd = _find(moov, mdia[0], mdia[1], b"mdhd")
            if hdlr is None or mdhd is None or moov[hdlr[0] + 8:hdlr[0] + 12] != b"soun":
                continue
            media_timescale, media_duration = _mdhd(moov, mdhd[0])
            edts = _find(moov, start, end, b"edts")
            elst = _find(moov, edts[0], edts[1], b"elst") if edts else None
            edits = _elst(moov, elst[0]) if elst else ()
            if movie_timescale <= 0 or media_timescale <= 0:
                return None
            return Mp4AudioTiming(movie_timescale, media_timescale, media_duration, edits)
    except (struct.error, IndexError):
        return None
    return None


@dataclass(frozen=True)
class Mp4Gapless:
    """Priming, length and padding in samples at ``sample_rate``; ``exact`` when the container can state them."""

    priming: int
    frames: int
    padding: int
    exact: bool
    leading_silence: int = 0  # an empty edit before the audio (the track starts this many samples late)


def gapless_from_timing(timing: Mp4AudioTiming, sample_rate: int) -> Mp4Gapless | None:
    """Read the edit list as an encoder writes it (one empty edit at most, then one media edit); None otherwise."""
    edits = list(timing.edits)
    empty = Fraction(0)
    while edits and edits[0].media_time == -1:
        empty += Fraction(edits.pop(0).segment_duration, timing.movie_timescale)
    if len(edits) != 1 or edits[0].media_time < 0:
        return None
    edit = edits[0]
    per_media = Fraction(sample_rate, timing.media_timescale)
    priming = Fraction(edit.media_time) * per_media
    frames = Fraction(edit.segment_duration * sample_rate, timing.movie_timescale)
    total = Fraction(timing.media_duration) * per_media
    silence = empty * sample_rate
    exact = (timing.movie_timescale % sample_rate == 0 and priming.denominator == 1 and total.denominator == 1
             and silence.denominator == 1)
    whole = round(frames)
    return Mp4Gapless(priming=round(priming), frames=whole, padding=max(0, round(total - priming) - whole),
                      exact=exact, leading_silence=round(silence))
