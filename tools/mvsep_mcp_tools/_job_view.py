"""How a job looks to the model: one flat, stable shape shared by the separation and jobs toolsets."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import PurePath

from mvsep_mcp.jobs.models import JobRecord, JobState
from mvsep_mcp.mvsep.formats import FORMAT_BY_CODE
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
    model_id: int
    output_format: str
    hash: str | None = None
    estimated_credits: int | None = None
    outputs: list[StemFile] = Field(default_factory=list)
    manifest_path: str | None = None
    error: str | None = None
    reused_from: str | None = None
    created_at: str


def _iso(ts: float | None) -> str:
    return datetime.fromtimestamp(ts or 0, tz=UTC).isoformat(timespec="seconds")


def job_view(record: JobRecord) -> JobView:
    spec = record.spec
    source = spec.url or spec.input_path or spec.target_path
    return JobView(
        id=record.id,
        state=record.state.value,
        phase=record.phase(),
        input=source,
        model=spec.model_name,
        model_id=spec.sep_type,
        output_format=FORMAT_BY_CODE[spec.output_format].name if spec.output_format in FORMAT_BY_CODE
        else str(spec.output_format),
        hash=record.hash,
        estimated_credits=spec.estimated_cost,
        outputs=[StemFile(stem=o.stem, path=o.path, size=o.size, sha256=o.sha256) for o in record.outputs],
        manifest_path=record.manifest_path,
        error=record.error,
        reused_from=record.reused_from,
        created_at=_iso(record.created_at),
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
