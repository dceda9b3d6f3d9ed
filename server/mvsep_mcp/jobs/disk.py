"""The output folder's disk: room checked against a job's announced sizes before downloading, and the disk's
refusals (no space, quota, file too large, read-only, not allowed) turned into one sentence.

A refusal is permanent at once: trying again cannot make room, so nothing is downloaded twice. The sentence names the
folder as the user gave it, in brackets (a hosted server's presenter turns it into "your folder"), the room the job
needs when MVSep announced its sizes, and how to get the result without paying again
(:func:`~mvsep_mcp.jobs.recovery.again_text`): the job is left ``recoverable``.
"""

from __future__ import annotations

import errno
import os
import shutil
from collections.abc import Iterable, Iterator
from pathlib import Path

from mvsep_mcp.jobs.errors import CannotSave
from mvsep_mcp.jobs.models import JobRecord
from mvsep_mcp.jobs.recovery import again_text
from mvsep_mcp.media.verify import announced_bytes

_EDQUOT = getattr(errno, "EDQUOT", errno.ENOSPC)  # a quota: not every platform names it
NO_ROOM_ERRNOS = frozenset({errno.ENOSPC, _EDQUOT, errno.EFBIG})
REFUSED_ERRNOS = frozenset({errno.EROFS, errno.EACCES, errno.EPERM})
DISK_ERRNOS = NO_ROOM_ERRNOS | REFUSED_ERRNOS


def causes(exc: BaseException) -> Iterator[BaseException]:
    """``exc`` and what caused it, in turn (mutagen and the DAW code wrap the disk's OSError in their own errors)."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield current
        current = current.__cause__ or current.__context__


def disk_errno(exc: BaseException) -> int | None:
    """The disk's refusal behind ``exc`` (itself, or what caused it), else None."""
    return next((c.errno for c in causes(exc) if isinstance(c, OSError) and c.errno in DISK_ERRNOS), None)


def needed_bytes(size_texts: Iterable[str | None]) -> int | None:
    """The room the files need, from MVSep's size texts (the readable ones); None when none is readable."""
    sizes = [n for n in (announced_bytes(t) for t in size_texts) if n is not None]
    return sum(sizes) if sizes else None


def free_bytes(folder: Path) -> int | None:
    """Free bytes on the file system of ``folder`` (or its nearest existing parent); None when unknown."""
    folder = Path(os.path.abspath(folder))
    while not folder.exists() and folder.parent != folder:
        folder = folder.parent
    try:
        return shutil.disk_usage(folder).free
    except OSError:
        return None


def size_words(size: int) -> str:
    """``"8.4 MB"``, ``"152 kB"``, ``"900 bytes"`` (decimal units, as file managers show them)."""
    if size >= 1_000_000_000:
        return f"{size / 1e9:.1f} GB"
    if size >= 1_000_000:
        return f"{size / 1e6:.1f} MB"
    if size >= 1_000:
        return f"{size / 1e3:.0f} kB"
    return f"{size} bytes"


def room_problem(record: JobRecord, need: int | None) -> CannotSave | None:
    """Before downloading: :class:`CannotSave` when the output folder has less room than the files need."""
    if not need:
        return None
    free = free_bytes(Path(record.spec.output_root).expanduser())
    if free is None or free >= need:
        return None
    return _no_room(record, errno.ENOSPC, need, free)


def save_problem(exc: BaseException, record: JobRecord, need: int | None) -> CannotSave | None:
    """``exc`` as the sentence of a disk that refused the files (None when the disk did not refuse)."""
    code = disk_errno(exc)
    if code is None:
        return None
    if code in NO_ROOM_ERRNOS:
        return _no_room(record, code, need, free_bytes(Path(record.spec.output_root).expanduser()))
    folder = record.spec.output_root
    if code == errno.EROFS:
        what = f"The output folder is read-only ({folder})"
    else:
        what = f"This server may not write into the output folder ({folder}: permission denied)"
    return CannotSave(f"{what}, so the files of job {record.id} were not saved: make it writable or choose another "
                      f"output folder, then {again_text(record)}.")


def _no_room(record: JobRecord, code: int, need: int | None, free: int | None) -> CannotSave:
    facts = [record.spec.output_root]
    facts += [f"this job's files need about {size_words(need)}"] if need else []
    facts += [f"{size_words(free)} is free"] if free is not None else []
    if code == errno.EFBIG:
        facts.insert(1, "a limit of its file system, or of this server's process, on the size of one file")
        what = "The output folder refuses files this large"
    elif code == _EDQUOT and code != errno.ENOSPC:
        what = "The disk quota of the output folder is used up"
    else:
        what = "The output folder is out of space"
    return CannotSave(f"{what} ({'; '.join(facts)}), so the files of job {record.id} were not saved: free some space "
                      f"there or choose another output folder, then {again_text(record)}.")
