"""How far along a job is, as one number that only goes up: for progress notifications that move.

A job's share of the way runs through its stages: recorded (0), uploading, waiting in MVSep's queue (measured from
the place it entered at), processing (chunks done, or the time it has run against how long jobs of its kind take),
downloading (files done), finished (1). A batch is the sum of its jobs.
"""

from __future__ import annotations

import math

from mvsep_mcp.jobs.models import JobRecord, JobState
from mvsep_mcp.policy import PROGRESS_JOBS_NAMED, PROGRESS_PROCESSING_GUESS_S

# where each stage starts on the way from 0 to 1
UPLOAD, QUEUE, PROCESSING, DOWNLOAD, DONE = 0.0, 0.1, 0.3, 0.85, 1.0


def job_fraction(record: JobRecord, now: float, expected_processing_s: float | None = None) -> float:
    """How far along ``record`` is, from 0 to 1."""
    state = record.state
    if state.is_terminal:
        return DONE
    if state is JobState.QUEUED:
        return 0.0
    if state in (JobState.SUBMITTING, JobState.UNCERTAIN):
        return UPLOAD + (QUEUE - UPLOAD) * 0.5
    if state is JobState.DOWNLOADING:
        total = record.files_total or 0
        share = len(record.outputs) / total if total else 0.0
        return DOWNLOAD + (DONE - DOWNLOAD) * min(1.0, share)
    status = record.mvsep_status
    if status in (None, "waiting"):
        entry, position = record.queue_entry, record.queue_position
        moved = 0.0 if not entry or position is None else min(1.0, max(0.0, (entry - position) / entry))
        return QUEUE + (PROCESSING - QUEUE) * moved
    if record.chunks_total:
        share = (record.chunks_done or 0) / record.chunks_total
    elif record.running_since is not None:
        elapsed = max(0.0, now - record.running_since)
        if expected_processing_s:
            share = min(0.95, elapsed / expected_processing_s)
        else:  # nothing known: creeps towards the end, never reaches it
            share = min(0.95, 1.0 - math.exp(-elapsed / PROGRESS_PROCESSING_GUESS_S))
    else:
        share = 0.0
    return PROCESSING + (DOWNLOAD - PROCESSING) * share


def progress_text(records: list[JobRecord]) -> str:
    """One line on what the jobs are doing: how many finished, then the unfinished ones' phases (a few)."""
    done = sum(1 for r in records if r.is_terminal)
    busy = [r for r in records if not r.is_terminal]
    if len(records) == 1:
        return f"{records[0].id}: {records[0].phase()}"
    shown = "; ".join(f"{r.id}: {r.phase()}" for r in busy[:PROGRESS_JOBS_NAMED])
    more = f"; {len(busy) - PROGRESS_JOBS_NAMED} more" if len(busy) > PROGRESS_JOBS_NAMED else ""
    return f"{done}/{len(records)} jobs finished" + (f" — {shown}{more}" if busy else "")
