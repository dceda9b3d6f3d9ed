"""The exact length, rate and channels of a WAV or FLAC file read from its header, as libsndfile would report them.

``read_stream_facts`` asked libsndfile (``soundfile.info``) for every PCM file, and importing soundfile imports numpy:
several megabytes of libraries and objects loaded into a server that only needed a header's numbers. WAV (``fmt ``
and ``data`` chunks, ``riff.read_layout``) and FLAC (STREAMINFO, already parsed by mutagen) state them exactly, so
``header_info`` answers from there and returns None for anything it does not know to match libsndfile (RF64,
compressed WAV, a FLAC that does not state its length): the caller then asks libsndfile as before.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mvsep_mcp.daw.errors import NotAWave
from mvsep_mcp.daw.riff import FORMAT_IEEE_FLOAT, FORMAT_PCM, read_layout

# libsndfile's subtype names, by (format tag, bits per sample) for WAV and by bits per sample for FLAC
_WAV_SUBTYPES = {(FORMAT_PCM, 8): "PCM_U8", (FORMAT_PCM, 16): "PCM_16", (FORMAT_PCM, 24): "PCM_24",
                 (FORMAT_PCM, 32): "PCM_32", (FORMAT_IEEE_FLOAT, 32): "FLOAT", (FORMAT_IEEE_FLOAT, 64): "DOUBLE"}
_FLAC_SUBTYPES = {8: "PCM_S8", 16: "PCM_16", 24: "PCM_24"}


@dataclass(frozen=True)
class HeaderInfo:
    """The fields of ``soundfile.info`` that ``read_stream_facts`` uses."""

    format: str  # libsndfile's major format name: "WAV" or "FLAC"
    subtype: str
    samplerate: int
    channels: int
    frames: int


def _wav(path: Path) -> HeaderInfo | None:
    try:
        layout = read_layout(path)
    except (NotAWave, OSError):
        return None
    fmt = layout.format
    subtype = _WAV_SUBTYPES.get((fmt.format_tag, fmt.bits_per_sample))
    if subtype is None or fmt.channels < 1 or fmt.block_align != fmt.channels * fmt.bits_per_sample // 8:
        return None
    return HeaderInfo("WAV", subtype, fmt.sample_rate, fmt.channels, layout.frames)


def _flac(audio: Any) -> HeaderInfo | None:
    info = getattr(audio, "info", None)
    total = getattr(info, "total_samples", 0)
    subtype = _FLAC_SUBTYPES.get(getattr(info, "bits_per_sample", 0))
    if info is None or subtype is None or not total:  # a length of 0 in STREAMINFO means "not known"
        return None
    return HeaderInfo("FLAC", subtype, int(info.sample_rate), int(info.channels), int(total))


def header_info(path: Path, audio: Any | None, kind: str | None) -> HeaderInfo | None:
    """The header's facts of a WAV (``kind`` ``"wav"``) or FLAC (mutagen's ``audio``), else None."""
    if kind == "wav":
        return _wav(path)
    if kind == "flac" and audio is not None:
        return _flac(audio)
    return None
