"""A finished job's files as they are on disk now: found by stem, checked against what was recorded, read whole.

What a ``resources/read`` of a stem, a manifest, a DAW session file (``.dawproject``, ``.rpp``) or a file made from
the stems (DJ stems, a practice mix) serves. A file
is served only while it is the file that was saved (same size; a changed or missing file is refused with a
sentence), and only up to a size limit: a bigger one is opened from its folder instead.
"""

from __future__ import annotations

from pathlib import Path, PurePath

from mvsep_mcp import policy
from mvsep_mcp.errors import UserError
from mvsep_mcp.jobs.errors import JobError
from mvsep_mcp.jobs.models import JobRecord, OutputFile
from mvsep_mcp.jobs.recovery import again_text
from mvsep_mcp.media import manifest as manifests
from mvsep_mcp.mvsep.formats import MIME_BY_EXT


class StoredFileError(JobError):
    """A job's file cannot be served: not saved yet, gone, changed, or too big to carry."""


class StoredFileMissing(StoredFileError, LookupError):
    """The job has no such file (no such stem or session, nothing saved yet, or gone from the disk)."""


def find_output(record: JobRecord, stem: str) -> OutputFile:
    """``record``'s saved file for ``stem`` (case-insensitive)."""
    wanted = stem.strip().casefold()
    output = next((o for o in record.outputs if o.stem.casefold() == wanted), None)
    if output is None:
        if not record.outputs:
            raise StoredFileMissing(f"Job {record.id} has no saved files yet ({record.phase()}).")
        have = ", ".join(o.stem for o in record.outputs)
        raise StoredFileMissing(f"Job {record.id} has no {stem!r} stem; its stems are {have}.")
    return output


def audio_mime(output: OutputFile) -> str:
    ext = (output.format or Path(output.path).suffix.lstrip(".")).lower()
    return MIME_BY_EXT.get(ext, "application/octet-stream")


def read_output(record: JobRecord, stem: str, *, max_bytes: int = policy.RESOURCE_READ_MAX_BYTES,
                show_paths: bool = True) -> bytes:
    """The stem's bytes, when the file on disk is still the one that was saved and not too big to carry
    (``show_paths``: whether a refusal may name the server's folder)."""
    output = find_output(record, stem)
    return _read(Path(output.path), output.size, max_bytes, again=again_text(record), show_paths=show_paths)


def read_manifest(record: JobRecord, *, max_bytes: int = policy.RESOURCE_READ_MAX_BYTES,
                  show_paths: bool = True) -> bytes:
    if not record.manifest_path:
        raise StoredFileMissing(f"Job {record.id} has no manifest yet ({record.phase()}).")
    return _read(Path(record.manifest_path), None, max_bytes, again=again_text(record), show_paths=show_paths)


_SESSION_AGAIN = "write the session again with make_daw_session (toolset results)"
_MADE_AGAIN = "make it again (make_dj_stems, mix_stems; toolset results)"


def _listed(paths: list[str], file_name: str) -> Path | None:
    wanted = file_name.strip().casefold()
    return next((Path(p) for p in paths if PurePath(p).name.casefold() == wanted), None)


def find_session(record: JobRecord, file_name: str) -> Path:
    """``record``'s DAW session file named ``file_name`` (case-insensitive), as the journal lists it."""
    found = _listed(record.sessions, file_name)
    if found is None:
        have = ", ".join(PurePath(p).name for p in record.sessions) or "none yet (make_daw_session writes one)"
        raise StoredFileMissing(f"Job {record.id} has no DAW session {file_name!r}; its sessions: {have}.")
    return found


def read_session(record: JobRecord, file_name: str, *, max_bytes: int = policy.RESOURCE_READ_MAX_BYTES,
                 show_paths: bool = True) -> bytes:
    """A session file's bytes, while it is the size its job's manifest recorded (when it has recorded one)."""
    path = find_session(record, file_name)
    return _read(path, _recorded_size(record, path, "sessions"), max_bytes, what="DAW session",
                 again=_SESSION_AGAIN, show_paths=show_paths)


def read_file(record: JobRecord, stem: str, ext: str, *, max_bytes: int = policy.RESOURCE_READ_MAX_BYTES,
              show_paths: bool = True) -> bytes:
    """What ``mvsep://jobs/{id}/files/{stem}.{ext}`` names: the stem labelled ``stem``, else a file made from the
    stems (DJ stems, a practice mix) named ``{stem}.{ext}``, while it is the size its job's manifest recorded."""
    if any(o.stem.casefold() == stem.strip().casefold() for o in record.outputs):
        return read_output(record, stem, max_bytes=max_bytes, show_paths=show_paths)
    made = _listed(record.made, f"{stem}.{ext}")
    if made is None:
        return read_output(record, stem, max_bytes=max_bytes, show_paths=show_paths)  # says what the job has
    return _read(made, _recorded_size(record, made, "made"), max_bytes, what="file", again=_MADE_AGAIN,
                 show_paths=show_paths)


def _recorded_size(record: JobRecord, path: Path, listed: str) -> int | None:
    """The size the job's manifest recorded for ``path`` in its ``listed`` entries (``sessions``, ``made``)."""
    if not record.manifest_path:
        return None
    try:
        manifest = manifests.read_manifest(Path(record.manifest_path))
    except (UserError, OSError):
        return None
    entries: list[manifests.ManifestSession] | list[manifests.ManifestMade] = getattr(manifest, listed)
    return next((s.size for s in entries if s.absolute_path == str(path)), None)


def _read(path: Path, size: int | None, max_bytes: int, *, again: str, what: str = "stem",
          show_paths: bool = True) -> bytes:
    folder = str(path.parent) if show_paths else "the job's folder"
    try:
        actual = path.stat().st_size
    except OSError:
        raise StoredFileMissing(f"{path.name} is gone from {folder}: {again}.") from None
    if size is not None and actual != size:
        raise StoredFileError(f"{path.name} changed after it was saved ({actual} bytes, saved {size}); it is "
                              f"not served as the job's {what}: {again} to get the original.")
    if actual > max_bytes:
        raise StoredFileError(f"{path.name} is {actual / 2**20:.0f} MB, more than the {max_bytes / 2**20:.0f} MB "
                              f"a resource read carries: open it from {folder}.")
    return path.read_bytes()
