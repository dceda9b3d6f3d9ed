"""Inputs of a request, checked before anything is sent: paths expanded, folders listed, files probed and hashed."""

from __future__ import annotations

import errno
import stat
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import anyio.to_thread

from mvsep_mcp.catalog import CostEstimate
from mvsep_mcp.jobs.models import JobKind
from mvsep_mcp.media import probe, read_tags
from mvsep_mcp.media.errors import MediaError
from mvsep_mcp.media.files import sha256_file
from mvsep_mcp.media.probe import AUDIO_SUFFIXES, find_similar_names
from mvsep_mcp.planning.errors import PlanError
from mvsep_mcp.policy import MAX_INPUTS

Hasher = Callable[[Path], str]
NO_INPUTS = "Give at least one input: an absolute file or folder path, or an http(s) URL."


@dataclass(frozen=True)
class PlannedInput:
    """One input as it will be sent (a file, a URL, a Matchering target with its reference, or a text prompt)."""

    kind: JobKind
    source: str  # absolute path or URL ("" for text-input models)
    duration_s: float | None = None
    size_bytes: int | None = None
    format: str | None = None
    sha256: str | None = None
    tags: dict[str, str] = field(default_factory=dict)
    estimate: CostEstimate | None = None
    reference: PlannedInput | None = None  # Matchering's reference track


def is_url(text: str) -> bool:
    return urlsplit(text.strip()).scheme in ("http", "https")


def absolute_path(text: str, what: str = "input") -> Path:
    """``~`` expanded; relative paths refused (a host's working directory is often ``/``)."""
    path = Path(text.strip()).expanduser()
    if not path.is_absolute():
        raise PlanError(
            f"The {what} {text!r} is not an absolute path: give the full path, e.g. "
            f"/Users/me/Music/{Path(text).name or 'song.flac'} or ~/Music/{Path(text).name or 'song.flac'}."
        )
    return path


def missing_file_message(path: Path) -> str:
    similar = find_similar_names(path)
    if not path.parent.is_dir():
        return f"No folder {path.parent}: check the path and call again."
    hint = f" Did you mean: {', '.join(similar)}?" if similar else ""
    return f"No file {path.name!r} in {path.parent}.{hint}"


def expand_inputs(items: Sequence[str], *, recursive: bool = False) -> list[tuple[JobKind, str]]:
    """Paths (files or folders) and URLs, in order, without duplicates."""
    found: dict[str, JobKind] = {}
    for item in items:
        if not item or not item.strip():
            continue
        if is_url(item):
            found.setdefault(item.strip(), "url")
            continue
        path = absolute_path(item)
        if _kind_of(path) == "folder":
            for file in _audio_files_in(path, recursive):
                found.setdefault(str(file), "file")
        else:
            found.setdefault(str(path), "file")
    if not found:
        raise PlanError(NO_INPUTS)
    if len(found) > MAX_INPUTS:
        raise PlanError(f"{len(found)} inputs is more than {MAX_INPUTS} in one call: split the batch.")
    return [(kind, source) for source, kind in found.items()]


def readable_file(text: str, what: str = "file") -> Path:
    """An absolute path to a readable regular file, or a ``PlanError`` sentence saying what it is instead (blocking:
    run in a worker thread). For files sent as they are (a quality-checker zip), not probed as audio."""
    path = absolute_path(text, what)
    if _kind_of(path) == "folder":
        raise PlanError(f"{_shown(path)} is a folder: give the path of one file.")
    return path


def _kind_of(path: Path) -> str:
    """"folder" or "file" for a readable regular file; anything else is refused with a sentence of its own."""
    shown = _shown(path)
    if "\x00" in str(path):
        raise PlanError(f"The path {shown} contains a NUL character: give the file's real path.")
    try:
        info = path.stat()
    except FileNotFoundError:
        raise PlanError(missing_file_message(path)) from None
    except OSError as exc:
        raise PlanError(_os_error_sentence(path, exc)) from None
    mode = info.st_mode
    if stat.S_ISDIR(mode):
        return "folder"
    if stat.S_ISFIFO(mode):
        raise PlanError(f"{shown} is a named pipe (FIFO), not an audio file: give the path of a regular audio file.")
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        raise PlanError(f"{shown} is a device, not an audio file: give the path of a regular audio file.")
    if stat.S_ISSOCK(mode) or not stat.S_ISREG(mode):
        raise PlanError(f"{shown} is not a regular file: give the path of an audio file.")
    try:
        with path.open("rb"):
            pass
    except OSError as exc:
        raise PlanError(_os_error_sentence(path, exc)) from None
    return "file"


def _shown(path: Path, limit: int = 120) -> str:
    """The path for a sentence, shortened in the middle when it is very long."""
    text = str(path)
    return repr(text) if len(text) <= limit else repr(text[: limit // 2] + "…" + text[-limit // 2 :])


def _os_error_sentence(path: Path, exc: OSError) -> str:
    shown = _shown(path)
    if exc.errno == errno.ENAMETOOLONG:
        return (f"The path {shown} is too long for this system ({len(str(path))} characters): "
                f"move or rename the file so that its path is shorter.")
    if exc.errno == errno.ELOOP:
        return f"The path {shown} is a loop of symbolic links: point it at the real file."
    if exc.errno in (errno.EACCES, errno.EPERM):
        return f"The file {shown} cannot be read (permission denied): make it readable, or copy it somewhere that is."
    if exc.errno == errno.ENOTDIR:
        return f"The path {shown} runs through a file as if it were a folder: check the path."
    return f"The file {shown} cannot be read ({exc.strerror or exc}): check the path and call again."


def _audio_files_in(folder: Path, recursive: bool) -> list[Path]:
    pattern = "**/*" if recursive else "*"
    files = sorted(
        p for p in folder.glob(pattern)
        if p.is_file() and p.suffix.lower() in AUDIO_SUFFIXES and not p.name.startswith(".")
    )
    if not files:
        hint = "" if recursive else " (set recursive=true to look in sub-folders)"
        raise PlanError(f"No audio files in the folder {folder}{hint}.")
    return files


def describe_file(path: Path, hasher: Hasher = sha256_file) -> PlannedInput:
    """Probe, hash and read tags of one local file (blocking: run in a worker thread).

    ``hasher`` gives the file's SHA-256 (the session's cache answers at once for a file seen before)."""
    if _kind_of(path) == "folder":
        raise PlanError(f"{_shown(path)} is a folder: give the path of one audio file.")
    try:
        info = probe(path)
    except FileNotFoundError:
        raise PlanError(missing_file_message(path)) from None
    try:
        tags = read_tags(path).summary()
    except MediaError:
        tags = {}
    return PlannedInput(
        kind="file",
        source=str(path),
        duration_s=info.duration_s,
        size_bytes=info.size_bytes,
        format=info.format,
        sha256=hasher(path),
        tags=tags,
    )


async def describe_sources(expanded: Sequence[tuple[JobKind, str]], hasher: Hasher = sha256_file
                           ) -> list[PlannedInput]:
    """Probe every local file (in worker threads); URLs are taken as they are."""
    planned: list[PlannedInput] = []
    for kind, source in expanded:
        if kind == "url":
            planned.append(PlannedInput(kind="url", source=source))
        else:
            planned.append(await anyio.to_thread.run_sync(describe_file, Path(source), hasher))
    return planned
