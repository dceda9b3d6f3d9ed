"""What one poll of MVSep means for a job: a pure function from (record, result) to the journal update.

Statuses: waiting / processing / distributing / merging keep the job active (when to ask again is
:mod:`mvsep_mcp.jobs.pacing`'s business);
done moves it to downloading; failed (or error) fails it with MVSep's message; not_found expires it, or sends a
reused job back to the queue for a fresh create; anything else counts as "not finished" for a bounded time.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from mvsep_mcp.jobs.models import JobRecord, JobState
from mvsep_mcp.mvsep.models import FAILED_STATUSES, RUNNING_STATUSES, SeparationResult
from mvsep_mcp.policy import RESULT_RETENTION_HOURS


@dataclass
class PollOutcome:
    """The fields to write (``expect`` the job still active), and whether to keep polling."""

    fields: dict[str, Any] = field(default_factory=dict)
    keep_polling: bool = False
    done: bool = False  # the result is complete: download it now


def expired_message(record: JobRecord) -> str:
    return (
        f"MVSep no longer has the result of job {record.id} (results are kept about {RESULT_RETENTION_HOURS} "
        f"hours); submit the file again to run it anew."
    )


def failed_message(mvsep_message: str | None) -> str:
    reason = (mvsep_message or "no reason given").strip().rstrip(".")
    return (
        f"MVSep could not process the job: {reason}. Check the input file and the model's options, then submit it "
        f"again (or try another model)."
    )


def unknown_status_message(status: str, seconds: float) -> str:
    return (
        f"MVSep kept reporting the unknown status {status!r} for {int(seconds)} s, so the job was given up; check it "
        f"in your MVSep history and submit it again if it did not finish."
    )


def interpret(
    record: JobRecord,
    result: SeparationResult,
    *,
    unknown_for: float,
    unknown_max: float,
) -> PollOutcome:
    """Interpret a ``SeparationResult`` of ``/separation/get`` for ``record``.

    ``unknown_for`` is how long the job has reported an unknown status (``unknown_max``: how long that may last).
    """
    status = str(result.status or "").lower()
    data = result.data
    if status == "waiting":
        return PollOutcome(
            fields={"mvsep_status": status, "queue_position": data.current_order, "queue_count": data.queue_count,
                    "message": None},
            keep_polling=True,
        )
    if status in RUNNING_STATUSES:
        fields: dict[str, Any] = {"mvsep_status": status, "message": data.message}
        if status == "distributing":
            fields.update(queue_position=data.current_order, queue_count=data.queue_count,
                          chunks_done=data.finished_chunks, chunks_total=data.all_chunks)
        else:
            fields.update(queue_position=None, queue_count=None)
        return PollOutcome(fields=fields, keep_polling=True)
    if status == "done":
        return PollOutcome(
            fields={"state": JobState.DOWNLOADING, "mvsep_status": status, "message": data.message,
                    "queue_position": None, "queue_count": None, "files_total": len(data.files)},
            done=True,
        )
    if status in FAILED_STATUSES:
        return PollOutcome(fields={"state": JobState.FAILED, "mvsep_status": status, "message": data.message,
                                   "error": failed_message(data.message)})
    if status == "not_found":
        if record.reused_from and not record.refetch:
            # the earlier result is gone: run it afresh, as a new create
            return PollOutcome(fields={"state": JobState.QUEUED, "hash": None, "remote_hash": None,
                                       "reused_from": None, "mvsep_status": None, "submitted_at": None,
                                       "result_gone": False})
        return PollOutcome(fields={"state": JobState.EXPIRED, "mvsep_status": status,
                                   "error": expired_message(record)})
    if unknown_for >= unknown_max:
        return PollOutcome(fields={"state": JobState.FAILED, "mvsep_status": status,
                                   "error": unknown_status_message(status, unknown_for)})
    return PollOutcome(fields={"mvsep_status": status, "message": data.message}, keep_polling=True)
