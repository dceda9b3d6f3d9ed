"""How a job looks to the model: one flat, stable shape shared by the separation and jobs toolsets."""

from __future__ import annotations

from pathlib import PurePath

from mvsep_mcp.jobs.models import JobRecord, JobState
from pydantic import Field

from mvsep_mcp_tools._common import ToolOutput


class StemFile(ToolOutput):
    stem: str
    path: str
    size: int
    sha256: str


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
        outputs=[StemFile(stem=o.stem, path=o.path, size=o.size, sha256=o.sha256) for o in record.outputs],
        manifest_path=record.manifest_path,
        error=record.error,
    )


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
