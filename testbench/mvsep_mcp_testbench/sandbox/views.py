"""JSON bodies of the sandbox's answers, shaped like the recorded MVSep responses.

``root`` is the request's own origin (``http://127.0.0.1:PORT``) so that every URL points back at the sandbox.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from mvsep_mcp_testbench.sandbox.mvsep_names import date_text, download_name, hash_stem, size_text
from mvsep_mcp_testbench.sandbox.separations import Job, Phase, RemoteJob
from mvsep_mcp_testbench.sandbox.state import SandboxState

STATUS_MESSAGES = {
    "processing": "Your file is being processed",
    "distributing": "Your file is being processed on several GPUs",
    "merging": "Parts of your file are being merged",
    "not_found": "Separation not found",
}


def output_format_label(state: SandboxState, code: int) -> str:
    formats = getattr(state.audio, "OUTPUT_FORMATS", {})
    fmt = formats.get(code)
    return str(fmt.label) if fmt is not None else str(code)


def separation_body(state: SandboxState, job: Job | None, root: str) -> dict[str, Any]:
    """``{success, status, data}`` of ``GET /separation/get``."""
    if job is None:
        return {"success": True, "status": "not_found", "data": {"message": STATUS_MESSAGES["not_found"]}}
    phase = state.observe(job)
    status = "not_found" if phase.status in ("expired", "cancelled") else phase.status
    return {"success": True, "status": status, "data": _status_data(state, job, phase, status, root)}


def _status_data(state: SandboxState, job: Job, phase: Phase, status: str, root: str) -> dict[str, Any]:
    if status == "waiting":
        behind = state.waiting_behind(job)
        return {"queue_count": phase.current_order + behind, "current_order": phase.current_order}
    if status == "distributing":
        return {"queue_count": state.waiting_behind(job), "current_order": phase.current_order,
                "finished_chunks": phase.finished_chunks, "all_chunks": phase.all_chunks,
                "message": STATUS_MESSAGES["distributing"]}
    if status in ("processing", "merging", "not_found"):
        return {"message": STATUS_MESSAGES[status]}
    if status == "failed":
        return {"message": job.failure or job.render_error or "Error while processing the file"}
    return done_data(state, job, root)


def done_data(state: SandboxState, job: Job, root: str) -> dict[str, Any]:
    assert job.input_path is not None
    host = root.split("://", 1)[-1]
    ext = job.input_path.suffix
    data: dict[str, Any] = {
        "algorithm": job.algorithm.name,
        "algorithm_description": job.algorithm.description,
        "size": size_text(job.input_size),
        "output_format": output_format_label(state, job.output_format),
        "tags": job.tags or {"audio": {}, "tags": {}},
        "input_file": {
            "url": f"{root}/storage/temp/{job.hash}",
            "size": size_text(job.input_size),
            "download": f"{hash_stem(job.hash)}_[{host}]{ext}",
        },
        "files": [file_item(item, root) for item in job.files],
        "date": date_text(job.created_at),
    }
    if job.transcription is not None:
        data["transcription"] = job.transcription
    return data


def file_item(item: Any, root: str) -> dict[str, Any]:
    path = Path(item.path)
    size = int(item.size) if getattr(item, "size", None) is not None else path.stat().st_size
    return {"type": item.label, "url": f"{root}/storage/processed/{path.name}", "size": size_text(size),
            "download": download_name(path.name)}


def remote_body(state: SandboxState, remote: RemoteJob | None, root: str) -> dict[str, Any]:
    if remote is None:
        return {"success": True, "status": "not_found", "data": {"message": STATUS_MESSAGES["not_found"]}}
    status = remote.status(state.now(), state.timing.remote_download_s)
    if status == "failed":
        return {"success": True, "status": "failed", "data": {"message": remote.error}}
    if status == "done":
        return {"success": True, "status": "done",
                "data": {"link": f"{root}/api/separation/get?hash={remote.job_hash}", "hash": remote.job_hash}}
    waiting = sum(1 for r in state.remote_jobs.values() if r.job_hash is None and r.error is None)
    return {"success": True, "status": "waiting", "data": {"queue_count": max(1, waiting), "current_order": 1}}


def history_item(state: SandboxState, job: Job) -> dict[str, Any]:
    now = state.now()
    exists = state.observe(job).status not in ("expired", "cancelled")
    hours_left = (job.expires_at - now) / 3600.0
    return {
        "id": job.id,
        "hash": job.hash,
        "created_at": date_text(job.created_at),
        "updated_at": date_text(job.created_at),
        "job_exists": exists,
        "credits": job.credits if exists else None,
        "time_left": math.floor(hours_left) if hours_left < 0 else math.ceil(hours_left),
        "algorithm": job.algorithm.summary(with_group=True),
    }


def demo_item(job: Job, root: str) -> dict[str, Any]:
    return {"hash": job.hash, "date": date_text(job.created_at, seconds=False),
            "input_audio": f"{root}/storage/temp/{job.hash}", "algorithm": job.algorithm.summary(with_group=False)}


def queue_body(state: SandboxState, token: str | None) -> dict[str, Any]:
    counts = state.queue_counts()
    body: dict[str, Any] = {"queue": counts}
    account = state.accounts.get(token)
    if account is not None:
        plan = "premium" if account.spends_credits else "registered"
        body["plan"] = {"name": plan, "queue": counts[plan], "current_queue": state.in_flight(account.token)}
    return body
