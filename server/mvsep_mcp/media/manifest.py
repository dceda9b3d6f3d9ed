"""The JSON manifest written beside a job's stems: what was separated, how, and where every output went.

Machine-readable for automation hosts: each output has its stem label, its path relative to the manifest's folder
(POSIX separators, portable if the folder moves) and absolute, format, size and SHA-256. The job part records the
model, options, output format and the MVSep host — never a token: URLs are reduced to their host and
``api_token`` query parameters are removed from links.

A DAW session written for the job (``.dawproject``, ``.rpp``) is listed under ``sessions`` (``ManifestSession``: its
path relative to the manifest, kind, size, SHA-256 and the stems it references); ``update_sessions`` adds or updates
those entries in a written manifest, by path (a session written again updates its entry), atomically. DJ stems and
practice mixes made from the stems are listed the same way under ``made`` (``ManifestMade``, ``update_made``).

Default file name: ``"<Title> - <model> (mvsep).json"`` (title from the input's tags, else the input's name; cut to fit
the path limits), and like every file the project writes it never overwrites: a second run gives ``… (mvsep) (2).json``.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from mvsep_mcp.media.errors import MediaError
from mvsep_mcp.media.files import commit_file, ensure_dir, replace_file, sha256_file, temp_path_for
from mvsep_mcp.media.naming import sanitize_component
from mvsep_mcp.policy import MAX_NAME_CHARS, MAX_PATH_CHARS

SCHEMA_VERSION = 1
MANIFEST_SUFFIX = " (mvsep).json"
_SECRET_PARAMS = frozenset({"api_token", "token", "access_token", "key", "api_key", "password"})


def host_of(url_or_host: str | None) -> str | None:
    """``"mvsep.com"`` from ``"https://mvsep.com/api?api_token=…"``; a bare host (with port) is kept as is."""
    if not url_or_host:
        return None
    text = url_or_host.strip()
    parsed = urlsplit(text if "//" in text else f"//{text}")
    host = parsed.hostname
    if not host:
        return None
    return f"{host}:{parsed.port}" if parsed.port else host


def strip_secrets(url: str | None) -> str | None:
    """``url`` without credentials in its netloc or secret-looking query parameters."""
    if not url:
        return None
    parts = urlsplit(url)
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k.lower() not in _SECRET_PARAMS]
    netloc = parts.netloc.rsplit("@", 1)[-1]
    return urlunsplit((parts.scheme, netloc, parts.path, urlencode(query), parts.fragment))


class _Lenient(BaseModel):
    model_config = ConfigDict(extra="allow")


class ManifestJob(_Lenient):
    """The MVSep job: hash, model (name and ``render_id``), options, output format, host and result link."""

    hash: str
    model: str
    model_id: int | None = None  # the render_id sent as sep_type
    options: dict[str, str] = Field(default_factory=dict)
    output_format: str | int | None = None
    base_url_host: str | None = None
    mvsep_link: str | None = None

    @field_validator("options", mode="before")
    @classmethod
    def _option_text(cls, value: Any) -> Any:
        if isinstance(value, dict):
            return {str(k): "" if v is None else str(v) for k, v in value.items()}
        return value

    @field_validator("base_url_host", mode="before")
    @classmethod
    def _host_only(cls, value: Any) -> str | None:
        return host_of(value) if isinstance(value, str) else None

    @field_validator("mvsep_link", mode="before")
    @classmethod
    def _no_secrets(cls, value: Any) -> str | None:
        return strip_secrets(value) if isinstance(value, str) else None


class ManifestInput(_Lenient):
    """The input: where it was, its size, hash, duration and a summary of its tags."""

    path: str | None = None
    name: str
    size: int | None = None
    sha256: str | None = None
    duration_s: float | None = None
    tags: dict[str, str] = Field(default_factory=dict)


class ManifestOutput(_Lenient):
    """One stem file."""

    stem: str
    path: str  # relative to the manifest's folder, POSIX separators
    absolute_path: str
    format: str | None = None
    size: int
    sha256: str
    duration_s: float | None = None

    @classmethod
    def for_file(cls, folder: Path, stem: str, file: Path, fmt: str | None = None) -> ManifestOutput:
        """An entry for ``file`` (hashed and sized now) with its path relative to the manifest ``folder``."""
        file = Path(file).absolute()
        return cls(stem=stem, path=relative_posix(file, folder), absolute_path=str(file),
                   format=fmt or file.suffix.lstrip(".").lower() or None,
                   size=file.stat().st_size, sha256=sha256_file(file))


def relative_posix(file: Path, folder: Path) -> str:
    """``file`` relative to ``folder`` with ``/`` separators; absolute when no relative path exists (another drive)."""
    try:
        return PurePosixPath(*Path(os.path.relpath(Path(file).absolute(), Path(folder).absolute())).parts).as_posix()
    except ValueError:  # another drive on Windows: no relative path exists
        return Path(file).absolute().as_posix()


class ManifestSessionStem(_Lenient):
    """A stem a session file references: the job that made it, its label and its path relative to the manifest."""

    job_id: str
    stem: str
    path: str


class _ManifestFile(_Lenient):
    """A file written for the job after its stems: its kind, where it is (relative to the manifest's folder, and
    absolute), size and SHA-256."""

    kind: str
    path: str
    absolute_path: str
    size: int
    sha256: str


class ManifestSession(_ManifestFile):
    """A DAW session file written for the job: ``kind`` ``dawproject`` or ``rpp``, the stems it references and the
    original mix (when it has one)."""

    stems: list[ManifestSessionStem] = Field(default_factory=list)
    mix: str | None = None


class ManifestMade(_ManifestFile):
    """A file made from the job's stems after it completed: ``kind`` ``dj_stems`` (a ``.stem.mp4``) or ``mix`` (a
    practice mix), its format, the stems it is made of, the gain a mix was lowered by so as not to clip (1.0: not
    lowered) and how any track was made."""

    format: str
    stems: list[str] = Field(default_factory=list)
    gain: float | None = None
    gain_db: float | None = None
    notes: list[str] = Field(default_factory=list)


class Manifest(_Lenient):
    """Everything about one finished job, written as ``<Title> - <model> (mvsep).json`` beside its stems."""

    schema_version: int = SCHEMA_VERSION
    created_at: datetime = Field(default_factory=lambda: datetime.now(UTC))
    job: ManifestJob
    input: ManifestInput
    outputs: list[ManifestOutput] = Field(default_factory=list)
    cost: int | None = None  # credits charged or estimated
    sessions: list[ManifestSession] = Field(default_factory=list)  # DAW session files that use the job's stems
    made: list[ManifestMade] = Field(default_factory=list)  # DJ stems and practice mixes made from the stems

    def default_name(self, folder_len: int = 0) -> str:
        """``"<Title> - <model> (mvsep).json"``, cut (title first, then model) to fit the name and path limits."""
        title = self.input.tags.get("title") or Path(self.input.name).stem or "Untitled"
        model = self.job.model or "mvsep"
        budget = min(MAX_NAME_CHARS, MAX_PATH_CHARS - folder_len - 1) - len(MANIFEST_SUFFIX)
        if budget < 8:
            raise MediaError(f"The folder path is too long ({folder_len} characters) to write a manifest within "
                             f"{MAX_PATH_CHARS} characters; choose a shorter output folder.")
        model = model[: max(4, budget // 2)]
        title = title[: max(1, budget - len(model) - 3)]
        return sanitize_component(f"{title} - {model}{MANIFEST_SUFFIX}")


def write_manifest(folder: Path, manifest: Manifest, name: str | None = None) -> Path:
    """Write ``manifest`` as pretty JSON into ``folder`` (created if needed) and return its path; never overwrites."""
    folder = ensure_dir(Path(folder))
    file_name = sanitize_component(name) if name else manifest.default_name(len(str(folder)))
    if not file_name.lower().endswith(".json"):
        file_name += ".json"
    desired = folder / file_name
    tmp = temp_path_for(desired)
    try:
        tmp.write_text(manifest.model_dump_json(indent=2) + "\n", encoding="utf-8")
        return commit_file(tmp, desired)
    finally:
        tmp.unlink(missing_ok=True)


def read_manifest(path: Path) -> Manifest:
    """Load a manifest written by ``write_manifest``; ``MediaError`` if it is not one."""
    try:
        return Manifest.model_validate_json(Path(path).read_text(encoding="utf-8"))
    except (ValidationError, UnicodeDecodeError, ValueError) as exc:
        raise MediaError(f"{Path(path).name} is not a readable mvsep-mcp manifest ({exc.__class__.__name__}); "
                         f"it may be damaged or from another program.") from exc


def without_server_paths(data: bytes) -> bytes:
    """A manifest's JSON as a remote reader may see it: every ``absolute_path`` left out and a local input shown by
    its name only (paths relative to the manifest and URLs stay). Text that is not JSON comes back unchanged."""
    import json

    try:
        document = json.loads(data)
    except (UnicodeDecodeError, ValueError):
        return data

    def strip(value: Any) -> Any:
        if isinstance(value, dict):
            return {key: strip(item) for key, item in value.items() if key != "absolute_path"}
        if isinstance(value, list):
            return [strip(item) for item in value]
        return value

    shown = strip(document)
    source = shown.get("input") if isinstance(shown, dict) else None
    if isinstance(source, dict) and isinstance(source.get("path"), str) and not urlsplit(source["path"]).netloc:
        source["path"] = Path(source["path"]).name
    return (json.dumps(shown, indent=2, ensure_ascii=False) + "\n").encode("utf-8")


def update_sessions(path: Path, entries: list[ManifestSession]) -> Manifest:
    """Add ``entries`` to the manifest at ``path`` (an entry with the same ``path`` is replaced, not repeated) and
    rewrite it atomically in place; returns the manifest as written. ``MediaError`` when it is not a manifest."""
    return _update_entries(path, "sessions", entries)


def update_made(path: Path, entries: list[ManifestMade]) -> Manifest:
    """``update_sessions`` for the files made from the job's stems (``made``)."""
    return _update_entries(path, "made", entries)


def _update_entries(path: Path, field: str, entries: list[ManifestSession] | list[ManifestMade]) -> Manifest:
    manifest = read_manifest(path)
    paths = {e.path for e in entries}
    kept = [e for e in getattr(manifest, field) if e.path not in paths]
    updated = manifest.model_copy(update={field: [*kept, *entries]})
    replace_file(Path(path), (updated.model_dump_json(indent=2) + "\n").encode("utf-8"))
    return updated
