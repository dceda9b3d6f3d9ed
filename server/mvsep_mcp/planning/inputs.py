"""Inputs of a request, checked before anything is sent: paths expanded, folders listed, files probed and hashed."""

from __future__ import annotations

from collections.abc import Sequence
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
        if path.is_dir():
            for file in _audio_files_in(path, recursive):
                found.setdefault(str(file), "file")
        elif path.is_file():
            found.setdefault(str(path), "file")
        else:
            raise PlanError(missing_file_message(path))
    if not found:
        raise PlanError(NO_INPUTS)
    if len(found) > MAX_INPUTS:
        raise PlanError(f"{len(found)} inputs is more than {MAX_INPUTS} in one call: split the batch.")
    return [(kind, source) for source, kind in found.items()]


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


def describe_file(path: Path) -> PlannedInput:
    """Probe, hash and read tags of one local file (blocking: run in a worker thread)."""
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
        sha256=sha256_file(path),
        tags=tags,
    )


async def describe_sources(expanded: Sequence[tuple[JobKind, str]]) -> list[PlannedInput]:
    """Probe every local file (in worker threads); URLs are taken as they are."""
    planned: list[PlannedInput] = []
    for kind, source in expanded:
        if kind == "url":
            planned.append(PlannedInput(kind="url", source=source))
        else:
            planned.append(await anyio.to_thread.run_sync(describe_file, Path(source)))
    return planned
