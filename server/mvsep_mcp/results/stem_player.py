"""What the stem player shows for finished jobs: songs, their stems' names, colours, lengths and waveform peaks.

``player_view(records)`` groups the completed separation jobs by song (as ``from_jobs`` does: the same input, or
one job's input being another's stem), names and colours each stem as a session would (``Vocals (Model B)`` when
two jobs gave the same stem) and computes its peaks (``peaks.cached_peaks``). At most ``PLAYER_MAX_STEMS`` stems
are carried; ``left_out`` counts the rest. A stem whose file is gone or cannot be decoded is still listed, with a
``note`` instead of peaks. CPU-bound: run it in a worker thread.

``stem_preview(record, stem)`` is the MP3 preview of one stem of a completed job (``preview.mp3_preview``).
This module sits in the jobs layer (it reads ``JobRecord``s).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from mvsep_mcp.daw.daw_session import StemFile, build_session, stem_colour, stem_file
from mvsep_mcp.daw.errors import DawError
from mvsep_mcp.daw.peaks import cached_peaks
from mvsep_mcp.daw.preview import Preview, PreviewUnavailable, mp3_preview
from mvsep_mcp.jobs.models import JobRecord, JobState
from mvsep_mcp.policy import PLAYER_MAX_STEMS, PLAYER_PEAKS
from mvsep_mcp.results.sessions import SEPARATION_KINDS, group_by_song, song_root, song_title


@dataclass(frozen=True)
class PlayerStem:
    """One stem row: where it comes from (job, stem), how it is shown (name, colour), its length and peaks."""

    job_id: str
    stem: str
    name: str
    colour: str
    duration_s: float | None
    peaks: bytes | None
    note: str | None = None


@dataclass(frozen=True)
class PlayerSong:
    title: str
    stems: tuple[PlayerStem, ...]


@dataclass(frozen=True)
class PlayerView:
    songs: tuple[PlayerSong, ...]
    left_out: int = 0


def _playable(record: JobRecord) -> bool:
    return record.state is JobState.COMPLETED and record.spec.kind in SEPARATION_KINDS and bool(record.outputs)


def _song(title: str, group: Sequence[JobRecord], budget: int, peaks: int) -> tuple[PlayerSong, int]:
    """The song's rows (at most ``budget``) and how many stems were left out."""
    outputs = [(r, o) for r in group for o in r.outputs]
    shown, left = outputs[:budget], len(outputs) - min(len(outputs), budget)
    readable: list[tuple[int, StemFile]] = []
    notes: dict[int, str] = {}
    for index, (record, output) in enumerate(shown):
        if not Path(output.path).is_file():
            notes[index] = f"{Path(output.path).name} is gone from the job's folder"
            continue
        try:
            readable.append((index, stem_file(Path(output.path), output.stem, model=record.spec.model_name or None,
                                              job=record.id)))
        except DawError as exc:
            notes[index] = exc.user_text()
    tracks = build_session(title, [s for _, s in readable]).tracks if readable else ()
    by_index = {index: track for (index, _), track in zip(readable, tracks, strict=True)}
    rows = []
    for index, (record, output) in enumerate(shown):
        track = by_index.get(index)
        wave: bytes | None = None
        if track is not None:
            try:
                wave = cached_peaks(track.path, peaks)
            except DawError as exc:
                notes[index] = exc.user_text()
        rows.append(PlayerStem(job_id=record.id, stem=output.stem, name=track.name if track else output.stem,
                               colour=track.colour if track else stem_colour(output.stem),
                               duration_s=track.duration_s if track else output.duration_s, peaks=wave,
                               note=notes.get(index)))
    return PlayerSong(title=title, stems=tuple(rows)), left


def player_view(records: Sequence[JobRecord], *, max_stems: int = PLAYER_MAX_STEMS,
                peaks: int = PLAYER_PEAKS) -> PlayerView:
    """The player's songs for the completed separations among ``records`` (see the module docstring)."""
    playable = [r for r in dict((r.id, r) for r in records).values() if _playable(r)]
    songs: list[PlayerSong] = []
    left_out = 0
    budget = max_stems
    for group in group_by_song(playable):
        song, left = _song(song_title(song_root(group)), group, budget, peaks)
        budget -= len(song.stems)
        left_out += left
        if song.stems:
            songs.append(song)
    return PlayerView(songs=tuple(songs), left_out=left_out)


def stem_preview(record: JobRecord, stem: str) -> Preview:
    """The preview of ``record``'s stem named ``stem`` (case-insensitive); ``PreviewUnavailable`` when it has none."""
    if not _playable(record):
        raise PreviewUnavailable(f"Job {record.id} has no stems to preview yet ({record.state.value}).")
    wanted = stem.strip().casefold()
    output = next((o for o in record.outputs if o.stem.casefold() == wanted), None)
    if output is None:
        have = ", ".join(o.stem for o in record.outputs)
        raise PreviewUnavailable(f"Job {record.id} has no {stem!r} stem; its stems are {have}.")
    if not Path(output.path).is_file():
        raise PreviewUnavailable(f"{Path(output.path).name} is gone from {Path(output.path).parent}.")
    return mp3_preview(Path(output.path))
