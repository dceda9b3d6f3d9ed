"""The song's tempo from its tags, for session files: ID3 ``TBPM``, Vorbis/FLAC ``BPM``, MP4 ``tmpo`` (mutagen).

``read_tempo_bpm(path)`` is the tempo in beats per minute, or None when the file states none, states one outside
what a DAW accepts, or cannot be read. Never raises for a bad file: a session without a tempo is still a session.
"""

from __future__ import annotations

import logging
import re
from pathlib import Path
from typing import Any

import mutagen

from mvsep_mcp.daw.daw_session import MAX_TEMPO_BPM, MIN_TEMPO_BPM

log = logging.getLogger(__name__)

_NUMBER = re.compile(r"\s*(\d+(?:[.,]\d+)?)")


def _first(value: Any) -> Any:
    if isinstance(value, (list, tuple)):
        return value[0] if value else None
    text = getattr(value, "text", None)  # an ID3 frame
    if isinstance(text, list):
        return text[0] if text else None
    return value


def _stated(tags: Any) -> Any:
    if hasattr(tags, "getall"):  # ID3 (MP3, WAV, AIFF)
        return tags.get("TBPM")
    for key in ("tmpo", "bpm", "BPM", "tempo"):  # MP4, then Vorbis comments (case-insensitive there anyway)
        try:
            value = tags.get(key)
        except (KeyError, ValueError):
            continue
        if value:
            return value
    return None


def parse_tempo(value: Any) -> float | None:
    """A tag value ("128", "97,5", "128 BPM", 128) as beats per minute within the DAWs' range, else None."""
    value = _first(value)
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, (int, float)):
        bpm = float(value)
    else:
        found = _NUMBER.match(str(value))
        if not found:
            return None
        bpm = float(found.group(1).replace(",", "."))
    return bpm if MIN_TEMPO_BPM <= bpm <= MAX_TEMPO_BPM else None


def read_tempo_bpm(path: Path) -> float | None:
    """The tempo ``path``'s tags state, or None (see the module docstring)."""
    try:
        audio = mutagen.File(str(path))
    except (mutagen.MutagenError, OSError, ValueError) as exc:
        log.debug("no tempo from %s: %s", Path(path).name, exc)
        return None
    tags = getattr(audio, "tags", None)
    if tags is None:
        return None
    return parse_tempo(_stated(tags))
