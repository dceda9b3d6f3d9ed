"""Putting files in place safely: temporary names, never-overwriting atomic commits, hashes, folders.

Downloads go to ``temp_path_for(final, key)`` (a hidden ``.<name>.<8 hex>.part`` beside the final name, the same for
the same key so that a restarted download finds and resumes it) and are moved
into place by ``commit_file``, which never replaces an existing file: when ``Song (Vocals).flac`` exists the file
becomes ``Song (Vocals) (2).flac``, then ``(3)``…  The move is atomic and race-free: ``os.link`` fails if the
target exists, so two commits to the same name can never both win. Where hard links are unsupported (FAT, exFAT,
some network shares) an exclusive create (``O_CREAT | O_EXCL``) reserves the name and ``os.replace`` fills it.
"""

from __future__ import annotations

import errno
import hashlib
import logging
import os
import re
import secrets
import shutil
from collections.abc import Iterator
from pathlib import Path

from mvsep_mcp import system
from mvsep_mcp.media.errors import MediaError
from mvsep_mcp.policy import HASH_CHUNK_BYTES

log = logging.getLogger(__name__)

MAX_COLLISION_SUFFIX = 9999
_TEMP_NAME = re.compile(r"^\.(?P<name>.+)\.(?P<token>[0-9a-f]{8})\.part$")
_TEMP_NAME_MAX_BYTES = 200  # the kept part of the final name inside a temp name (file systems allow 255)


def temp_path_for(final: Path, key: str | None = None) -> Path:
    """A hidden temporary path beside ``final``: ``.<final name>.<8 hex>.part``.

    With ``key`` the hex is derived from it (the same key gives the same path, across restarts); without, random.
    """
    final = Path(final)
    name = final.name
    while len(name.encode("utf-8")) > _TEMP_NAME_MAX_BYTES:
        name = name[: len(name) - 1]
    token = hashlib.sha256(key.encode("utf-8")).hexdigest()[:8] if key is not None else secrets.token_hex(4)
    return final.parent / f".{name}.{token}.part"


def is_temp_name(name: str) -> bool:
    """Whether a file name is one ``temp_path_for`` makes (only such files are ever removed as leftovers)."""
    return _TEMP_NAME.match(name) is not None


def final_name_from_temp(temp_name: str) -> str | None:
    """The final file name a ``temp_path_for`` name was made for (possibly truncated), or None if it is not one."""
    match = _TEMP_NAME.match(temp_name)
    return match.group("name") if match else None


def ensure_dir(path: Path) -> Path:
    """Create ``path`` and its parents if needed; raise ``MediaError`` if something that is not a folder is there."""
    path = Path(path)
    try:
        path.mkdir(parents=True, exist_ok=True)
    except FileExistsError as exc:
        raise MediaError(f"Cannot create the folder {path}: a file with that name is in the way; "
                         f"move it or choose another output folder.") from exc
    except NotADirectoryError as exc:  # a file where one of its parent folders should be
        raise MediaError(f"Cannot create the folder {path}: a file is in the way of one of its parent folders; "
                         f"move it or choose another output folder.") from exc
    except PermissionError as exc:
        raise MediaError(f"Cannot create the folder {path}: permission denied; choose an output folder you can "
                         f"write to.") from exc
    if not path.is_dir():
        raise MediaError(f"Cannot use {path} as a folder: it is not a directory; choose another output folder.")
    return path


def sha256_file(path: Path) -> str:
    """The SHA-256 of a file's bytes as lowercase hex, read in chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(HASH_CHUNK_BYTES):
            digest.update(chunk)
    return digest.hexdigest()


def candidate_names(desired: Path, suffix: str | None = None) -> Iterator[Path]:
    """``desired``, then ``Name (2).ext``, ``Name (3).ext``… (the order ``commit_file`` tries), made as needed;
    ``suffix``: the end of the name the number goes before (``.stem.mp4``; default: the last extension)."""
    yield desired
    if suffix is None or not desired.name.endswith(suffix):
        suffix = desired.suffix
    stem = desired.name[: len(desired.name) - len(suffix)] if suffix else desired.name
    for n in range(2, MAX_COLLISION_SUFFIX + 1):
        yield desired.with_name(f"{stem} ({n}){suffix}")


def _fsync(path: Path) -> None:
    """Flush a file or folder to disk, best effort (Windows cannot open folders, and needs write access to flush)."""
    windows = system.is_windows()
    if windows and path.is_dir():
        return
    try:
        fd = os.open(path, os.O_RDWR if windows else os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


_NO_HARDLINK_ERRNOS = {errno.EPERM, errno.EACCES, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EMLINK, errno.EXDEV,
                       errno.ENOSYS, errno.EINVAL}


def _place_exclusive(tmp: Path, target: Path) -> bool:
    """Reserve ``target`` with an exclusive create, then move ``tmp`` over the reservation; False if it exists."""
    try:
        fd = os.open(target, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
    except FileExistsError:
        return False
    os.close(fd)
    try:
        os.replace(tmp, target)
    except OSError as exc:
        if exc.errno != errno.EXDEV:
            target.unlink(missing_ok=True)
            raise
        shutil.copyfile(tmp, target)  # tmp on another file system: copy into the reserved name
        tmp.unlink()
    return True


def commit_file(tmp: Path, desired: Path, suffix: str | None = None) -> Path:
    """Move the finished ``tmp`` to ``desired`` (or ``desired (2)``… when taken) and return where it landed.

    Never overwrites anything; creates missing parent folders; safe against concurrent commits to the same name.
    ``suffix``: a name ending the number goes before (``Song (2).stem.mp4``), as ``candidate_names`` takes.
    """
    tmp, desired = Path(tmp), Path(desired)
    if not tmp.is_file():
        raise MediaError(f"Cannot move {tmp} into place: the temporary file is missing; download it again.")
    ensure_dir(desired.parent)
    _fsync(tmp)
    use_links = True
    for target in candidate_names(desired, suffix):
        if use_links:
            try:
                os.link(tmp, target)
            except FileExistsError:
                continue
            except OSError as exc:
                if exc.errno not in _NO_HARDLINK_ERRNOS:
                    raise
                log.debug("hard links unavailable in %s (%s); using exclusive create + replace", target.parent, exc)
                use_links = False
            else:
                tmp.unlink()
                _fsync(target.parent)
                return target
        if _place_exclusive(tmp, target):
            _fsync(target.parent)
            return target
    raise MediaError(f"Cannot save {desired.name}: {MAX_COLLISION_SUFFIX} files with that name already exist in "
                     f"{desired.parent}; tidy the folder or choose another naming template.")


def replace_file(target: Path, data: bytes) -> Path:
    """Write ``data`` to ``target`` atomically, replacing it: a temporary file beside it, flushed, then ``os.replace``
    (a reader sees the old file or the new one, never half of one). Only for the project's own files (a manifest it
    updates), never for the user's."""
    target = Path(target)
    tmp = temp_path_for(target)
    try:
        tmp.write_bytes(data)
        _fsync(tmp)
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)
    _fsync(target.parent)
    return target
