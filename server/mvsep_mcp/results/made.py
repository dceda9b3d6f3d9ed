"""DJ stems and practice mixes made from a completed job in the journal, beside its stems, and recorded with it.

```python
made = make_dj_stems(record)                        # .../Song.stem.mp4 (daw.dj_stems, daw.ni_stems)
made = make_mix(record, without=["Bass"])            # .../Song (no Bass).flac, made.gain (daw.mix)
await record_made(runner.changes, made)              # the job's manifest (``made``) and journal row list it
```

- **The job.** A completed separation whose stems are where it saved them (``from_jobs.song_stems``: otherwise a
  sentence saying what to do); the song is its input when that is still on disk.
- **The file** goes beside the job's first stem, which must be inside the job's output folder; it is written to a
  temporary name there and committed without ever replacing a file (``Song (2).stem.mp4``). Tags: the song's, and
  its cover (from the input, else from a stem), with the title ``Song (no Bass)`` for a mix and the song's own for
  DJ stems. Length, rate and channels: the song's (``aligned_audio``).
- **Asked again**, the same file (same kind, stems and format) is returned while it is unchanged on disk (the size
  the manifest recorded), instead of writing a copy.
- **Recording.** The manifest gains an entry (``ManifestMade``: path, format, size, SHA-256, stems, a mix's gain,
  how a track was made), rewritten in place; the journal row's ``made`` lists the path (what ``resources/read``
  serves, ``results.stored``). A manifest that cannot be updated is logged, not raised: the file is there either way.

This module sits in the jobs layer (it reads ``JobRecord``s and writes through ``JobChanges``).
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import anyio

from mvsep_mcp.daw.aligned_audio import Layout
from mvsep_mcp.daw.dj_stems import dj_rows, dj_sources, source_bits
from mvsep_mcp.daw.mix import MixError, choose_stems, write_mix
from mvsep_mcp.daw.ni_stems import NI_STEMS_FORMAT, NI_STEMS_SUFFIX, write_ni_stems
from mvsep_mcp.daw.stream_facts import StreamFacts, UnreadableAudio, read_stream_facts
from mvsep_mcp.errors import UserError
from mvsep_mcp.jobs.changes import JobChanges
from mvsep_mcp.jobs.models import JobRecord
from mvsep_mcp.media.files import commit_file, sha256_file, temp_path_for
from mvsep_mcp.media.manifest import ManifestMade, read_manifest, relative_posix, update_made
from mvsep_mcp.media.naming import sanitize_component
from mvsep_mcp.media.tag_model import TrackTags
from mvsep_mcp.media.tag_read import read_tags
from mvsep_mcp.media.tag_write import write_stem_tags
from mvsep_mcp.mvsep.formats import FORMAT_BY_CODE, FORMAT_BY_NAME, OutputFormatName
from mvsep_mcp.policy import MAX_NAME_CHARS
from mvsep_mcp.results.recorded import MANIFEST_LOCK, inside, writable_manifest
from mvsep_mcp.results.sessions import SongStems, chain_picks, song_stems

log = logging.getLogger(__name__)

MadeKind = Literal["dj_stems", "mix"]


@dataclass(frozen=True)
class MadeFile:
    """A file made from ``record``'s stems: its kind, where it is, its format and the stems it holds."""

    record: JobRecord
    kind: MadeKind
    path: Path
    format: str
    stems: tuple[str, ...]
    gain: float | None = None  # a mix: 1.0, or how much it was lowered so as not to clip
    notes: tuple[str, ...] = field(default=())
    reused: bool = False  # made by an earlier request and unchanged since

    @property
    def gain_db(self) -> float | None:
        return None if self.gain is None else round(20 * math.log10(self.gain), 2)

    def manifest_entry(self, folder: Path) -> ManifestMade:
        """Its manifest entry (hashed now), paths relative to the manifest ``folder``."""
        return ManifestMade(kind=self.kind, path=relative_posix(self.path, folder), absolute_path=str(self.path),
                            format=self.format, size=self.path.stat().st_size, sha256=sha256_file(self.path),
                            stems=list(self.stems), gain=self.gain, gain_db=self.gain_db, notes=list(self.notes))


# ------------------------------------------------------------------------------------------------- the song


def _song(record: JobRecord, steps_before: Sequence[JobRecord]) -> SongStems:
    """The job's stems, with those of the steps before it in a chain (see ``from_jobs.chain_picks``)."""
    song = song_stems([*steps_before, record], chain_picks(record, steps_before))
    if not inside(song.folder, Path(record.spec.output_root)):
        raise MixError(f"Job {record.id}'s stems are no longer inside its output folder, where new files go: "
                       "fetch its results again (fetch_job_results) while MVSep keeps them.")
    return song


def _facts(path: Path) -> StreamFacts:
    try:
        return read_stream_facts(path)
    except (UnreadableAudio, OSError) as exc:
        raise MixError(f"{path.name} cannot be read as audio here ({exc}); fetch the job's results again.") from None


def _song_frames(song: SongStems, rate: int, fallback: int | None) -> int:
    """The song's length in frames at ``rate``: the input's, else its recorded duration's, else ``fallback``."""
    if song.mix_path is not None:
        mix = _facts(song.mix_path)
        if mix.frames:
            return round(mix.frames * rate / mix.sample_rate)
    if song.root.spec.input_duration_s:
        return round(song.root.spec.input_duration_s * rate)
    if fallback:
        return fallback
    raise MixError(f"The length of job {song.root.id}'s song cannot be read; fetch its results again.")


def _song_tags(song: SongStems) -> TrackTags:
    """The song's tags and cover, titled as the song: from the input, else from a stem (its comment left out)."""
    source = song.mix_path or Path(song.picked[0].output.path)
    try:
        tags = read_tags(source)
    except (UserError, OSError) as exc:
        log.warning("job %s: no tags from %s (%s)", song.root.id, source.name, exc)
        tags = TrackTags()
    comment = tags.comment if song.mix_path else song.root.spec.input_tags.get("comment")
    return tags.model_copy(update={"title": song.title, "comment": comment if isinstance(comment, str) else None})


def _stems(song: SongStems) -> dict[str, Path]:
    return {p.output.stem: Path(p.output.path) for p in song.picked}


def _earlier(record: JobRecord, kind: MadeKind, stems: Sequence[str], fmt: str) -> ManifestMade | None:
    """The same file made before and unchanged since, from the manifest."""
    if not record.manifest_path or not record.made:
        return None
    try:
        entries = read_manifest(Path(record.manifest_path)).made
    except (UserError, OSError):
        return None
    for entry in reversed(entries):
        path = Path(entry.absolute_path)
        if (entry.kind, set(entry.stems), entry.format) == (kind, set(stems), fmt) and str(path) in record.made:
            try:
                if path.stat().st_size == entry.size:
                    return entry
            except OSError:
                continue
    return None


def _write(final: Path, write: Callable[[Path], None], suffix: str | None = None) -> Path:
    """Run ``write(tmp)`` on a temporary name beside ``final`` and commit it (never replacing a file)."""
    tmp = temp_path_for(final)
    try:
        write(tmp)
        return commit_file(tmp, final, suffix)
    except OSError as exc:  # a full disk, a folder made read-only: a sentence, never the server's path
        raise MixError(f"{final.name} could not be written beside the stems ({exc.strerror or exc}): make room "
                       "there or check its permissions, then ask again.") from exc
    finally:
        tmp.unlink(missing_ok=True)


# ------------------------------------------------------------------------------------------------- the files


def make_dj_stems(record: JobRecord, steps_before: Sequence[JobRecord] = ()) -> MadeFile:
    """The job's DJ stem file (see the module docstring; ``steps_before``: the jobs before it in a chain); blocking:
    run it in a worker thread."""
    song = _song(record, steps_before)
    sources = dj_sources(_stems(song), song.mix_path)
    earlier = _earlier(record, "dj_stems", sources.used, NI_STEMS_FORMAT)
    if earlier is not None:
        return MadeFile(record, "dj_stems", Path(earlier.absolute_path), NI_STEMS_FORMAT, sources.used,
                        notes=tuple(earlier.notes), reused=True)
    base = song.mix_path or sources.drums
    facts = _facts(base)
    layout = Layout(facts.sample_rate, 2, _song_frames(song, facts.sample_rate, facts.frames))
    paths = [p for p in (sources.master, sources.drums, sources.bass, sources.other, sources.vocals) if p]
    tags = _song_tags(song)

    def write(tmp: Path) -> None:
        with dj_rows(sources, layout) as rows:
            write_ni_stems(tmp, rows, sample_rate=layout.sample_rate, bits=source_bits(paths), tags=tags,
                           model=record.spec.model_name)

    final = song.folder / (sanitize_component(song.title, MAX_NAME_CHARS - len(NI_STEMS_SUFFIX)) + NI_STEMS_SUFFIX)
    path = _write(final, write, NI_STEMS_SUFFIX)
    return MadeFile(record, "dj_stems", path, NI_STEMS_FORMAT, sources.used, notes=sources.notes)


def make_mix(record: JobRecord, *, without: Sequence[str] | None = None, only: Sequence[str] | None = None,
             output_format: OutputFormatName | None = None, steps_before: Sequence[JobRecord] = ()) -> MadeFile:
    """The job's practice mix (see the module docstring and ``daw.mix``; ``steps_before``: the jobs before it in a
    chain); blocking: run it in a worker thread."""
    song = _song(record, steps_before)
    stems = _stems(song)
    choice = choose_stems(list(stems), without=without, only=only)
    fmt: OutputFormatName = output_format or FORMAT_BY_CODE[record.spec.output_format].name
    earlier = _earlier(record, "mix", choice.stems, fmt)
    if earlier is not None:
        return MadeFile(record, "mix", Path(earlier.absolute_path), fmt, choice.stems, gain=earlier.gain,
                        reused=True)
    paths = [stems[label] for label in choice.stems]
    first = _facts(paths[0])
    layout = Layout(first.sample_rate, first.channels, _song_frames(song, first.sample_rate, first.frames))
    tags = _song_tags(song)
    gain = 1.0

    def write(tmp: Path) -> None:
        nonlocal gain
        gain = write_mix(tmp, paths, layout, fmt)
        write_stem_tags(tmp, tags, stem=choice.mark, model=record.spec.model_name, fmt=FORMAT_BY_NAME[fmt].ext,
                        comment=f"Practice mix of MVSep stems ({record.spec.model_name}): {choice.mark}")

    ext = "." + FORMAT_BY_NAME[fmt].ext
    name = sanitize_component(f"{song.title} ({choice.mark})", MAX_NAME_CHARS - len(ext)) + ext
    path = _write(song.folder / name, write)
    return MadeFile(record, "mix", path, fmt, choice.stems, gain=gain)


# ------------------------------------------------------------------------------------------------ recording


def record_in_manifest(made: MadeFile) -> Path | None:
    """Add ``made`` to its job's manifest (blocking); returns the manifest updated, None when none was."""
    manifest = writable_manifest(made.record)
    if manifest is None:
        return None
    try:
        with MANIFEST_LOCK:
            update_made(manifest, [made.manifest_entry(manifest.parent)])
    except (UserError, OSError) as exc:
        log.warning("job %s: could not list %s in its manifest (%s)", made.record.id, made.path.name, exc)
        return None
    return manifest


async def record_made(changes: JobChanges, made: MadeFile) -> JobRecord:
    """List ``made`` in its job's manifest and journal row; returns the job as recorded."""
    if made.reused:
        return made.record
    await anyio.to_thread.run_sync(record_in_manifest, made)
    path = str(made.path)
    row = changes.update(made.record.id, change=lambda current: {"made": list(dict.fromkeys([*current.made, path]))})
    return row or made.record
