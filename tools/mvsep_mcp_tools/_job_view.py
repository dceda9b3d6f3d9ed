"""How a job looks to the model: one flat, stable shape shared by the separation and jobs toolsets.

On a hosted server (a presenter set for the call by ``account_of``) a file shows as its path inside the user's own
storage plus a signed, expiring download ``url``, never as a path on the server's disk.
"""

from __future__ import annotations

from pathlib import Path, PurePath

from mvsep_mcp.jobs.models import JobRecord, JobState
from pydantic import Field
from pydantic.json_schema import SkipJsonSchema

from mvsep_mcp_tools._common import PRESENTER, ToolOutput


class StemFile(ToolOutput):
    stem: str
    path: str
    size: int
    sha256: str
    # hosted only: a signed download URL (expires). Left out of the published schema (additional properties are
    # allowed), so tools/list stays as it is for everyone else; resource_link blocks carry the same URLs.
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
    return JobView(
        id=record.id,
        state=record.state.value,
        phase=record.phase(),
        input=source,
        model=spec.model_name,
        hash=record.hash,
        outputs=[StemFile(stem=o.stem, path=shown_path(o.path), size=o.size, sha256=o.sha256, url=_url(o.path))
                 for o in record.outputs],
        manifest_path=shown_path(record.manifest_path) if record.manifest_path else None,
        error=record.error,
    )


def shown_path(path: str | Path) -> str:
    """A path as this call may show it: as it is locally; inside the user's storage on a hosted server."""
    presenter = PRESENTER.get()
    if presenter is None:
        return str(path)
    return presenter.path(path) or "(not in your storage)"


def _url(path: str) -> str | None:
    presenter = PRESENTER.get()
    return presenter.url(path) if presenter is not None else None


def job_line(view: JobView) -> str:
    source = view.input or ""
    name = source if source.startswith(("http://", "https://")) else PurePath(source).name or view.id
    line = f"- {view.id} {name}: {view.phase}"
    if view.state == JobState.COMPLETED.value and view.outputs:
        folder = PurePath(view.outputs[0].path).parent
        line += f" → {', '.join(o.stem for o in view.outputs)} in {folder}"
    elif view.error and view.error not in line:
        line += f" — {view.error}"
    return line
