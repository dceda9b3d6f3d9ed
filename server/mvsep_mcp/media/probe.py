"""What an audio file is: format, duration, sample rate, channels, bitrate, size — read with mutagen.

``probe`` reads the container header only (fast, no decoding). Containers mutagen cannot read (WebM/Matroska,
which MVSep accepts as input) fall back to PyAV when it is installed; anything else raises ``UnsupportedAudio``.
``find_similar_names`` helps "file not found" messages suggest what the user may have meant.
"""

from __future__ import annotations

import difflib
import logging
from pathlib import Path
from typing import Any

import mutagen
from mutagen.mp3 import MP3
from pydantic import BaseModel, ConfigDict

from mvsep_mcp.media.errors import UnsupportedAudio

log = logging.getLogger(__name__)

SUPPORTED_FORMATS = ("mp3", "flac", "wav", "m4a", "ogg", "opus", "aac", "aiff", "wma", "webm")
# file suffixes taken as audio: folder expansion picks these, naming strips them from input names
AUDIO_SUFFIXES = frozenset({".mp3", ".wav", ".flac", ".m4a", ".ogg", ".oga", ".opus", ".aac", ".webm", ".aif", ".aiff",
                            ".wma", ".mp4", ".m4b", ".alac", ".ape", ".wv"})

# mutagen FileType class name -> the format name the product uses
_FORMAT_BY_CLASS = {
    "MP3": "mp3",
    "EasyMP3": "mp3",
    "FLAC": "flac",
    "MP4": "m4a",
    "EasyMP4": "m4a",
    "OggVorbis": "ogg",
    "OggFLAC": "ogg",
    "OggSpeex": "ogg",
    "OggTheora": "ogg",
    "OggOpus": "opus",
    "WAVE": "wav",
    "AAC": "aac",
    "AIFF": "aiff",
    "ASF": "wma",
    "WavPack": "wv",
    "MonkeysAudio": "ape",
    "TrueAudio": "tta",
    "EasyTrueAudio": "tta",
    "OptimFROG": "ofr",
    "Musepack": "mpc",
    "DSF": "dsf",
    "DSDIFF": "dff",
    "AC3": "ac3",
    "SMF": "mid",
}


class AudioInfo(BaseModel):
    """The facts about one audio file that cost estimates and manifests need."""

    model_config = ConfigDict(frozen=True)

    duration_s: float | None
    format: str
    sample_rate: int | None = None
    channels: int | None = None
    bitrate: int | None = None  # bits per second
    size_bytes: int


def format_of(audio: Any) -> str:
    """The product's format name (``"mp3"``, ``"m4a"``…) for a loaded mutagen ``FileType``."""
    return _FORMAT_BY_CLASS.get(type(audio).__name__, type(audio).__name__.lower())


def load_mutagen(path: Path) -> Any | None:
    """``mutagen.File`` by content, then an MP3 frame-sync fallback (untagged MP3, odd suffix); None if unreadable."""
    try:
        audio = mutagen.File(path)
    except (mutagen.MutagenError, OSError, ValueError, EOFError) as exc:
        log.debug("mutagen could not read %s: %s", path, exc)
        audio = None
    if audio is not None and getattr(audio, "info", None) is not None:
        return audio
    try:
        return MP3(path)  # type: ignore[no-untyped-call]
    except (mutagen.MutagenError, OSError, ValueError, EOFError):
        return None


def _positive_int(value: Any) -> int | None:
    try:
        number = int(value)
    except (TypeError, ValueError):
        return None
    return number if number > 0 else None


def _unsupported(path: Path) -> UnsupportedAudio:
    return UnsupportedAudio(
        f"{path.name} is not an audio file this server can read; use one of "
        f"{', '.join(SUPPORTED_FORMATS)} (convert it first if it is in another format)."
    )


def _probe_with_av(path: Path, size: int) -> AudioInfo | None:
    """Duration through PyAV for containers mutagen does not know (WebM, Matroska); None when unavailable."""
    try:
        import av  # heavy import, only on this rare path
    except ImportError:
        return None
    try:
        with av.open(str(path)) as container:
            streams = [s for s in container.streams if s.type == "audio"]
            if not streams:
                return None
            stream = streams[0]
            duration: float | None = None
            if container.duration is not None:
                duration = container.duration / 1_000_000
            elif stream.duration is not None and stream.time_base is not None:
                duration = float(stream.duration * stream.time_base)
            names = (container.format.name or "").split(",")
            fmt = "webm" if path.suffix.lower() == ".webm" or "webm" in names else names[0] or "unknown"
            codec = stream.codec_context
            return AudioInfo(
                duration_s=duration,
                format=fmt,
                sample_rate=_positive_int(getattr(codec, "sample_rate", None)),
                channels=_positive_int(getattr(codec, "channels", None)),
                bitrate=_positive_int(container.bit_rate),
                size_bytes=size,
            )
    except Exception as exc:  # PyAV raises many types (av.error.*); none of them is ours to propagate
        log.debug("PyAV could not read %s: %s", path, exc)
        return None


def probe(path: Path) -> AudioInfo:
    """Read format, duration and stream facts of ``path``.

    Raises ``FileNotFoundError`` for a missing file and ``UnsupportedAudio`` for a file that is not readable audio.
    """
    path = Path(path)
    size = path.stat().st_size  # FileNotFoundError propagates: the caller words it with find_similar_names
    if not path.is_file():
        raise _unsupported(path)
    audio = load_mutagen(path)
    if audio is None:
        info = _probe_with_av(path, size)
        if info is None:
            raise _unsupported(path)
        return info
    stream = audio.info
    length = getattr(stream, "length", None)
    duration = float(length) if isinstance(length, (int, float)) and length > 0 else None
    return AudioInfo(
        duration_s=duration,
        format=format_of(audio),
        sample_rate=_positive_int(getattr(stream, "sample_rate", None)),
        channels=_positive_int(getattr(stream, "channels", None)),
        bitrate=_positive_int(getattr(stream, "bitrate", None)),
        size_bytes=size,
    )


def find_similar_names(missing: Path, limit: int = 3) -> list[str]:
    """Names in ``missing``'s folder that look like its name, best first ("did you mean …?"); [] without a folder."""
    missing = Path(missing).expanduser()
    parent = missing.parent
    try:
        entries = [entry.name for entry in parent.iterdir()]
    except OSError:
        return []
    wanted = missing.name
    if not wanted.startswith("."):
        entries = [name for name in entries if not name.startswith(".")]
    by_folded: dict[str, str] = {}
    for name in sorted(entries):
        by_folded.setdefault(name.casefold(), name)
    matches = difflib.get_close_matches(wanted.casefold(), list(by_folded), n=limit, cutoff=0.6)
    # a same-stem file with another suffix (song.mp3 for song.flac) is a near name even when difflib disagrees
    stem = missing.stem.casefold()
    for folded in by_folded:
        if len(matches) >= limit:
            break
        if Path(folded).stem == stem and folded not in matches:
            matches.append(folded)
    return [by_folded[folded] for folded in matches[:limit]]
