"""DAW sessions from jobs in the journal: the stems of one song, picked from one job or several, as session files.

```python
records = [runner.get(account_key, job_id) for job_id in ...]      # the caller resolves ids for one account
written = sessions_from_jobs(records, [StemPick("j1", "vocals"), StemPick("j2", "drums")])
written.paths        # [.../Song.dawproject, .../Song.rpp], written beside the first stem, never overwriting
session_after_job(record)                                           # every stem of one completed job
```

- **Picks.** ``StemPick(job_id)`` takes every stem of a job in its order; ``StemPick(job_id, "vocals")`` one stem
  (case-insensitive). Picking the same stem twice keeps it once.
- **One song.** Jobs belong to one song when their inputs are the same file (same SHA-256; same path or URL when
  no hash is known), or when one job's input is another's stem (drums separated from another job's instrumental).
  The first job of that chain gives the title, the tags and the original mix; a different song is refused.
- **Refusals** (``SessionError``, a sentence naming the fix): a job not completed, a mastering or text job, a stem
  the job does not have, a stem file that is gone. An original mix that is gone is not a refusal: the session is
  written without the reference track and ``notes`` says why.
- **Tags.** Title, artist, album, year and genre from the input's tags as planned (file name when untagged); the
  tempo from the mix's own tags (``TBPM``/``BPM``/``tmpo``) where it states one.

This module sits in the jobs layer (it reads ``JobRecord``s); the rest of ``mvsep_mcp.daw`` knows nothing of jobs.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Literal
from urllib.parse import unquote, urlsplit

from mvsep_mcp.daw.daw_session import DawSession, StemFile, build_session, stem_file
from mvsep_mcp.daw.dawproject import write_dawproject
from mvsep_mcp.daw.errors import SessionError
from mvsep_mcp.daw.reaper import write_rpp
from mvsep_mcp.daw.tempo import read_tempo_bpm
from mvsep_mcp.jobs.models import JobRecord, JobState, OutputFile
from mvsep_mcp.jobs.recovery import again_text
from mvsep_mcp.media.naming import sanitize_component

SessionFormat = Literal["dawproject", "rpp"]
SESSION_FORMATS: tuple[SessionFormat, ...] = ("dawproject", "rpp")
# what a session file is served as: DAWproject registers no media type of its own (the file is a zip of project.xml,
# metadata.xml and any embedded audio); a REAPER project is plain text
SESSION_MIME: dict[SessionFormat, str] = {"dawproject": "application/zip", "rpp": "text/plain"}
SEPARATION_KINDS = ("file", "url")
MIX_STEM = "Mix"


@dataclass(frozen=True)
class StemPick:
    """One job's stems for a session: all of them (``stem`` None) or the one named ``stem``."""

    job_id: str
    stem: str | None = None


@dataclass(frozen=True)
class PickedStem:
    """A stem chosen for the session: the job it comes from and its committed file."""

    record: JobRecord
    output: OutputFile


@dataclass(frozen=True)
class SongStems:
    """The stems of one song picked from its jobs, with the song's first job (its title, tags and mix)."""

    title: str
    root: JobRecord
    picked: tuple[PickedStem, ...]
    mix_path: Path | None
    notes: tuple[str, ...] = ()

    @property
    def folder(self) -> Path:
        """Where session files go: beside the first picked stem."""
        return Path(self.picked[0].output.path).parent


@dataclass(frozen=True)
class WrittenSession:
    """Session files written for one song: their paths (in the order of the formats asked), the session, notes."""

    paths: tuple[Path, ...]
    session: DawSession
    song: SongStems
    notes: tuple[str, ...] = field(default=())


# ------------------------------------------------------------------------------------------------- one song


def song_title(record: JobRecord) -> str:
    """The title a job's song goes by: its input's title tag, else the input's file name, else the job id."""
    spec = record.spec
    tagged = spec.input_tags.get("title")
    if isinstance(tagged, str) and tagged.strip():
        return tagged.strip()
    if spec.kind == "url" and spec.url:
        tail = PurePosixPath(unquote(urlsplit(spec.url).path)).stem
        if tail:
            return tail
    if spec.input_path:
        return Path(spec.input_path).stem
    return record.id


def _input_identity(record: JobRecord) -> str:
    spec = record.spec
    if spec.input_sha256:
        return "sha256:" + spec.input_sha256
    if spec.kind == "url" and spec.url:
        return "url:" + spec.url
    return "path:" + str(Path(spec.input_path or record.id).absolute())


def _output_identities(record: JobRecord) -> set[str]:
    found = set()
    for output in record.outputs:
        found.add("sha256:" + output.sha256)
        found.add("path:" + str(Path(output.path).absolute()))
    return found


def group_by_song(records: Sequence[JobRecord]) -> list[list[JobRecord]]:
    """The records grouped by song (see the module docstring), each group in the order given."""
    parent = list(range(len(records)))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    inputs = [_input_identity(r) for r in records]
    outputs = [_output_identities(r) for r in records]
    for i in range(len(records)):
        for j in range(i + 1, len(records)):
            if inputs[i] == inputs[j] or inputs[i] in outputs[j] or inputs[j] in outputs[i]:
                parent[find(i)] = find(j)
    groups: dict[int, list[JobRecord]] = {}
    for i, record in enumerate(records):
        groups.setdefault(find(i), []).append(record)
    return list(groups.values())


def song_root(group: Sequence[JobRecord]) -> JobRecord:
    """The job of the group whose input is no other job's stem: the one that started from the song itself."""
    produced = set().union(*(_output_identities(r) for r in group))
    return next((r for r in group if _input_identity(r) not in produced), group[0])


def _check_usable(record: JobRecord) -> None:
    if record.spec.kind not in SEPARATION_KINDS:
        raise SessionError(f"Job {record.id} is a {record.spec.kind} job, not a separation; sessions, DJ stems "
                           "and mixes are made of separation jobs' stems.")
    if record.state is not JobState.COMPLETED:
        hint = ("wait for it with wait_for_jobs" if not record.is_terminal
                else "pick a completed job (list_jobs shows them)")
        raise SessionError(f"Job {record.id} is {record.state.value}, not completed: {hint}.")
    if not record.outputs:
        raise SessionError(f"Job {record.id} saved no stems; pick a job that did.")


def _outputs_for(record: JobRecord, stem: str | None) -> list[OutputFile]:
    if stem is None:
        return list(record.outputs)
    wanted = stem.strip().casefold()
    found = [o for o in record.outputs if o.stem.casefold() == wanted]
    if not found:
        have = ", ".join(o.stem for o in record.outputs)
        raise SessionError(f"Job {record.id} has no {stem!r} stem; its stems are {have}.")
    return found[:1]


def _distinct(records: Sequence[JobRecord]) -> list[JobRecord]:
    seen: dict[str, JobRecord] = {}
    for record in records:
        seen.setdefault(record.id, record)
    return list(seen.values())


def song_stems(records: Sequence[JobRecord], picks: Sequence[StemPick]) -> SongStems:
    """The picked stems of one song, checked (see the module docstring); ``SessionError`` when they are not."""
    if not picks:
        raise SessionError("Pick at least one job (every stem) or one stem of a job for the session.")
    by_id = {r.id: r for r in records}
    missing = [p.job_id for p in picks if p.job_id not in by_id]
    if missing:
        raise SessionError(f"No record was given for job {missing[0]}; list the jobs to see their ids.")
    jobs = _distinct([by_id[p.job_id] for p in picks])
    for record in jobs:
        _check_usable(record)
    songs = group_by_song(jobs)
    if len(songs) > 1:
        named = "; ".join(f"{', '.join(r.id for r in song)} ({song_title(song_root(song))})" for song in songs)
        raise SessionError(f"These jobs are separations of different songs: {named}. A session holds one song: pick "
                           "stems of that song's jobs only.")
    picked: list[PickedStem] = []
    seen: set[tuple[str, str]] = set()
    for pick in picks:
        record = by_id[pick.job_id]
        for output in _outputs_for(record, pick.stem):
            if (record.id, output.path) not in seen:
                seen.add((record.id, output.path))
                picked.append(PickedStem(record, output))
    gone = [p for p in picked if not Path(p.output.path).is_file()]
    if gone:
        names = ", ".join(Path(p.output.path).name for p in gone[:3]) + (
            f" and {len(gone) - 3} more" if len(gone) > 3 else "")
        it = "it" if len(gone) == 1 else "them"
        first = gone[0]
        raise SessionError(f"{names} {'is' if len(gone) == 1 else 'are'} no longer where job {first.record.id} saved "
                           f"{it} ({Path(first.output.path).parent}); put {it} back, or {again_text(first.record)}.")
    root = song_root(songs[0])
    notes: list[str] = []
    mix_path: Path | None = None
    if root.spec.kind == "url":
        notes.append("The song came from a URL, so there is no original mix on disk to add as a reference track.")
    elif root.spec.input_path and Path(root.spec.input_path).is_file():
        mix_path = Path(root.spec.input_path)
    else:
        notes.append(f"The original mix ({root.spec.input_path}) is gone, so the session has no reference track.")
    return SongStems(title=song_title(root), root=root, picked=tuple(picked), mix_path=mix_path, notes=tuple(notes))


# ------------------------------------------------------------------------------------------------ the files


def build_song_session(song: SongStems) -> DawSession:
    """The ``DawSession`` of the song: a track per picked stem (named after it, the model when two share a name), the
    mix muted, the song's tags and tempo."""
    stems: list[StemFile] = [stem_file(Path(p.output.path), p.output.stem, model=p.record.spec.model_name or None,
                                       job=p.record.id) for p in song.picked]
    mix = stem_file(song.mix_path, MIX_STEM) if song.mix_path else None
    tags = song.root.spec.input_tags

    def tag(name: str) -> str | None:
        value = tags.get(name)
        return value.strip() if isinstance(value, str) and value.strip() else None

    tempo = read_tempo_bpm(song.mix_path) if song.mix_path else None
    year = tag("date")
    return build_session(song.title, stems, mix, tempo_bpm=tempo, artist=tag("artist"), album=tag("album"),
                         year=year[:4] if year else None, genre=tag("genre"))


def write_song_sessions(song: SongStems, formats: Sequence[SessionFormat] = SESSION_FORMATS, *,
                        embed: bool = False) -> WrittenSession:
    """Write the song's session in each of ``formats`` beside its first stem (never overwriting)."""
    wanted = list(dict.fromkeys(formats))
    unknown = [f for f in wanted if f not in SESSION_FORMATS]
    if unknown or not wanted:
        raise SessionError(f"Session formats are {' and '.join(SESSION_FORMATS)}; {unknown or 'none'} was asked for.")
    session = build_song_session(song)
    base = song.folder / sanitize_component(song.title)
    paths: list[Path] = []
    for fmt in wanted:
        if fmt == "dawproject":
            paths.append(write_dawproject(session, base, embed=embed))
        else:
            paths.append(write_rpp(session, base))
    return WrittenSession(paths=tuple(paths), session=session, song=song, notes=song.notes)


def sessions_from_jobs(records: Sequence[JobRecord], picks: Sequence[StemPick],
                       formats: Sequence[SessionFormat] = SESSION_FORMATS, *, embed: bool = False) -> WrittenSession:
    """Session files for the picked stems of one song (``records``: the jobs the picks name, of one account)."""
    return write_song_sessions(song_stems(records, picks), formats, embed=embed)


def session_after_job(record: JobRecord, formats: Sequence[SessionFormat] = SESSION_FORMATS, *,
                      embed: bool = False, earlier: Sequence[JobRecord] = ()) -> WrittenSession:
    """Session files for every stem of one completed job, beside its stems: for a caller that asked for a session
    when it started the separation. ``earlier``: the steps before it in a chain (see :func:`chain_picks`)."""
    return sessions_from_jobs([*earlier, record], chain_picks(record, earlier), formats, embed=embed)


def chain_picks(record: JobRecord, earlier: Sequence[JobRecord] = ()) -> list[StemPick]:
    """Every stem of ``record`` and of the steps before it in its chain (``earlier``, in order), but for the stem
    each next step separated further (the instrumental a four-stem model split): a chain's stems as one song's."""
    chain = record.spec.chain
    picks = []
    for index, job in enumerate(earlier):
        separated = chain.steps[index + 1].from_stem if chain is not None and index + 1 < len(chain.steps) else None
        picks += [StemPick(job.id, o.stem) for o in job.outputs if o.stem.casefold() != (separated or "").casefold()]
    return [*picks, StemPick(record.id)]
