"""Session files in their jobs' records: a ``.dawproject``/``.rpp`` belongs to every job whose stems it uses.

```python
written = sessions_from_jobs(records, picks)          # from_jobs: the files, beside the first stem
await record_sessions(runner.changes, written)         # each job's journal row and manifest now list them
```

- **Manifest.** Each job's manifest gains a ``sessions`` entry per file (``ManifestSession``: path relative to the
  manifest, kind, size, SHA-256, the stems it references, the mix), added or updated by path, rewritten atomically in
  place (``media.manifest.update_sessions``). A manifest outside its job's output folder is never written; a job
  without a manifest keeps only its journal entry. A manifest that cannot be updated is logged, not raised: the
  session files are written and usable either way.
- **Journal.** Each job's ``sessions`` lists the files' paths once (what ``resources/read`` serves, ``results.stored``).

This module sits in the jobs layer (it reads ``JobRecord``s and writes through ``JobChanges``).
"""

from __future__ import annotations

import logging
from pathlib import Path
from threading import Lock

import anyio

from mvsep_mcp.daw import DawError
from mvsep_mcp.errors import UserError
from mvsep_mcp.jobs.changes import JobChanges
from mvsep_mcp.jobs.models import JobRecord
from mvsep_mcp.media.files import sha256_file
from mvsep_mcp.media.manifest import ManifestSession, ManifestSessionStem, relative_posix, update_sessions
from mvsep_mcp.results.sessions import SESSION_FORMATS, SessionFormat, WrittenSession, session_after_job

log = logging.getLogger(__name__)

MANIFEST_LOCK = Lock()  # two files of the same job recorded at once: one read-modify-write of its manifest at a time


def session_kind(path: Path) -> SessionFormat | None:
    """``dawproject`` or ``rpp`` by the file's suffix (None for anything else)."""
    suffix = Path(path).suffix.lower().lstrip(".")
    return next((kind for kind in SESSION_FORMATS if kind == suffix), None)


def manifest_entry(path: Path, written: WrittenSession, folder: Path) -> ManifestSession:
    """The manifest entry of one written session file, its paths relative to the manifest ``folder``."""
    path = Path(path).absolute()
    mix = written.song.mix_path
    return ManifestSession(
        kind=session_kind(path) or path.suffix.lower().lstrip("."),
        path=relative_posix(path, folder),
        absolute_path=str(path),
        size=path.stat().st_size,
        sha256=sha256_file(path),
        stems=[ManifestSessionStem(job_id=p.record.id, stem=p.output.stem, path=relative_posix(Path(p.output.path),
                                                                                                folder))
               for p in written.song.picked],
        mix=relative_posix(mix, folder) if mix else None,
    )


def jobs_of(written: WrittenSession) -> list[JobRecord]:
    """The jobs whose stems the session uses, once each, in the order picked."""
    return list({p.record.id: p.record for p in written.song.picked}.values())


def inside(path: Path, root: Path) -> bool:
    """Whether ``path`` is ``root`` or inside it, links resolved."""
    return Path(path).resolve().is_relative_to(Path(root).resolve())


def writable_manifest(record: JobRecord) -> Path | None:
    """``record``'s manifest when this server may rewrite it: it has one, inside its output folder (else None)."""
    if not record.manifest_path:
        return None
    manifest = Path(record.manifest_path)
    if not inside(manifest, Path(record.spec.output_root)):
        log.warning("job %s: its manifest %s is outside its output folder; not updated", record.id, manifest)
        return None
    return manifest


def record_in_manifests(written: WrittenSession, records: list[JobRecord] | None = None) -> list[Path]:
    """Add the written files to the manifest of each of ``records`` (default: the jobs the session uses); returns the
    manifests updated. Blocking file work: run it in a worker thread."""
    updated: list[Path] = []
    for record in records if records is not None else jobs_of(written):
        manifest = writable_manifest(record)
        if manifest is None:
            continue
        try:
            entries = [manifest_entry(p, written, manifest.parent) for p in written.paths]
            with MANIFEST_LOCK:
                update_sessions(manifest, entries)
        except (UserError, OSError) as exc:
            log.warning("job %s: could not list the DAW session in its manifest (%s)", record.id, exc)
            continue
        updated.append(manifest)
    return updated


def with_sessions(record: JobRecord, paths: list[str]) -> list[str]:
    """``record``'s session paths with ``paths`` added (each once, in order)."""
    return list(dict.fromkeys([*record.sessions, *paths]))


async def record_sessions(changes: JobChanges, written: WrittenSession) -> list[JobRecord]:
    """List the written session files in the manifest and the journal row of every job they use; returns the jobs
    as recorded."""
    await anyio.to_thread.run_sync(record_in_manifests, written)
    paths = [str(p) for p in written.paths]  # absolute: beside the first stem
    recorded: list[JobRecord] = []
    for record in jobs_of(written):
        row = changes.update(record.id, change=lambda current: {"sessions": with_sessions(current, paths)})
        recorded.append(row or record)
    return recorded


def sessions_after_job(done: JobRecord, earlier: list[JobRecord]) -> list[str]:
    """The runner's hook (``jobs.ports.SessionsAfterJob``): the DAW session files a completed job's request asked
    for, beside its stems (with those of a chain's ``earlier`` steps) and listed in their manifests; none when they
    cannot be written (the stems stay as they are)."""
    formats = [f for f in SESSION_FORMATS if f in done.spec.daw_session]
    try:
        written = session_after_job(done, formats, earlier=earlier)
    except (DawError, OSError) as exc:
        log.warning("job %s: could not write the DAW session (%s)", done.id, exc)
        return []
    record_in_manifests(written, [*earlier, done])
    return [str(p) for p in written.paths]
