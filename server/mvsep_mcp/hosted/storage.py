"""Each hosted user's own folder under the output folder, its quota and its retention.

``<output dir>/<user key>/`` holds everything of one user (stems, manifests, DAW sessions); nothing of theirs is
written elsewhere and no request may name another folder. A new request is refused once the folder holds more than
the quota; files older than the retention are deleted by a periodic sweep (MVSep itself keeps results 72 hours, so
an expired file can still be fetched again from there within that time). Blocking: run these in a worker thread.
"""

from __future__ import annotations

import logging
import os
import time
from pathlib import Path, PurePosixPath

from mvsep_mcp.hosted.errors import LinkInvalid, QuotaExceeded
from mvsep_mcp.hosted.identity import USER_KEY_HEX_CHARS

log = logging.getLogger(__name__)


def user_root(output_dir: Path, user_key: str) -> Path:
    return output_dir / user_key


def usage_bytes(root: Path) -> int:
    total = 0
    for folder, _dirs, files in os.walk(root):
        for name in files:
            try:
                total += os.lstat(os.path.join(folder, name)).st_size
            except OSError:
                continue  # removed meanwhile
    return total


def check_quota(root: Path, quota_bytes: int, retention_days: float) -> None:
    used = usage_bytes(root)
    if used >= quota_bytes:
        raise QuotaExceeded(
            f"Your storage on this server is full ({used / 2**20:.0f} of {quota_bytes / 2**20:.0f} MB): download "
            f"what you need through the links of earlier results; files are removed {retention_days:g} days after "
            f"they were made, which frees room for new jobs."
        )


def relative_inside(root: Path, path: Path | str) -> str | None:
    """``path`` as a POSIX path relative to ``root``, or ``None`` when it lies outside (never a server path)."""
    try:
        return Path(path).resolve().relative_to(root.resolve()).as_posix()
    except (ValueError, OSError):
        return None


def file_inside(root: Path, relative: str) -> Path:
    """The regular file ``relative`` names inside ``root``; :class:`LinkInvalid` for anything else (``..``, absolute
    paths, symbolic links leading out, folders, missing files)."""
    parts = PurePosixPath(relative).parts
    if not parts or PurePosixPath(relative).is_absolute() or any(p in ("..", "") for p in parts):
        raise LinkInvalid("This download link is not valid.")
    path = (root / Path(*parts)).resolve()
    try:
        path.relative_to(root.resolve())
    except ValueError:
        raise LinkInvalid("This download link is not valid.") from None
    if not path.is_file():
        raise LinkInvalid("This file is no longer kept on the server (files are removed after a while): fetch the "
                          "job's result again while MVSep keeps it.")
    return path


def sweep(output_dir: Path, retention_s: float, now: float | None = None) -> int:
    """Delete every user's files older than ``retention_s`` (by modification time) and the folders left empty;
    returns the number of files removed. Only folders named like user keys are touched."""
    cutoff = (time.time() if now is None else now) - retention_s
    removed = 0
    if not output_dir.is_dir():
        return 0
    for user in output_dir.iterdir():
        if not user.is_dir() or user.is_symlink() or not _is_user_key(user.name):
            continue
        for folder, _dirs, files in os.walk(user, topdown=False):
            for name in files:
                path = os.path.join(folder, name)
                try:
                    if os.lstat(path).st_mtime < cutoff:
                        os.unlink(path)
                        removed += 1
                except OSError:
                    continue
            if folder != str(user) and not os.listdir(folder):
                try:
                    os.rmdir(folder)
                except OSError:
                    pass
    if removed:
        log.info("retention: removed %d file(s) older than %.1f days", removed, retention_s / 86400)
    return removed


def _is_user_key(name: str) -> bool:
    return len(name) == USER_KEY_HEX_CHARS and all(c in "0123456789abcdef" for c in name)
