"""Planning a separation before anything is sent: inputs, model, options, access, cost, job specs.

Everything a tool call must check before it uploads a byte or spends a credit lives here, free of MCP: inputs are
expanded (folders, ``~``, URLs) and probed, the model and its options are validated against the catalogue (labels or
keys, conditions), access is checked for the account, each file's cost is estimated from its duration, and the job
specs are built. Every refusal is a :class:`PlanError` whose message names the fix.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from urllib.parse import urlsplit

import anyio

from mvsep_mcp.catalog import (
    AccountKind,
    Catalog,
    CatalogError,
    CostEstimate,
    check_access,
    estimate_cost,
    resolve_options,
)
from mvsep_mcp.config import OUTPUT_FORMATS
from mvsep_mcp.jobs.models import JobKind, JobSpec
from mvsep_mcp.media import probe, read_tags
from mvsep_mcp.media.errors import MediaError
from mvsep_mcp.media.naming import validate_template
from mvsep_mcp.media.probe import find_similar_names
from mvsep_mcp.mvsep.models import Algorithm

AUDIO_SUFFIXES = frozenset(
    {
        ".mp3",
        ".wav",
        ".flac",
        ".m4a",
        ".ogg",
        ".oga",
        ".opus",
        ".aac",
        ".webm",
        ".aif",
        ".aiff",
        ".wma",
        ".mp4",
        ".m4b",
        ".alac",
        ".ape",
        ".wv",
    }
)
REMOTE_TYPES = ("direct", "mega", "drive", "dropbox")
MAX_INPUTS = 200
HASH_CHUNK = 1 << 20


class PlanError(Exception):
    """The request cannot run as given; the message says what to change."""


@dataclass(frozen=True)
class PlannedInput:
    """One input as it will be sent."""

    kind: JobKind
    source: str  # absolute path or URL
    duration_s: float | None = None
    size_bytes: int | None = None
    format: str | None = None
    sha256: str | None = None
    tags: dict[str, str] = field(default_factory=dict)
    estimate: CostEstimate | None = None


@dataclass(frozen=True)
class Plan:
    algorithm: Algorithm
    options: dict[str, str]
    output_format: int
    output_root: Path
    inputs: list[PlannedInput]

    @property
    def total_credits(self) -> int | None:
        """Sum of the estimates, or None when some input's duration is unknown (a URL)."""
        credits = [i.estimate.credits for i in self.inputs if i.estimate is not None]
        return sum(credits) if len(credits) == len(self.inputs) else None


def is_url(text: str) -> bool:
    return urlsplit(text.strip()).scheme in ("http", "https")


def output_format_code(name: str) -> int:
    try:
        return OUTPUT_FORMATS[name.lower()]
    except KeyError:
        raise PlanError(f"Unknown output format {name!r}: use one of {', '.join(OUTPUT_FORMATS)}.") from None


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
    if not items:
        raise PlanError("Give at least one input: an absolute file or folder path, or an http(s) URL.")
    found: dict[str, JobKind] = {}
    for item in items:
        if not item or not item.strip():
            continue
        if is_url(item):
            found.setdefault(item.strip(), "url")
            continue
        path = absolute_path(item)
        if path.is_dir():
            pattern = "**/*" if recursive else "*"
            files = sorted(
                p
                for p in path.glob(pattern)
                if p.is_file() and p.suffix.lower() in AUDIO_SUFFIXES and not p.name.startswith(".")
            )
            if not files:
                raise PlanError(
                    f"No audio files in the folder {path}"
                    f"{'' if recursive else ' (set recursive=true to look in sub-folders)'}."
                )
            for file in files:
                found.setdefault(str(file), "file")
        elif path.is_file():
            found.setdefault(str(path), "file")
        else:
            raise PlanError(missing_file_message(path))
    if not found:
        raise PlanError("Give at least one input: an absolute file or folder path, or an http(s) URL.")
    if len(found) > MAX_INPUTS:
        raise PlanError(f"{len(found)} inputs is more than {MAX_INPUTS} in one call: split the batch.")
    return [(kind, source) for source, kind in found.items()]


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while chunk := fh.read(HASH_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def describe_file(path: Path) -> PlannedInput:
    """Probe, hash and read tags of one local file (blocking: run in a worker thread)."""
    try:
        info = probe(path)
    except FileNotFoundError:
        raise PlanError(missing_file_message(path)) from None
    except MediaError as exc:
        raise PlanError(str(exc)) from None
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
        sha256=sha256_of(path),
        tags=tags,
    )


def choose_model(
    catalog: Catalog, model: str | int, account_kind: AccountKind | None, widget: str = "single_upload"
) -> Algorithm:
    """The model, checked for the account and for the kind of input the calling tool sends."""
    try:
        algorithm = catalog.find(model)
        check_access(algorithm, account_kind)
    except CatalogError as exc:
        raise PlanError(str(exc)) from None
    actual = model_widget(algorithm)
    if actual != widget:
        where = {
            "single_upload": "separate_audio",
            "no_upload": "generate_from_text",
            "matchering_upload": "master_audio",
        }
        takes = {"no_upload": "no audio upload", "matchering_upload": "a target and a reference file"}
        raise PlanError(
            f"{algorithm.name} (model {algorithm.render_id}) takes {takes.get(actual, 'one audio file')}: "
            f"use {where.get(actual, 'another tool')} for it (toolset "
            f"{'studio' if actual != 'single_upload' else 'separation'})."
        )
    return algorithm


def model_widget(algorithm: Algorithm) -> str:
    extra = algorithm.model_extra or {}
    widget = str(extra.get("audio_widget") or "single_upload")
    if str(extra.get("audio_upload_disabled") or "0") in ("1", "true", "True") and widget == "single_upload":
        return "no_upload"
    return widget


def check_options(
    algorithm: Algorithm, given: Mapping[str, str | int | float] | None, account_kind: AccountKind | None
) -> dict[str, str]:
    try:
        return resolve_options(algorithm, dict(given or {}), account_kind=account_kind)
    except CatalogError as exc:
        raise PlanError(str(exc)) from None


def check_template(template: str) -> None:
    try:
        validate_template(template)
    except MediaError as exc:
        raise PlanError(str(exc)) from None


async def describe_inputs(
    expanded: Iterable[tuple[JobKind, str]], algorithm: Algorithm, options: Mapping[str, str]
) -> list[PlannedInput]:
    """Probe every local file (in worker threads) and attach cost estimates."""
    planned: list[PlannedInput] = []
    for kind, source in expanded:
        if kind == "url":
            planned.append(PlannedInput(kind="url", source=source))
            continue
        item = await anyio.to_thread.run_sync(describe_file, Path(source))
        estimate = estimate_cost(algorithm, options, item.duration_s) if item.duration_s else None
        planned.append(replace(item, estimate=estimate))
    return planned


def build_specs(
    plan: Plan,
    *,
    account_key: str,
    base_url: str,
    name_template: str,
    remote_type: str = "direct",
    is_demo: bool = False,
    batch_id: str | None = None,
) -> list[JobSpec]:
    specs = []
    for item in plan.inputs:
        specs.append(
            JobSpec(
                account_key=account_key,
                base_url=base_url,
                kind=item.kind,
                input_path=item.source if item.kind == "file" else None,
                url=item.source if item.kind == "url" else None,
                remote_type=remote_type if item.kind == "url" else None,
                sep_type=plan.algorithm.render_id,
                model_name=plan.algorithm.name,
                options=dict(plan.options),
                output_format=plan.output_format,
                output_root=str(plan.output_root),
                name_template=name_template,
                is_demo=is_demo,
                estimated_cost=item.estimate.credits if item.estimate else None,
                batch_id=batch_id,
                input_sha256=item.sha256,
                input_tags=dict(item.tags),
            )
        )
    return specs
