"""A batch of jobs (one request's jobs, sharing ``spec.batch_id``) seen as one unit of work: the MCP tasks extension
reports a batch as a task. Nothing here knows MCP.

- ``new_batch_id()``: an unguessable id (a task id may be used as a bearer token for the jobs' state).
- ``batch_status(records, next_check_s)``: ``working`` while any job runs, ``cancelled`` when every job was cancelled,
  else ``completed`` (jobs that failed or expired are part of a completed batch's result, as they are of
  ``wait_for_jobs``); a one-line message; when it started and last changed; and when to look again.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Literal

from mvsep_mcp import policy
from mvsep_mcp.jobs.models import JobRecord, JobState
from mvsep_mcp.jobs.progress import progress_text

BatchState = Literal["working", "completed", "cancelled"]


def new_batch_id() -> str:
    return secrets.token_urlsafe(policy.TASK_ID_BYTES)


@dataclass(frozen=True)
class BatchStatus:
    state: BatchState
    message: str
    created_at: float
    updated_at: float
    poll_interval_s: float | None  # None once the batch has ended


def batch_status(records: list[JobRecord], next_check_s: float | None) -> BatchStatus:
    """``next_check_s``: how soon the runner will next learn something about the unfinished jobs (None: unknown)."""
    if not records:
        raise ValueError("a batch has at least one job")
    created = min(r.created_at for r in records)
    updated = max(r.updated_at for r in records)
    refusals = [f"{r.id}: {r.cancel_refused}" for r in records if r.cancel_refused and not r.is_terminal]
    if any(not r.is_terminal for r in records):
        interval = policy.TASK_POLL_MIN_S if next_check_s is None else next_check_s
        interval = min(policy.TASK_POLL_MAX_S, max(policy.TASK_POLL_MIN_S, interval))
        message = "; ".join([progress_text(records), *refusals])
        return BatchStatus("working", message, created, updated, interval)
    if all(r.state is JobState.CANCELLED for r in records):
        return BatchStatus("cancelled", f"All {len(records)} job(s) cancelled.", created, updated, None)
    completed = sum(1 for r in records if r.state is JobState.COMPLETED)
    return BatchStatus("completed", f"All {len(records)} job(s) finished, {completed} completed.", created,
                       updated, None)
