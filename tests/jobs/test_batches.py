"""A batch of jobs as one unit (what a task reports): its state, message, times and when to look again."""

from __future__ import annotations

from pathlib import Path

import pytest
from mvsep_mcp import policy
from mvsep_mcp.jobs.batches import batch_status, new_batch_id
from mvsep_mcp.jobs.models import JobRecord, JobState

from tests.jobs.helpers import input_file, make_spec


def record(tmp_path: Path, job_id: str, state: JobState, *, created: float = 100.0, updated: float = 200.0,
           **fields: object) -> JobRecord:
    spec = make_spec(tmp_path, input_file(tmp_path))
    return JobRecord(id=job_id, spec=spec, state=state, created_at=created, updated_at=updated, **fields)


def test_ids_are_unguessable() -> None:
    ids = {new_batch_id() for _ in range(1000)}
    assert len(ids) == 1000 and all(len(i) >= 24 for i in ids)


def test_working_while_any_job_runs(tmp_path: Path) -> None:
    jobs = [record(tmp_path, "j1", JobState.COMPLETED, created=50.0, updated=300.0),
            record(tmp_path, "j2", JobState.ACTIVE, mvsep_status="processing")]
    status = batch_status(jobs, next_check_s=7.5)
    assert status.state == "working" and status.poll_interval_s == 7.5
    assert (status.created_at, status.updated_at) == (50.0, 300.0)
    assert "1/2 jobs finished" in status.message and "j2: processing" in status.message


@pytest.mark.parametrize(("next_check", "interval"), [(None, policy.TASK_POLL_MIN_S), (0.0, policy.TASK_POLL_MIN_S),
                                                      (10_000.0, policy.TASK_POLL_MAX_S)])
def test_the_poll_interval_stays_within_bounds(tmp_path: Path, next_check: float | None, interval: float) -> None:
    status = batch_status([record(tmp_path, "j1", JobState.ACTIVE)], next_check_s=next_check)
    assert status.poll_interval_s == interval


def test_a_refused_cancel_shows_while_the_job_runs(tmp_path: Path) -> None:
    job = record(tmp_path, "j1", JobState.ACTIVE, cancel_refused="Job j1 is already processing on MVSep.")
    assert "j1: Job j1 is already processing on MVSep." in batch_status([job], None).message


def test_ended_batches(tmp_path: Path) -> None:
    cancelled = [record(tmp_path, "j1", JobState.CANCELLED), record(tmp_path, "j2", JobState.CANCELLED)]
    assert batch_status(cancelled, None).state == "cancelled"
    mixed = [record(tmp_path, "j1", JobState.CANCELLED), record(tmp_path, "j2", JobState.FAILED),
             record(tmp_path, "j3", JobState.COMPLETED)]
    status = batch_status(mixed, 3.0)
    assert status.state == "completed" and status.poll_interval_s is None
    assert status.message == "All 3 job(s) finished, 1 completed."
