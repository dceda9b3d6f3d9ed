"""A REAPER project (``.rpp``, plain text) for one song's session.

``<REAPER_PROJECT`` with the tempo (120 when unknown: clips are placed in seconds, so they line up anyway) and
the project rate, then a ``<TRACK`` per session track: ``NAME``, ``PEAKCOL`` (the track colour), ``MUTESOLO``
(the reference mix is muted), ``NCHAN``, and one ``<ITEM`` at ``POSITION 0`` whose ``<SOURCE …>`` names the decoder
REAPER must use for the file (REAPER picks the decoder by this word, not by the file's content) and whose ``FILE``
is relative to the project file.

Colours are written as Windows ``COLORREF`` values (``0x01BBGGRR``), the form REAPER on Windows reads; on macOS and
Linux REAPER may show red and blue swapped.
"""

from __future__ import annotations

import time
import uuid
from pathlib import Path

from mvsep_mcp.daw.daw_session import DawSession, SessionTrack, relative_media_path
from mvsep_mcp.daw.errors import SessionError
from mvsep_mcp.media.files import commit_file, ensure_dir, temp_path_for

SUFFIX = ".rpp"
DEFAULT_TEMPO_BPM = 120.0  # REAPER's own default
REAPER_VERSION = "6.0/mvsep-mcp"  # the version a project claims; 6.0 opens in every REAPER since 2019
SOURCE_TYPES = {"wav": "WAVE", "wave": "WAVE", "aif": "WAVE", "aiff": "WAVE", "flac": "FLAC", "mp3": "MP3",
                "ogg": "VORBIS", "oga": "VORBIS", "opus": "OPUS", "wv": "WAVPACK", "m4a": "VIDEO", "mp4": "VIDEO",
                "aac": "VIDEO", "webm": "VIDEO", "wma": "VIDEO"}
_GUID_NAMESPACE = uuid.UUID("5b1f4f8e-6c1a-4a36-9f0e-2f6f3c6b0d11")


def rpp_quote(text: str) -> str:
    """A string argument as REAPER writes one: in "…", else '…', else `…` (a backtick inside becomes ')."""
    text = text.replace("\r", " ").replace("\n", " ")
    for quote in ('"', "'", "`"):
        if quote not in text:
            return f"{quote}{text}{quote}"
    return "`" + text.replace("`", "'") + "`"


def reaper_colour(hex_colour: str) -> int:
    """``#RRGGBB`` as a REAPER custom colour (COLORREF with the "custom colour" bit)."""
    value = hex_colour.lstrip("#")
    red, green, blue = int(value[0:2], 16), int(value[2:4], 16), int(value[4:6], 16)
    return 0x1000000 | (blue << 16) | (green << 8) | red


def source_type(track: SessionTrack) -> str:
    """The ``<SOURCE …>`` word for a track's file (``SessionError`` for a format REAPER has no decoder word for)."""
    kind = SOURCE_TYPES.get(track.format)
    if kind is None:
        raise SessionError(f"{track.path.name}: REAPER has no source type for .{track.format} files; use WAV, FLAC or "
                           f"MP3 stems.")
    return kind


def _guid(*parts: str) -> str:
    return "{" + str(uuid.uuid5(_GUID_NAMESPACE, "\x1f".join(parts))).upper() + "}"


def _number(value: float) -> str:
    return f"{value:.10f}".rstrip("0").rstrip(".") or "0"


def rpp_text(session: DawSession, project_path: Path, *, timestamp: int | None = None) -> str:
    """The ``.rpp`` text for ``session`` saved at ``project_path`` (paths are made relative to its folder)."""
    tempo = session.tempo_bpm if session.tempo_bpm is not None else DEFAULT_TEMPO_BPM
    numerator, denominator = session.time_signature
    lines = [f"<REAPER_PROJECT 0.1 {rpp_quote(REAPER_VERSION)} {int(time.time() if timestamp is None else timestamp)}",
             f"  TEMPO {_number(tempo)} {numerator} {denominator}",
             f"  SAMPLERATE {session.sample_rate} 0 0",
             f"  TITLE {rpp_quote(session.title)}"]
    notes = [f"Stems of {session.title} separated by MVSep:", *(t.comment for t in session.tracks)]
    lines += ["  <NOTES 0 2", *(f"    |{note}".replace("\n", " ") for note in notes), "  >"]
    for index, track in enumerate(session.tracks):
        kind = source_type(track)
        media = relative_media_path(track.path, project_path)
        lines += [f"  <TRACK {_guid(session.title, str(index), track.name)}",
                  f"    NAME {rpp_quote(track.name)}",
                  f"    PEAKCOL {reaper_colour(track.colour)}",
                  "    VOLPAN 1 0 -1 -1 1",
                  f"    MUTESOLO {1 if track.muted else 0} 0 0",
                  f"    NCHAN {max(2, track.channels + track.channels % 2)}",
                  "    <ITEM",
                  "      POSITION 0",
                  f"      LENGTH {_number(track.duration_s)}",
                  "      LOOP 0",
                  f"      NAME {rpp_quote(track.name)}",
                  f"      IGUID {_guid(session.title, str(index), track.name, 'item')}",
                  f"      <SOURCE {kind}",
                  f"        FILE {rpp_quote(media)}",
                  "      >",
                  "    >",
                  "  >"]
    lines.append(">")
    return "\n".join(lines) + "\n"


def write_rpp(session: DawSession, path: Path) -> Path:
    """Write ``session`` as a REAPER project at ``path`` (never overwriting: ``(2)`` is added); returns the path."""
    path = Path(path)
    if path.suffix.lower() != SUFFIX:
        path = path.with_name(path.name + SUFFIX)
    ensure_dir(path.parent)
    tmp = temp_path_for(path)
    try:
        tmp.write_text(rpp_text(session, path), encoding="utf-8", newline="\n")
        return commit_file(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
