"""The DAW session of one song, shared by the ``.dawproject`` and ``.rpp`` writers: tracks, names, colours, tempo.

``build_session(title, stems, mix=…)`` takes the stems (``StemFile``: path, stem name, channels, rate, duration;
from one job or several jobs of the same song) and the original mix, and returns a ``DawSession``: one track per stem
in the given order, named after the stem (``Vocals``; ``Vocals (Model B)`` when two jobs gave the same stem),
coloured by stem type, then the original mix as a muted reference track. Every clip starts at 0 on a seconds time
line. ``stem_file(path, stem)`` reads the facts of a file on disk for callers that only have paths.
"""

from __future__ import annotations

import os
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from mvsep_mcp.daw.errors import SessionError
from mvsep_mcp.daw.stream_facts import UnreadableAudio, read_stream_facts

MIN_TEMPO_BPM = 20.0  # the range DAWproject's own example declares and every DAW accepts
MAX_TEMPO_BPM = 666.0
MIX_TRACK_NAME = "Original mix"

# Stem type -> (words that name it, colour). First match wins; the colours follow the usual studio habit
# (vocals warm, drums yellow, bass blue, guitars green, keys purple) and stay readable on dark and light themes.
_STEM_TYPES: tuple[tuple[str, tuple[str, ...], str], ...] = (
    ("back_vocals", ("back", "backing", "choir", "harmony"), "#F08A8A"),
    ("vocals", ("vocal", "vocals", "voice", "vox", "lead", "sing", "acapella", "speech", "dialog", "dialogue"),
     "#E5484D"),
    ("drums", ("drum", "drums", "kick", "snare", "hihat", "hh", "cymbal", "cymbals", "toms", "tom", "percussion",
               "overheads", "ride", "crash"), "#F5A524"),
    ("bass", ("bass",), "#3E63DD"),
    ("guitar", ("guitar", "guitars", "mandolin", "banjo", "plucked"), "#30A46C"),
    ("piano", ("piano", "keys", "keyboard", "organ", "rhodes"), "#8E4EC6"),
    ("synth", ("synth", "synthesizer", "pad"), "#D6409F"),
    ("strings", ("strings", "violin", "viola", "cello", "orchestra", "bowed"), "#12A594"),
    ("winds", ("wind", "winds", "brass", "trumpet", "trombone", "sax", "saxophone", "flute", "clarinet", "horn"),
     "#CA8A04"),
    ("effects", ("reverb", "echo", "noise", "crowd", "ambience", "effects", "sfx", "fx"), "#0090FF"),
    ("other", ("other", "others", "instrum", "instrumental", "accompaniment", "music", "rest", "remainder",
               "residual", "karaoke", "no_vocals", "novocals", "minus"), "#8B8D98"),
)
MIX_COLOUR = "#5B5B66"
_FALLBACK_COLOURS = ("#00A2C7", "#AB4ABA", "#E54666", "#46A758", "#F76B15", "#6E56CF", "#29A383", "#978365")


def _words(name: str) -> list[str]:
    cleaned = "".join(ch if ch.isalnum() else " " for ch in name.casefold())
    words = cleaned.split()
    return words + ["_".join(words)]


def stem_type(name: str) -> str | None:
    """The stem type a stem name belongs to (``"Lead Vocals"`` → ``vocals``), or None when unknown."""
    words = _words(name)
    for kind, names, _colour in _STEM_TYPES:
        if any(word in names for word in words):
            return kind
    return None


def stem_colour(name: str) -> str:
    """``#RRGGBB`` for a stem name: its type's colour, or a stable colour chosen from the name."""
    kind = stem_type(name)
    for known, _names, colour in _STEM_TYPES:
        if known == kind:
            return colour
    return _FALLBACK_COLOURS[zlib.crc32(name.casefold().encode("utf-8")) % len(_FALLBACK_COLOURS)]


@dataclass(frozen=True)
class StemFile:
    """One audio file to put in a session, with the facts a DAW needs. ``model``/``job`` say where it came from."""

    path: Path
    stem: str
    channels: int
    sample_rate: int
    duration_s: float
    model: str | None = None
    job: str | None = None


def stem_file(path: Path, stem: str, *, model: str | None = None, job: str | None = None) -> StemFile:
    """A ``StemFile`` with the facts read from the file (``SessionError`` when it is not readable audio)."""
    try:
        facts = read_stream_facts(Path(path))
    except (UnreadableAudio, OSError) as exc:
        raise SessionError(f"{Path(path).name} cannot be put in a session: {exc}. Check the file exists and "
                           "plays.") from exc
    if facts.duration_s is None:
        raise SessionError(f"{Path(path).name} states no length; it cannot be placed on a time line.")
    return StemFile(Path(path), stem, facts.channels, facts.sample_rate, facts.duration_s, model, job)


@dataclass(frozen=True)
class SessionTrack:
    """One track holding one clip at 0 s: the file, its facts, the track's name and colour, muted or not."""

    name: str
    path: Path
    channels: int
    sample_rate: int
    duration_s: float
    colour: str
    stem: str | None  # None for the reference mix
    muted: bool = False
    model: str | None = None
    job: str | None = None

    @property
    def format(self) -> str:
        return self.path.suffix.lower().lstrip(".")

    @property
    def comment(self) -> str:
        """One line on where the track came from, for the DAW's track comment."""
        if self.stem is None:
            return "the song as it was given, muted for reference"
        origin = ", ".join(p for p in (self.model, f"job {self.job}" if self.job else None) if p)
        return f"{self.stem} stem separated by MVSep" + (f" ({origin})" if origin else "")


@dataclass(frozen=True)
class DawSession:
    """One song's session: title, tracks (stems, then the muted mix), tempo and the song's tags."""

    title: str
    tracks: tuple[SessionTrack, ...]
    tempo_bpm: float | None = None
    time_signature: tuple[int, int] = (4, 4)
    artist: str | None = None
    album: str | None = None
    year: str | None = None
    genre: str | None = None

    @property
    def sample_rate(self) -> int:
        """The project rate: the mix's when there is one, else the first stem's."""
        mix = next((t for t in self.tracks if t.stem is None), None)
        return (mix or self.tracks[0]).sample_rate

    @property
    def duration_s(self) -> float:
        return max(track.duration_s for track in self.tracks)


def _unique_names(stems: Sequence[StemFile]) -> list[str]:
    names = [s.stem.strip() or "Stem" for s in stems]
    counts = {name.casefold(): 0 for name in names}
    for name in names:
        counts[name.casefold()] += 1
    named = [f"{name} ({s.model})" if counts[name.casefold()] > 1 and s.model else name
             for name, s in zip(names, stems, strict=True)]
    seen: dict[str, int] = {}
    unique = []
    for name in named:
        seen[name.casefold()] = seen.get(name.casefold(), 0) + 1
        unique.append(name if seen[name.casefold()] == 1 else f"{name} {seen[name.casefold()]}")
    return unique


def build_session(title: str, stems: Sequence[StemFile], mix: StemFile | None = None, *,
                  tempo_bpm: float | None = None, time_signature: tuple[int, int] = (4, 4),
                  artist: str | None = None, album: str | None = None, year: str | None = None,
                  genre: str | None = None) -> DawSession:
    """A session with one track per stem (in order) and the mix as a muted reference; see the module docstring."""
    if not stems:
        raise SessionError("A session needs at least one stem; separate the song first or pick stems from its jobs.")
    if tempo_bpm is not None and not MIN_TEMPO_BPM <= tempo_bpm <= MAX_TEMPO_BPM:
        raise SessionError(f"A tempo of {tempo_bpm:g} BPM is outside {MIN_TEMPO_BPM:g}-{MAX_TEMPO_BPM:g}; give the "
                           "song's tempo in beats per minute or leave it out.")
    numerator, denominator = time_signature
    if numerator < 1 or denominator not in (1, 2, 4, 8, 16, 32):
        raise SessionError(f"{numerator}/{denominator} is not a time signature; use e.g. 4/4 or 6/8.")
    for item in [*stems, *([mix] if mix else [])]:
        if item.channels < 1 or item.sample_rate < 1 or item.duration_s <= 0:
            raise SessionError(f"{item.path.name} has no channels, rate or length; it cannot be put on a track.")
    tracks = [SessionTrack(name=name, path=Path(s.path).absolute(), channels=s.channels, sample_rate=s.sample_rate,
                           duration_s=s.duration_s, colour=stem_colour(s.stem), stem=s.stem, model=s.model, job=s.job)
              for name, s in zip(_unique_names(stems), stems, strict=True)]
    if mix is not None:
        tracks.append(SessionTrack(name=MIX_TRACK_NAME, path=Path(mix.path).absolute(), channels=mix.channels,
                                   sample_rate=mix.sample_rate, duration_s=mix.duration_s, colour=MIX_COLOUR,
                                   stem=None, muted=True))
    return DawSession(title=title.strip() or "Untitled", tracks=tuple(tracks), tempo_bpm=tempo_bpm,
                   time_signature=time_signature, artist=artist, album=album, year=year, genre=genre)


def session_comment(session: DawSession) -> str:
    """"Stems of <title> separated by MVSep: <track comment>; …" for project notes and metadata."""
    lines = [t.comment for t in session.tracks if t.stem is not None]
    return f"Stems of {session.title} separated by MVSep: " + "; ".join(lines)


def relative_media_path(media: Path, project: Path) -> str:
    """``media`` relative to the folder of ``project`` with ``/`` separators; absolute when no relative path exists."""
    try:
        relative = os.path.relpath(Path(media).absolute(), Path(project).absolute().parent)
    except ValueError:  # another drive on Windows
        return Path(media).absolute().as_posix()
    return PurePosixPath(*Path(relative).parts).as_posix()
