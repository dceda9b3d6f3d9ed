"""How a job looks to the model: one flat, stable shape shared by the separation and jobs toolsets.

Saved files show as the settings say (``results_as``, set for each call by ``_registration.tool``): ``both`` (paths,
and a ``resource_link`` per stem, manifest and DAW session file that a host can read through ``resources/read`` or
attach), ``paths`` (paths only, no links) or ``resources`` (links and resource URIs only: no path on the server's
disk is shown).

On a hosted server results are always ``resources``, and each stem also carries a signed, expiring download ``url``
(from the presenter ``account_of`` sets for the call); any folder shown is a path inside the user's own storage.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path, PurePath
from urllib.parse import quote

from mcp_types import ResourceLink
from mvsep_mcp.daw.ni_stems import NI_STEMS_MIME
from mvsep_mcp.jobs.models import JobRecord, JobState, OutputFile
from mvsep_mcp.mvsep.formats import MIME_BY_EXT
from mvsep_mcp.results.sessions import SESSION_FORMATS, SESSION_MIME
from mvsep_mcp.results.stored import audio_mime
from pydantic import Field
from pydantic.json_schema import SkipJsonSchema

from mvsep_mcp_tools._caller import PRESENTER
from mvsep_mcp_tools._registration import ToolOutput, results_as, shows_paths

STEM_TEMPLATE = "mvsep://jobs/{job_id}/files/{stem}.{ext}"
MANIFEST_TEMPLATE = "mvsep://jobs/{job_id}/manifest"
SESSION_TEMPLATE = "mvsep://jobs/{job_id}/sessions/{name}.{ext}"
# what a file under files/ is served as, by extension: stems and mixes in MVSep's formats, DJ stems (.stem.mp4)
MADE_MIME = {**MIME_BY_EXT, "mp4": NI_STEMS_MIME}


def stem_uri(job_id: str, output: OutputFile) -> str:
    ext = PurePath(output.path).suffix.lstrip(".").lower()
    return STEM_TEMPLATE.format(job_id=quote(job_id, safe=""), stem=quote(output.stem, safe=""), ext=ext)


def manifest_uri(job_id: str) -> str:
    return MANIFEST_TEMPLATE.format(job_id=quote(job_id, safe=""))


def session_uri(job_id: str, path: str | Path) -> str:
    name = PurePath(path)
    return SESSION_TEMPLATE.format(job_id=quote(job_id, safe=""), name=quote(name.stem, safe=""),
                                   ext=name.suffix.lstrip(".").lower())


def session_links(job_id: str, paths: Iterable[str | Path]) -> list[ResourceLink]:
    """A ``resource_link`` per DAW session file of the job (none when results show paths only)."""
    if results_as.get() == "paths":
        return []
    links = []
    for path in paths:
        kind = next((k for k in SESSION_FORMATS if PurePath(path).suffix.lower() == f".{k}"), None)
        if kind is None:
            continue
        links.append(ResourceLink(type="resource_link", uri=session_uri(job_id, path), name=PurePath(path).name,
                                  mime_type=SESSION_MIME[kind], size=_size(path),
                                  description=f"DAW session of job {job_id}"))
    return links


def made_uri(job_id: str, path: str | Path) -> str:
    """A file made from the job's stems, beside them under ``files/``: named by its file name."""
    name = PurePath(path)
    return STEM_TEMPLATE.format(job_id=quote(job_id, safe=""), stem=quote(name.stem, safe=""),
                                ext=name.suffix.lstrip(".").lower())


def made_links(job_id: str, paths: Iterable[str | Path]) -> list[ResourceLink]:
    """A ``resource_link`` per file made from the job's stems (DJ stems, practice mixes); none when results show
    paths only."""
    if results_as.get() == "paths":
        return []
    return [ResourceLink(type="resource_link", uri=made_uri(job_id, path), name=PurePath(path).name,
                         mime_type=MADE_MIME.get(PurePath(path).suffix.lower().lstrip("."), "application/octet-stream"),
                         size=_size(path), description=f"Made from the stems of job {job_id}") for path in paths]


def _size(path: str | Path) -> int | None:
    try:
        return Path(path).stat().st_size
    except OSError:
        return None


class StemFile(ToolOutput):
    stem: str
    uri: str
    path: str | None = None
    size: int  # (each stem's SHA-256 is in the manifest)
    # hosted only: a signed download URL (expires). Left out of the published schema (additional properties are
    # allowed), so tools/list stays as it is for everyone else.
    url: SkipJsonSchema[str | None] = None


class JobView(ToolOutput):
    id: str
    state: str = Field(description="queued|submitting|uncertain|active|downloading|completed|failed|cancelled|expired")
    phase: str
    input: str | None = None
    model: str
    hash: str | None = None
    outputs: list[StemFile] = Field(default_factory=list)
    manifest_path: str | None = None
    error: str | None = None


def job_view(record: JobRecord) -> JobView:
    spec = record.spec
    source = spec.url or spec.input_path or spec.target_path
    paths = shows_paths()
    return JobView(
        id=record.id,
        state=record.state.value,
        phase=record.phase(),
        input=source if paths or spec.url else (PurePath(source).name if source else None),
        model=spec.model_name,
        hash=record.hash,
        outputs=[StemFile(stem=o.stem, uri=stem_uri(record.id, o), path=o.path if paths else None, size=o.size,
                          url=download_url(o.path)) for o in record.outputs],
        manifest_path=record.manifest_path if paths else None,
        error=_sentence(record.error),
    )


def _sentence(text: str | None) -> str | None:
    """A job's failure as the user may see it (hosted mode: no server path)."""
    presenter = PRESENTER.get()
    return presenter.text(text) if text and presenter is not None else text


def file_links(records: Iterable[JobRecord]) -> list[ResourceLink]:
    """A ``resource_link`` per saved stem, manifest, DAW session file and file made from the stems of the completed
    jobs (none when results show paths only)."""
    if results_as.get() == "paths":
        return []
    links: list[ResourceLink] = []
    for record in records:
        if record.state is not JobState.COMPLETED:
            continue
        for output in record.outputs:
            links.append(ResourceLink(type="resource_link", uri=stem_uri(record.id, output),
                                      name=PurePath(output.path).name, mime_type=audio_mime(output), size=output.size,
                                      description=f"{output.stem} stem of job {record.id}"))
        if record.manifest_path:
            links.append(ResourceLink(type="resource_link", uri=manifest_uri(record.id),
                                      name=PurePath(record.manifest_path).name, mime_type="application/json",
                                      description=f"Manifest of job {record.id}"))
        links += session_links(record.id, record.sessions)
        links += made_links(record.id, record.made)
    return links


def shown_path(path: str | Path) -> str:
    """A folder or file as this call may show it: as it is locally (only its name when results show no server paths);
    inside the user's storage on a hosted server."""
    presenter = PRESENTER.get()
    if presenter is None:
        return str(path) if shows_paths() else PurePath(path).name
    return presenter.path(path) or "(not in your storage)"


def download_url(path: str | Path) -> str | None:
    """A hosted server's signed download URL of a file in the user's storage (None elsewhere)."""
    presenter = PRESENTER.get()
    return presenter.url(path) if presenter is not None else None


def job_line(view: JobView) -> str:
    source = view.input or ""
    name = source if source.startswith(("http://", "https://")) else PurePath(source).name or view.id
    line = f"- {view.id} {name}: {view.phase}"
    if view.state == JobState.COMPLETED.value and view.outputs:
        first = view.outputs[0].path
        where = f" in {PurePath(first).parent}" if first else " (as resources)"
        line += f" → {', '.join(o.stem for o in view.outputs)}{where}"
        line += "".join(f"\n  {o.stem}: {o.url}" for o in view.outputs if o.url)  # hosted: signed downloads
    elif view.error and view.error not in line:
        line += f" — {view.error}"
    return line
