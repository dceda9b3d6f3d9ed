"""interpret: what one answer of ``/separation/get`` means for a job (pure: record + result in, journal fields out)."""

from __future__ import annotations

from typing import Any

import pytest
from mvsep_mcp.jobs import JobRecord, JobSpec, JobState
from mvsep_mcp.jobs.polling import PollOutcome, interpret
from mvsep_mcp.mvsep.models import SeparationResult


def record(**over: Any) -> JobRecord:
    spec = JobSpec(account_key="a", base_url="http://h/api", input_path="/music/song.flac", sep_type=40,
                   output_root="/out")
    return JobRecord.model_validate({"id": "job1", "spec": spec, "state": JobState.ACTIVE, "hash": "h1",
                                     "created_at": 0, "updated_at": 0, **over})


def poll(status: str, data: dict[str, Any] | None = None, *, job: JobRecord | None = None,
         unknown_for: float = 0.0) -> PollOutcome:
    result = SeparationResult.model_validate({"success": True, "status": status, "data": data or {}})
    return interpret(job or record(), result, unknown_for=unknown_for, unknown_max=60.0)


def test_waiting_reports_the_queue_and_keeps_polling() -> None:
    outcome = poll("waiting", {"queue_count": 5, "current_order": 3})
    assert outcome.fields == {"mvsep_status": "waiting", "queue_position": 3, "queue_count": 5, "message": None}
    assert outcome.keep_polling and not outcome.done


@pytest.mark.parametrize("status", ["processing", "merging"])
def test_running_clears_the_queue_and_keeps_polling(status: str) -> None:
    outcome = poll(status, {"message": "Separating..."})
    assert outcome.fields == {"mvsep_status": status, "message": "Separating...", "queue_position": None,
                              "queue_count": None}
    assert outcome.keep_polling and not outcome.done


def test_distributing_reports_chunks() -> None:
    outcome = poll("distributing", {"queue_count": 0, "current_order": 0, "finished_chunks": 2, "all_chunks": 7,
                                    "message": "x"})
    assert outcome.fields == {"mvsep_status": "distributing", "message": "x", "queue_position": 0, "queue_count": 0,
                              "chunks_done": 2, "chunks_total": 7}
    assert outcome.keep_polling


def test_done_moves_to_downloading() -> None:
    files = [{"type": "Vocals", "url": "http://h/v.flac"}, {"type": "Other", "url": "http://h/o.flac"}]
    outcome = poll("done", {"files": files, "message": "ok"})
    assert outcome.done and not outcome.keep_polling
    assert outcome.fields == {"state": JobState.DOWNLOADING, "mvsep_status": "done", "message": "ok",
                              "queue_position": None, "queue_count": None, "files_total": 2}


@pytest.mark.parametrize("status", ["failed", "error", "FAILED"])
def test_failed_keeps_mvsep_message_in_a_sentence(status: str) -> None:
    outcome = poll(status, {"message": "Audio file is corrupted."})
    assert not outcome.keep_polling and not outcome.done
    assert outcome.fields == {
        "state": JobState.FAILED, "mvsep_status": status.lower(), "message": "Audio file is corrupted.",
        "error": "MVSep could not process the job: Audio file is corrupted. Check the input file and the model's "
                 "options, then submit it again (or try another model).",
    }


def test_failed_without_a_reason() -> None:
    assert poll("failed").fields["error"].startswith("MVSep could not process the job: no reason given. ")


def test_not_found_expires_a_normal_job() -> None:
    outcome = poll("not_found")
    assert not outcome.keep_polling
    assert outcome.fields == {
        "state": JobState.EXPIRED, "mvsep_status": "not_found",
        "error": "MVSep no longer has the result of job job1 (results are kept about 72 hours); submit the file "
                 "again to run it anew.",
    }


def test_not_found_sends_a_reused_job_back_to_the_queue() -> None:
    job = record(reused_from="job0", remote_hash="r1", submitted_at=5.0, mvsep_status="processing")
    outcome = poll("not_found", job=job)
    assert outcome.fields == {"state": JobState.QUEUED, "hash": None, "remote_hash": None, "reused_from": None,
                              "mvsep_status": None, "submitted_at": None, "result_gone": False}
    assert not outcome.keep_polling and not outcome.done


def test_not_found_expires_a_refetch_even_when_it_reuses() -> None:
    # a refetch never creates: when the result is gone, it is gone
    outcome = poll("not_found", job=record(reused_from="job0", refetch=True))
    assert outcome.fields["state"] is JobState.EXPIRED


def test_an_unknown_status_keeps_polling_within_the_budget() -> None:
    outcome = poll("paused", {"message": "hm"}, unknown_for=59.0)
    assert outcome.fields == {"mvsep_status": "paused", "message": "hm"}
    assert outcome.keep_polling


def test_an_unknown_status_past_the_budget_fails_the_job() -> None:
    outcome = poll("paused", unknown_for=61.9)
    assert not outcome.keep_polling
    assert outcome.fields == {
        "state": JobState.FAILED, "mvsep_status": "paused",
        "error": "MVSep kept reporting the unknown status 'paused' for 61 s, so the job was given up; check it in "
                 "your MVSep history and submit it again if it did not finish.",
    }
