"""Waveform peaks of a stem for the stem player: a fixed number of bytes, whatever the stem's length.

``waveform_peaks(path, count)`` splits the file into ``count`` equal slices of time and gives, per slice, the
loudest sample of any channel as one byte (0 = silence, 255 = full scale, linear). The file is read in blocks
(``decode``: libsndfile for WAV, FLAC, MP3, OGG; PyAV, when installed, for M4A), so memory stays small for long
stems. ``cached_peaks`` remembers the answer by
path, size and modification time, since a chat asks for the same stems again and again.

Own code (numpy over decoded blocks): no maintained library in the base install computes display peaks.
"""

from __future__ import annotations

import base64
from collections import OrderedDict
from pathlib import Path
from threading import Lock

from mvsep_mcp.daw.decode import Undecodable, decoded
from mvsep_mcp.daw.errors import DawError
from mvsep_mcp.policy import PLAYER_PEAKS, PLAYER_PEAKS_CACHE


class NoWaveform(DawError, ValueError):
    """The stem cannot be decoded here (``decode``: M4A needs PyAV), so it has no waveform."""


def waveform_peaks(path: Path, count: int = PLAYER_PEAKS) -> bytes:
    """``count`` bytes: the loudest sample of each of ``count`` equal slices of ``path`` (see the module docstring)."""
    import numpy as np  # numpy and the decoders load with the first waveform, not with the server (cold start)

    if count < 1:
        raise ValueError("count must be at least 1")
    peaks = np.zeros(count, dtype=np.float32)
    try:
        with decoded(Path(path)) as audio:
            total = audio.frames
            if total is None:
                raise NoWaveform(f"{Path(path).name} states no length, so its waveform cannot be laid out.")
            if total <= 0:
                return bytes(count)
            start = 0
            for block in audio.blocks:
                frames = len(block)
                loudest = np.abs(block).max(axis=1)
                slices = np.minimum((np.arange(start, start + frames, dtype=np.int64) * count) // total, count - 1)
                firsts = np.flatnonzero(np.r_[True, slices[1:] != slices[:-1]])
                values = np.maximum.reduceat(loudest, firsts)
                targets = slices[firsts]
                peaks[targets] = np.maximum(peaks[targets], values)
                start += frames
    except Undecodable as exc:
        raise NoWaveform(f"{exc}; so it has no waveform.") from exc
    return bytes(np.round(np.clip(peaks, 0.0, 1.0) * 255).astype(np.uint8).tobytes())


def peaks_text(peaks: bytes) -> str:
    """Peaks as the player receives them: base64 of the bytes (a third larger, no JSON array of numbers)."""
    return base64.b64encode(peaks).decode("ascii")


_cache: OrderedDict[tuple[str, int, int, int], bytes] = OrderedDict()
_cache_lock = Lock()


def cached_peaks(path: Path, count: int = PLAYER_PEAKS) -> bytes:
    """``waveform_peaks`` remembered by path, size and mtime (the ``PLAYER_PEAKS_CACHE`` most recent stems)."""
    stat = Path(path).stat()
    key = (str(Path(path).absolute()), stat.st_size, stat.st_mtime_ns, count)
    with _cache_lock:
        if key in _cache:
            _cache.move_to_end(key)
            return _cache[key]
    peaks = waveform_peaks(path, count)
    with _cache_lock:
        _cache[key] = peaks
        while len(_cache) > PLAYER_PEAKS_CACHE:
            _cache.popitem(last=False)
    return peaks
