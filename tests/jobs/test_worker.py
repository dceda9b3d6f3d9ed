"""JobWorker, one method at a time: a temp journal (SQLite and PostgreSQL), JobChanges, JobTimers on a hand-driven
clock, and the fake client.

No scheduler runs here: each test puts a job in the state the runner would hand over, calls create / reconcile /
poll / download once, and looks at the journal row and the timers it left.
"""

from __future__ import annotations

import errno
import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from mvsep_mcp.jobs import JobJournal, JobRecord, JobState, disk, downloads
from mvsep_mcp.jobs.changes import JobChanges
from mvsep_mcp.jobs.concurrency import AccountSlot
from mvsep_mcp.jobs.creating import TOKEN_REFUSED, unreconciled_message
from mvsep_mcp.jobs.models import ChainLink, ChainStep
from mvsep_mcp.jobs.recovery import again_text
from mvsep_mcp.jobs.stats import RunnerStats
from mvsep_mcp.jobs.timers import JobTimers, RunnerTimings
from mvsep_mcp.jobs.worker import JobWorker
from mvsep_mcp.mvsep import errors
from mvsep_mcp.mvsep.models import SeparationResult
from mvsep_mcp.policy import DOWNLOAD_MAX_ATTEMPTS, POLL_GUESS_S_PER_POSITION, POLL_QUEUE_SHARE, RECONCILE_ATTEMPTS

from tests.jobs.fake_mvsep import FakeMVSep
from tests.jobs.helpers import ACCOUNT, input_file, make_spec

TIMINGS = RunnerTimings(poll_interval=2.0, poll_interval_max=5.0, unknown_status_max=60.0, reconcile_retry=11.0,
                        download_retry=13.0, create_backoff=17.0)


class Clock:
    def __init__(self) -> None:
        self.now = 1_000.0

    def __call__(self) -> float:
        return self.now


class Rig:
    """One worker and everything it writes to."""

    def __init__(self, tmp_path: Path, journal: JobJournal, fake: FakeMVSep, limit: int = 1) -> None:
        self.tmp_path = tmp_path
        self.clock = Clock()
        self.journal = journal
        self.timers = JobTimers(self.clock)
        self.stats = RunnerStats()
        self.sessions_for: list[tuple[JobRecord, list[JobRecord]]] = []  # what the DAW hook was called with
        self.worker = JobWorker(JobChanges(self.journal), self.timers, TIMINGS, self.stats, self.clock,
                                sessions_after_job=self.write_sessions)
        self.fake = fake
        self.slot = AccountSlot(ACCOUNT, fake, limit, backoff_initial=TIMINGS.create_backoff)

    def write_sessions(self, done: JobRecord, earlier: list[JobRecord]) -> list[str]:
        """The session's DAW hook, as the runner calls it: one made-up path per format asked for."""
        self.sessions_for.append((done, earlier))
        return [str(Path(done.spec.output_root) / f"{done.id}.{fmt}") for fmt in done.spec.daw_session]

    def add(self, state: JobState, name: str = "My Song", spec: dict[str, Any] | None = None,
            **fields: Any) -> JobRecord:
        spec_ = make_spec(self.tmp_path, input_file(self.tmp_path, name=name), **(spec or {}))
        return self.journal.add(spec_, state=state, **fields)

    def get(self, record: JobRecord) -> JobRecord:
        return self.journal.get(record.id)

    async def created(self, state: JobState = JobState.ACTIVE, spec: dict[str, Any] | None = None,
                      **fields: Any) -> JobRecord:
        """A job MVSep has (its hash from a real create on the fake)."""
        record = self.add(JobState.SUBMITTING, spec=spec)
        await self.worker.create(self.slot, record)
        return self.journal.update(record.id, state=state, **fields) or record


@pytest.fixture
def rig(tmp_path: Path, journal: JobJournal) -> Iterator[Rig]:
    rig = Rig(tmp_path, journal, FakeMVSep(limit=None))
    yield rig
    rig.journal.close()


# --- create ---------------------------------------------------------------------------------------------------------

async def test_create_success(rig: Rig) -> None:
    record = rig.add(JobState.SUBMITTING)
    await rig.worker.create(rig.slot, record)
    after = rig.get(record)
    assert after.state is JobState.ACTIVE and after.hash in rig.fake.jobs
    assert rig.stats.creates_sent == 1 and rig.fake.creates == 1


async def test_create_records_that_its_last_bytes_went_out(rig: Rig) -> None:
    record = rig.add(JobState.SUBMITTING, upload="sending")
    await rig.worker.create(rig.slot, record)
    assert rig.get(record).upload == "sent"


async def test_create_without_an_answer_becomes_uncertain(rig: Rig) -> None:
    rig.fake.ambiguous_after_create = 1
    record = rig.add(JobState.SUBMITTING)
    await rig.worker.create(rig.slot, record)
    after = rig.get(record)
    assert after.state is JobState.UNCERTAIN and after.hash is None
    assert rig.timers.due_at(record.id) == rig.clock.now + TIMINGS.reconcile_retry


@pytest.mark.parametrize("others", [1, 2])
async def test_a_400_with_jobs_in_flight_lowers_the_limit_and_requeues(rig: Rig, others: int) -> None:
    rig.slot.limit = 5
    for i in range(others):
        rig.add(JobState.ACTIVE, name=f"Other {i}", hash=f"h{i}", mvsep_status="processing")
    rig.add(JobState.ACTIVE, name="Finished", hash="hx", mvsep_status="done")  # not in flight
    rig.fake.create_errors = [errors.BadRequestError("You can have only 1 active separation", status_code=400)]
    record = rig.add(JobState.SUBMITTING, submitted_at=999.0)
    await rig.worker.create(rig.slot, record)
    after = rig.get(record)
    assert (after.state, after.submitted_at, after.error) == (JobState.QUEUED, None, None)
    assert rig.slot.limit == others


async def test_a_400_with_nothing_in_flight_is_permanent(rig: Rig) -> None:
    rig.fake.create_errors = [errors.BadRequestError("Seperation type is not set", status_code=400)]
    record = rig.add(JobState.SUBMITTING)
    await rig.worker.create(rig.slot, record)
    after = rig.get(record)
    assert after.state is JobState.FAILED and after.finished_at == rig.clock.now
    assert after.message == "Seperation type is not set"
    assert after.error is not None and after.error.startswith("MVSep refused the job: Seperation type is not set. ")
    assert rig.slot.limit == 1


async def test_a_429_requeues_and_defers_creates(rig: Rig) -> None:
    rig.fake.create_errors = [errors.RateLimitError("slow down", status_code=429, retry_after=30)]
    record = rig.add(JobState.SUBMITTING)
    await rig.worker.create(rig.slot, record)
    after = rig.get(record)
    assert (after.state, after.message) == (JobState.QUEUED, "slow down")
    assert rig.slot.next_create_at == rig.clock.now + 30


async def test_a_transport_error_requeues_with_back_off(rig: Rig) -> None:
    rig.fake.create_errors = [errors.ConnectError("refused")]
    record = rig.add(JobState.SUBMITTING)
    await rig.worker.create(rig.slot, record)
    assert rig.get(record).state is JobState.QUEUED
    assert rig.slot.next_create_at == rig.clock.now + TIMINGS.create_backoff


async def test_a_refused_token_fails_the_job(rig: Rig) -> None:
    rig.fake.create_errors = [errors.AuthenticationError("invalid token", status_code=401)]
    record = rig.add(JobState.SUBMITTING)
    await rig.worker.create(rig.slot, record)
    after = rig.get(record)
    assert (after.state, after.error, after.message) == (JobState.FAILED, TOKEN_REFUSED, "invalid token")


async def test_a_job_cancelled_during_its_create_stays_cancelled(rig: Rig) -> None:
    record = rig.add(JobState.SUBMITTING)
    rig.journal.update(record.id, state=JobState.CANCELLED)
    await rig.worker.create(rig.slot, record)
    assert rig.get(record).state is JobState.CANCELLED


# --- reconcile ------------------------------------------------------------------------------------------------------

async def uncertain_job(rig: Rig) -> JobRecord:
    """A job whose create reached the fake (so its history shows it) but got no answer."""
    rig.fake.ambiguous_after_create = 1
    record = rig.add(JobState.SUBMITTING)
    await rig.worker.create(rig.slot, record)
    return rig.get(record)


async def test_reconcile_adopts_the_job_found_in_history(rig: Rig) -> None:
    record = await uncertain_job(rig)
    rig.timers.failures[record.id] = 1
    await rig.worker.reconcile(rig.slot, record)
    after = rig.get(record)
    [made] = rig.fake.jobs
    assert (after.state, after.hash) == (JobState.ACTIVE, made)
    assert record.id not in rig.timers.failures and rig.stats.history_lookups == 1


async def test_reconcile_never_adopts_a_hash_another_job_owns(rig: Rig) -> None:
    record = await uncertain_job(rig)
    [made] = rig.fake.jobs
    rig.add(JobState.ACTIVE, name="My Song", hash=made)
    await rig.worker.reconcile(rig.slot, record)
    assert rig.get(record).state is JobState.UNCERTAIN


async def test_reconcile_gives_up_after_its_attempts(rig: Rig) -> None:
    record = rig.add(JobState.UNCERTAIN)  # never reached MVSep: the history is empty
    for attempt in range(1, RECONCILE_ATTEMPTS):
        await rig.worker.reconcile(rig.slot, record)
        assert rig.get(record).state is JobState.UNCERTAIN
        assert rig.timers.failures[record.id] == attempt
        assert rig.timers.due_at(record.id) == rig.clock.now + TIMINGS.reconcile_retry
    await rig.worker.reconcile(rig.slot, record)
    after = rig.get(record)
    assert (after.state, after.error, after.finished_at) == (JobState.FAILED, unreconciled_message(record),
                                                             rig.clock.now)
    assert record.id not in rig.timers.failures and record.id not in rig.timers.next_at
    assert rig.fake.creates == 0  # never created again


async def test_reconcile_queues_a_cut_off_create_again_after_its_attempts(rig: Rig) -> None:
    record = rig.add(JobState.UNCERTAIN, upload="cut_off", submitted_at=999.0)  # MVSep reset the upload
    for _ in range(RECONCILE_ATTEMPTS):
        await rig.worker.reconcile(rig.slot, record)
    after = rig.get(record)
    assert (after.state, after.submitted_at, after.upload, after.error) == (JobState.QUEUED, None, None, None)
    assert rig.fake.history_calls == RECONCILE_ATTEMPTS and rig.fake.creates == 0


async def test_reconcile_when_the_history_cannot_be_read(rig: Rig, monkeypatch: pytest.MonkeyPatch) -> None:
    async def down(start: int = 0, limit: int = 20) -> list[Any]:
        raise errors.ConnectError("refused")

    monkeypatch.setattr(rig.fake, "separation_history", down)
    record = rig.add(JobState.UNCERTAIN)
    await rig.worker.reconcile(rig.slot, record)
    assert rig.get(record).state is JobState.UNCERTAIN
    assert rig.timers.failures.get(record.id) is None  # not an attempt: nothing was learnt
    assert rig.timers.due_at(record.id) == rig.clock.now + TIMINGS.reconcile_retry


# --- poll -----------------------------------------------------------------------------------------------------------

async def test_poll_walks_the_states_and_sets_the_timers(rig: Rig) -> None:
    rig.fake.statuses = ["waiting", "waiting", "distributing", "processing", "done"]
    record = await rig.created()
    await rig.worker.poll(rig.slot, record)
    after = rig.get(record)
    assert (after.mvsep_status, after.queue_position, after.queue_count) == ("waiting", 3, 5)
    # no queue speed known yet: a guessed time per place, asked again after half of it
    guess = min(3 * POLL_GUESS_S_PER_POSITION * POLL_QUEUE_SHARE, TIMINGS.poll_interval_max)
    assert rig.timers.due_at(record.id) == rig.clock.now + guess
    await rig.worker.poll(rig.slot, after)
    assert rig.timers.due_at(record.id) == rig.clock.now + guess
    await rig.worker.poll(rig.slot, after)
    after = rig.get(record)
    assert (after.mvsep_status, after.chunks_done, after.chunks_total) == ("distributing", 1, 3)
    assert rig.timers.due_at(record.id) == rig.clock.now + TIMINGS.poll_min  # just started running: ask soon
    await rig.worker.poll(rig.slot, after)
    assert rig.get(record).mvsep_status == "processing"
    await rig.worker.poll(rig.slot, after)
    after = rig.get(record)
    assert (after.state, after.files_total) == (JobState.DOWNLOADING, 2)
    assert rig.timers.results[record.id].status == "done" and record.id not in rig.timers.next_at
    assert rig.stats.polls == 5


async def test_poll_fails_a_job_mvsep_failed(rig: Rig) -> None:
    rig.fake.statuses = ["failed"]
    record = await rig.created()
    rig.timers.later(record.id, 5)
    await rig.worker.poll(rig.slot, record)
    after = rig.get(record)
    assert (after.state, after.message, after.finished_at) == (JobState.FAILED, "Audio file is corrupted",
                                                               rig.clock.now)
    assert record.id not in rig.timers.next_at


async def test_poll_expires_a_vanished_result_and_marks_its_hash_gone(rig: Rig) -> None:
    record = await rig.created()
    assert record.hash is not None
    sharer = rig.add(JobState.COMPLETED, name="Same", hash=record.hash)  # an earlier job with the same result
    rig.fake.gone.add(record.hash)
    for _ in range(TIMINGS.gone_confirmations - 1):  # believed only after a few answers in a row, a moment apart
        await rig.worker.poll(rig.slot, record)
        assert rig.get(record).state is JobState.ACTIVE and not rig.get(record).result_gone
        assert rig.timers.due_at(record.id) == rig.clock.now + TIMINGS.gone_recheck
    await rig.worker.poll(rig.slot, record)
    after = rig.get(record)
    assert (after.state, after.finished_at) == (JobState.EXPIRED, rig.clock.now) and after.result_gone
    assert rig.get(sharer).result_gone  # never offered for reuse again


async def test_a_status_address_answering_404_ends_the_job_after_confirmation(rig: Rig) -> None:
    record = await rig.created()
    rig.fake.poll_errors = [errors.BadRequestError("Not Found", status_code=404, method="GET",
                                                   path="/separation/get")] * TIMINGS.gone_confirmations
    for _ in range(TIMINGS.gone_confirmations):
        await rig.worker.poll(rig.slot, record)
    after = rig.get(record)
    assert after.state is JobState.EXPIRED and after.error is not None and "no longer has" in after.error
    assert record.id not in rig.timers.next_at  # nothing more is asked


async def test_polls_without_an_answer_end_the_job_after_their_budget(rig: Rig) -> None:
    record = await rig.created()
    rig.fake.poll_errors = [errors.ServerError("Bad Gateway", status_code=502)] * 3
    await rig.worker.poll(rig.slot, record)
    assert rig.get(record).state is JobState.ACTIVE
    rig.clock.now += TIMINGS.poll_failure_budget
    await rig.worker.poll(rig.slot, record)
    after = rig.get(record)
    assert after.state is JobState.FAILED and after.error is not None
    assert after.error.startswith(f"MVSep gave no usable answer about job {record.id} for 30 minutes (last: Bad")
    assert "It may still finish on MVSep: call separate_audio again with the same request" in after.error
    assert after.recoverable and record.id not in rig.timers.next_at


async def test_poll_gives_up_on_an_unknown_status_after_the_budget(rig: Rig) -> None:
    rig.fake.statuses = ["paused"]
    record = await rig.created()
    await rig.worker.poll(rig.slot, record)
    assert rig.get(record).state is JobState.ACTIVE and rig.timers.unknown_since[record.id] == rig.clock.now
    rig.clock.now += TIMINGS.unknown_status_max
    await rig.worker.poll(rig.slot, record)
    after = rig.get(record)
    assert after.state is JobState.FAILED and "unknown status 'paused' for 60 s" in (after.error or "")


async def test_a_known_status_resets_the_unknown_clock(rig: Rig) -> None:
    rig.fake.statuses = ["paused", "processing"]
    record = await rig.created()
    await rig.worker.poll(rig.slot, record)
    await rig.worker.poll(rig.slot, record)
    assert record.id not in rig.timers.unknown_since


async def test_poll_errors_wait_at_least_what_mvsep_asks(rig: Rig, monkeypatch: pytest.MonkeyPatch) -> None:
    record = await rig.created()

    async def limited(hash_: str, mirror: bool = False) -> SeparationResult:
        raise errors.RateLimitError("slow down", status_code=429, retry_after=40)

    monkeypatch.setattr(rig.fake, "get_separation", limited)
    await rig.worker.poll(rig.slot, record)
    assert rig.get(record).state is JobState.ACTIVE
    assert rig.timers.due_at(record.id) == rig.clock.now + 40


async def test_a_poll_answer_for_a_job_cancelled_meanwhile_is_dropped(rig: Rig) -> None:
    record = await rig.created()
    rig.journal.update(record.id, state=JobState.CANCELLED)
    await rig.worker.poll(rig.slot, record)
    assert rig.get(record).state is JobState.CANCELLED and record.id not in rig.timers.pace.jobs


async def test_poll_follows_a_url_job_to_its_separation(rig: Rig) -> None:
    record = rig.add(JobState.SUBMITTING)
    spec = record.spec.model_copy(update={"kind": "url", "input_path": None, "url": "https://example.com/s.mp3"})
    record = rig.journal.add(spec, state=JobState.SUBMITTING)
    await rig.worker.create(rig.slot, record)
    record = rig.get(record)
    assert record.hash is None and record.remote_hash is not None
    await rig.worker.poll(rig.slot, record)  # MVSep is still fetching the URL
    assert rig.get(record).mvsep_status == "processing" and rig.fake.remote_gets == 1
    await rig.worker.poll(rig.slot, record)  # fetched: follow the separation it started
    after = rig.get(record)
    assert after.hash == f"{record.remote_hash}-final" and after.mvsep_status == "processing"
    assert after.state is JobState.ACTIVE and record.id not in rig.timers.next_at


# --- download -------------------------------------------------------------------------------------------------------

async def finished(rig: Rig, spec: dict[str, Any] | None = None) -> JobRecord:
    rig.fake.statuses = ["done"]
    record = await rig.created(spec=spec)
    await rig.worker.poll(rig.slot, record)
    return rig.get(record)


async def test_download_completes_and_writes_the_manifest(rig: Rig) -> None:
    record = await finished(rig)
    await rig.worker.download(rig.slot, record)
    after = rig.get(record)
    assert after.state is JobState.COMPLETED and after.finished_at == rig.clock.now
    assert sorted(o.stem for o in after.outputs) == ["Instrumental", "Vocals"]
    assert all(Path(o.path).is_file() for o in after.outputs)
    assert after.manifest_path is not None and Path(after.manifest_path).is_file()
    assert rig.stats.downloads == 2 and rig.stats.bytes_downloaded > 0  # as transferred (before tagging)
    assert record.id not in rig.timers.results and record.id not in rig.timers.failures
    assert rig.sessions_for == [] and after.sessions == []  # no DAW session asked for: the hook is not called


async def test_download_hands_the_completed_job_to_the_daw_hook_and_records_its_sessions(rig: Rig) -> None:
    record = await finished(rig, spec={"daw_session": ["dawproject", "rpp"]})
    await rig.worker.download(rig.slot, record)
    after = rig.get(record)
    [(done, earlier)] = rig.sessions_for
    assert earlier == []  # not a step of a chain
    assert (done.id, done.state, done.manifest_path) == (record.id, JobState.COMPLETED, after.manifest_path)
    assert sorted(o.stem for o in done.outputs) == ["Instrumental", "Vocals"]  # its stems, saved and recorded
    out = Path(record.spec.output_root)
    assert after.state is JobState.COMPLETED
    assert after.sessions == [str(out / f"{record.id}.dawproject"), str(out / f"{record.id}.rpp")]


async def test_a_chain_step_hands_the_daw_hook_the_jobs_of_the_steps_before(rig: Rig) -> None:
    before = rig.add(JobState.COMPLETED, name="Song")
    stem = input_file(rig.tmp_path, name="Song - Instrumental")  # what the step before made, uploaded from disk
    steps = [ChainStep(model="BS Roformer", model_id=40, job_id=before.id),
             ChainStep(model="Demucs4 HT", model_id=20, from_stem="Instrumental")]
    link = ChainLink(steps=steps, after=before.id, upload_path=str(stem), taken=["Vocals", "Instrumental"])
    record = await finished(rig, spec={"daw_session": ["rpp"], "chain": link})
    await rig.worker.download(rig.slot, record)
    [(done, earlier)] = rig.sessions_for
    assert done.id == record.id and [r.id for r in earlier] == [before.id]
    assert rig.get(record).sessions == [str(Path(record.spec.output_root) / f"{record.id}.rpp")]


async def test_the_last_download_to_end_gives_free_memory_back(rig: Rig, monkeypatch: pytest.MonkeyPatch) -> None:
    trims: list[int] = []

    def trim() -> bool:
        trims.append(rig.worker._jobs_downloading)
        return True

    monkeypatch.setattr("mvsep_mcp.jobs.worker.release_free_memory", trim)
    record = await finished(rig)
    await rig.worker.download(rig.slot, record)
    assert rig.get(record).state is JobState.COMPLETED and trims == [0]


async def test_download_after_a_restart_asks_for_the_file_list_again(rig: Rig) -> None:
    record = await finished(rig)
    rig.timers.results.clear()  # a new process: nothing in memory
    await rig.worker.download(rig.slot, record)
    assert rig.get(record).state is JobState.COMPLETED and rig.stats.polls == 2


async def test_download_after_a_restart_of_a_vanished_result_expires(rig: Rig) -> None:
    record = await finished(rig)
    rig.timers.results.clear()
    assert record.hash is not None
    rig.fake.gone.add(record.hash)
    await rig.worker.download(rig.slot, record)
    after = rig.get(record)
    assert after.state is JobState.EXPIRED and "no longer has the result" in (after.error or "")


async def test_download_after_a_restart_of_an_unfinished_job_goes_back_to_polling(rig: Rig) -> None:
    rig.fake.statuses = ["processing"]
    record = await rig.created(state=JobState.DOWNLOADING)
    await rig.worker.download(rig.slot, record)
    after = rig.get(record)
    assert (after.state, after.mvsep_status) == (JobState.ACTIVE, "processing")


async def test_a_failed_file_is_retried_later_and_only_it(rig: Rig) -> None:
    record = await finished(rig)
    rig.fake.download_failures = 1
    await rig.worker.download(rig.slot, record)
    after = rig.get(record)
    assert after.state is JobState.DOWNLOADING and len(after.outputs) == 1
    assert rig.timers.failures[record.id] == 1
    assert rig.timers.due_at(record.id) == rig.clock.now + TIMINGS.download_retry
    partial = [p for p in (rig.tmp_path / "out").rglob("*") if p.is_file() and p.name.startswith(".")]
    assert len(partial) == 1 and str(partial[0]) in after.partials  # kept, and known, for the resumed download
    await rig.worker.download(rig.slot, after)
    done = rig.get(record)
    assert done.state is JobState.COMPLETED and len(done.outputs) == 2 and rig.fake.download_calls == 3
    assert done.partials == [] and not [p for p in (rig.tmp_path / "out").rglob(".*") if p.is_file()]


async def test_downloads_that_keep_failing_fail_the_job(rig: Rig) -> None:
    record = await finished(rig)
    rig.timers.failures[record.id] = DOWNLOAD_MAX_ATTEMPTS - 1
    rig.fake.download_failures = 2
    await rig.worker.download(rig.slot, record)
    after = rig.get(record)
    assert after.state is JobState.FAILED and after.error is not None
    assert after.error.startswith(f"Downloading the results of job {record.id} failed (connection reset")
    assert after.error.endswith("call separate_audio again with the same request (same input, model, options and "
                                "format): MVSep keeps the result about 72 hours and it is downloaded again without a "
                                "new job or credits.")
    assert after.recoverable
    assert after.partials == [] and not [p for p in (rig.tmp_path / "out").rglob(".*") if p.is_file()]


async def test_an_unwritable_output_folder_fails_at_once(rig: Rig) -> None:
    record = await finished(rig)
    (rig.tmp_path / "out").write_text("a file where the output folder should be")
    await rig.worker.download(rig.slot, record)
    after = rig.get(record)
    assert after.state is JobState.FAILED and "a file is in the way of one of its parent folders" in (after.error or "")
    assert rig.fake.download_calls == 0


# --- a disk that cannot take the files --------------------------------------------------------------------------------

async def test_a_folder_without_room_for_the_announced_sizes_fails_before_any_download(
        rig: Rig, monkeypatch: pytest.MonkeyPatch) -> None:
    rig.fake.size_text = "2.00 MB"
    record = await finished(rig)
    monkeypatch.setattr(disk, "free_bytes", lambda folder: 3_000_000)
    await rig.worker.download(rig.slot, record)
    after = rig.get(record)
    assert after.state is JobState.FAILED and after.recoverable and rig.fake.download_calls == 0
    assert after.error == (
        f"The output folder is out of space ({rig.tmp_path / 'out'}; this job's files need about 4.2 MB; 3.0 MB is "
        f"free), so the files of job {record.id} were not saved: free some space there or choose another output "
        f"folder, then {again_text(after)}.")


@pytest.mark.parametrize(("code", "words"), [
    (errno.ENOSPC, "is out of space ("),
    (errno.EDQUOT, "disk quota of the output folder is used up"),
    (errno.EFBIG, "refuses files this large"),
    (errno.EROFS, "is read-only"),
    (errno.EACCES, "may not write into the output folder"),
])
async def test_a_disk_that_refuses_the_bytes_fails_the_job_at_once_in_one_sentence(
        rig: Rig, monkeypatch: pytest.MonkeyPatch, code: int, words: str) -> None:
    record = await finished(rig)
    monkeypatch.setattr(disk, "free_bytes", lambda folder: 1_000_000)
    rig.fake.download_errors = [OSError(code, os.strerror(code))]
    await rig.worker.download(rig.slot, record)
    after = rig.get(record)
    assert after.state is JobState.FAILED and after.recoverable and words in (after.error or "")
    assert str(rig.tmp_path / "out") in (after.error or "") and "Errno" not in (after.error or "")
    assert rig.fake.download_calls == 2 and record.id not in rig.timers.next_at  # not tried again
    assert after.partials == [] and not [p for p in (rig.tmp_path / "out").rglob(".*") if p.is_file()]


async def test_a_manifest_the_disk_refuses_fails_the_save_and_keeps_the_stems_recorded(
        rig: Rig, monkeypatch: pytest.MonkeyPatch) -> None:
    def full(*args: Any) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    record = await finished(rig)
    monkeypatch.setattr(downloads, "write_job_manifest", full)
    await rig.worker.download(rig.slot, record)
    after = rig.get(record)
    assert after.state is JobState.FAILED and after.recoverable and "is out of space" in (after.error or "")
    assert len(after.outputs) == 2 and after.manifest_path is None


async def test_a_stem_of_the_right_length_is_kept_when_its_size_text_disagrees(rig: Rig) -> None:
    rig.fake.size_text = "9.99 MB"
    record = await finished(rig)
    await rig.worker.download(rig.slot, record)
    after = rig.get(record)
    assert after.state is JobState.COMPLETED and rig.fake.download_calls == 2
    assert all("where MVSep announced 9.99 MB: kept, the audio is complete" in o.warnings[0] for o in after.outputs)
    manifest = json.loads(Path(after.manifest_path or "").read_text())
    assert all(o["warnings"] == [w for r in after.outputs if r.stem == o["stem"] for w in r.warnings]
               for o in manifest["outputs"])
