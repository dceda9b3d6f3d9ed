"""job_fraction: how far along a job is, rising through its stages."""

from __future__ import annotations

from typing import Any

from mvsep_mcp.jobs import JobRecord, JobSpec, JobState, OutputFile
from mvsep_mcp.jobs.progress import DOWNLOAD, PROCESSING, QUEUE, job_fraction, progress_text


def job(**over: Any) -> JobRecord:
    spec = JobSpec(account_key="a", base_url="http://h/api", input_path="/m/s.flac", sep_type=40, output_root="/o")
    return JobRecord.model_validate({"id": "j1", "spec": spec, "created_at": 0, "updated_at": 0, **over})


def test_the_stages_rise_from_zero_to_one() -> None:
    stages = [
        job(state=JobState.QUEUED),
        job(state=JobState.SUBMITTING),
        job(state=JobState.ACTIVE, mvsep_status="waiting", queue_entry=10, queue_position=10),
        job(state=JobState.ACTIVE, mvsep_status="waiting", queue_entry=10, queue_position=5),
        job(state=JobState.ACTIVE, mvsep_status="processing", running_since=100.0),
        job(state=JobState.ACTIVE, mvsep_status="distributing", chunks_done=2, chunks_total=4),
        job(state=JobState.DOWNLOADING, files_total=2),
        job(state=JobState.DOWNLOADING, files_total=2,
            outputs=[OutputFile(stem="Vocals", path="/o/v.flac", size=1, sha256="x", url="u")]),
        job(state=JobState.COMPLETED),
    ]
    values = [job_fraction(r, now=160.0) for r in stages]
    assert values == sorted(values) and values[0] == 0.0 and values[-1] == 1.0
    assert values[3] == QUEUE + (PROCESSING - QUEUE) * 0.5  # half way through the queue
    assert values[5] == PROCESSING + (DOWNLOAD - PROCESSING) * 0.5  # half of the chunks


def test_processing_follows_the_expected_time_and_never_claims_the_end() -> None:
    running = job(state=JobState.ACTIVE, mvsep_status="processing", running_since=0.0)
    assert job_fraction(running, now=30.0, expected_processing_s=60.0) == PROCESSING + (DOWNLOAD - PROCESSING) * 0.5
    assert job_fraction(running, now=600.0, expected_processing_s=60.0) < DOWNLOAD
    assert job_fraction(running, now=10_000.0) < DOWNLOAD


def test_a_failed_job_counts_as_finished() -> None:
    assert job_fraction(job(state=JobState.FAILED), now=0.0) == 1.0


def test_the_message_names_what_changed() -> None:
    one = job(state=JobState.ACTIVE, mvsep_status="waiting", queue_position=3, queue_count=5)
    assert progress_text([one]) == "j1: queued: position 3 of 5"
    two = job(id="j2", state=JobState.COMPLETED)
    assert progress_text([one, two]) == "1/2 jobs finished — j1: queued: position 3 of 5"
