"""Crash and restart: a new runner on the same journal finishes what the last one started, creating nothing twice
(on SQLite and on PostgreSQL)."""

# ruff: noqa: ASYNC240 - tests inspect small files on disk directly
from __future__ import annotations

import time
from datetime import UTC, datetime
from pathlib import Path

import anyio
import anyio.lowlevel
from mvsep_mcp.jobs import JobRunner, JobState
from mvsep_mcp.jobs.creating import build_request
from mvsep_mcp.jobs.journal import JobJournal
from mvsep_mcp.mvsep import errors

from tests.conftest import OpenJournal
from tests.jobs.fake_mvsep import FakeMVSep
from tests.jobs.helpers import ACCOUNT, FAST, finish, input_file, make_runner, make_spec, no_sessions, running


async def test_restart_after_create_polls_the_same_job(tmp_path: Path, open_journal: OpenJournal) -> None:
    fake = FakeMVSep(statuses=["waiting"] * 10_000)
    runner = make_runner(tmp_path, open_journal())
    await runner.attach_account(ACCOUNT, fake)
    async with running(runner):
        [record] = await runner.submit([make_spec(tmp_path, input_file(tmp_path))])
        [record] = await runner.wait(ACCOUNT, [record.id], timeout=10, until="submitted")
        assert record.state is JobState.ACTIVE and record.hash
    runner.journal.close()

    fake.jobs[record.hash].statuses = ["processing", "done"]
    fake.jobs[record.hash].step = 0
    second = JobRunner(open_journal(), sessions_after_job=no_sessions, **FAST)
    await second.attach_account(ACCOUNT, fake)
    async with running(second):
        [done] = await finish(second, [record])
    assert done.state is JobState.COMPLETED and done.hash == record.hash
    assert fake.creates == 1 and fake.create_calls == 1 and second.stats.creates_sent == 0


async def test_restart_mid_download_skips_recorded_files(tmp_path: Path, open_journal: OpenJournal) -> None:
    fake = FakeMVSep(stems=("Vocals", "Drums", "Bass"))
    runner = make_runner(tmp_path, open_journal(), download_concurrency=1)
    await runner.attach_account(ACCOUNT, fake)
    original = fake.download

    async def slow_after_first(url: str, dest: Path, progress: object = None) -> int:
        if fake.downloads >= 1:
            await anyio.sleep(30)
        return await original(url, dest, progress)

    fake.download = slow_after_first  # type: ignore[method-assign]
    async with running(runner):
        [record] = await runner.submit([make_spec(tmp_path, input_file(tmp_path))])
        with anyio.fail_after(10):
            while len(runner.get(ACCOUNT, record.id).outputs) < 1:
                await runner.wait(ACCOUNT, [record.id], timeout=0.05)
    record = runner.get(ACCOUNT, record.id)
    assert record.state is JobState.DOWNLOADING and len(record.outputs) == 1
    assert not list((tmp_path / "out").rglob("*.part"))  # the cancelled download left nothing behind
    runner.journal.close()

    fake.download = original  # type: ignore[method-assign]
    second = JobRunner(open_journal(), sessions_after_job=no_sessions, **FAST)
    await second.attach_account(ACCOUNT, fake)
    async with running(second):
        [done] = await finish(second, [record])
    assert done.state is JobState.COMPLETED and len(done.outputs) == 3
    assert fake.downloads == 3 and fake.creates == 1
    assert len(list((tmp_path / "out").rglob("*.flac"))) == 3


async def test_leftover_submitting_is_reconciled_from_history(tmp_path: Path, open_journal: OpenJournal) -> None:
    fake = FakeMVSep()
    journal = open_journal()
    record = journal.add(make_spec(tmp_path, input_file(tmp_path)))
    record = journal.update(record.id, state=JobState.SUBMITTING, submitted_at=time.time())
    await fake.create_separation(build_request(record))  # it reached MVSep, then the process died
    runner = JobRunner(journal, sessions_after_job=no_sessions, **FAST)
    await runner.attach_account(ACCOUNT, fake)
    async with running(runner):
        [done] = await finish(runner, [record])
    assert done.state is JobState.COMPLETED, done.error
    assert done.hash == next(iter(fake.jobs))
    assert fake.creates == 1 and runner.stats.creates_sent == 0 and fake.history_calls >= 1


async def test_leftover_submitting_not_in_history_fails_with_advice(tmp_path: Path, open_journal: OpenJournal) -> None:
    fake = FakeMVSep()
    other = FakeMVSep()
    journal = open_journal()
    record = journal.add(make_spec(tmp_path, input_file(tmp_path)))
    journal.update(record.id, state=JobState.SUBMITTING, submitted_at=time.time())
    await other.create_separation(build_request(record))  # only on another account
    elsewhere = journal.add(make_spec(tmp_path, input_file(tmp_path, name="Else")))
    created = await fake.create_separation(build_request(elsewhere))
    journal.update(elsewhere.id, state=JobState.ACTIVE, hash=created.hash, submitted_at=time.time())
    runner = JobRunner(journal, sessions_after_job=no_sessions, **FAST)
    await runner.attach_account(ACCOUNT, fake)
    async with running(runner):
        [done] = await finish(runner, [record])
    assert done.state is JobState.FAILED
    assert "may or may not have reached MVSep" in done.error and "history" in done.error
    assert "call the separation tool again explicitly" in done.error
    assert fake.create_calls == 1 and runner.stats.creates_sent == 0  # only the one made by the test


async def test_ambiguous_create_is_reconciled(tmp_path: Path, open_journal: OpenJournal) -> None:
    fake = FakeMVSep()
    fake.ambiguous_after_create = 1
    runner = make_runner(tmp_path, open_journal())
    await runner.attach_account(ACCOUNT, fake)
    async with running(runner):
        [done] = await finish(runner, await runner.submit([make_spec(tmp_path, input_file(tmp_path))]))
    assert done.state is JobState.COMPLETED, done.error
    assert fake.create_calls == 1 and fake.creates == 1


async def test_ambiguous_create_that_never_arrived_fails(tmp_path: Path, open_journal: OpenJournal) -> None:
    fake = FakeMVSep()
    fake.create_errors = [
        errors.AmbiguousCreateError("no answer", sep_type=40, file_name="x", sent_at=datetime.now(UTC))]
    runner = make_runner(tmp_path, open_journal())
    await runner.attach_account(ACCOUNT, fake)
    async with running(runner):
        [done] = await finish(runner, await runner.submit([make_spec(tmp_path, input_file(tmp_path))]))
    assert done.state is JobState.FAILED and "may or may not" in done.error
    assert fake.create_calls == 1 and fake.history_calls >= 3


async def test_leftover_submitting_whose_upload_never_finished_is_sent_again(tmp_path: Path,
                                                                             journal: JobJournal) -> None:
    """Killed before the upload's last bytes went out: MVSep cannot have the job, so it is queued again at once."""
    fake = FakeMVSep()
    record = journal.add(make_spec(tmp_path, input_file(tmp_path)))
    journal.update(record.id, state=JobState.SUBMITTING, submitted_at=time.time(), upload="sending")
    runner = JobRunner(journal, sessions_after_job=no_sessions, **FAST)
    await runner.attach_account(ACCOUNT, fake)
    async with running(runner):
        [done] = await finish(runner, [record])
    assert done.state is JobState.COMPLETED, done.error
    assert fake.creates == fake.create_calls == 1 and fake.history_calls == 0


async def test_leftover_submitting_whose_upload_was_sent_is_looked_up_first(tmp_path: Path,
                                                                            journal: JobJournal) -> None:
    fake = FakeMVSep()
    record = journal.add(make_spec(tmp_path, input_file(tmp_path)))
    record = journal.update(record.id, state=JobState.SUBMITTING, submitted_at=time.time(), upload="sent")
    await fake.create_separation(build_request(record))  # MVSep took it, then the process died
    runner = JobRunner(journal, sessions_after_job=no_sessions, **FAST)
    await runner.attach_account(ACCOUNT, fake)
    async with running(runner):
        [done] = await finish(runner, [record])
    assert done.state is JobState.COMPLETED and done.hash == next(iter(fake.jobs))
    assert fake.creates == 1 and runner.stats.creates_sent == 0 and fake.history_calls >= 1


async def test_a_create_cut_off_by_a_reset_is_sent_again_once_the_history_confirms(tmp_path: Path) -> None:
    """A connection reset before any answer: MVSep never read the whole request. Once its history shows no such job,
    the job is created again (and only then)."""
    fake = FakeMVSep()
    fake.create_errors = [errors.AmbiguousCreateError("reset", sep_type=40, file_name="x", sent_at=datetime.now(UTC),
                                                      cut_off=True)]
    runner = make_runner(tmp_path)
    await runner.attach_account(ACCOUNT, fake)
    async with running(runner):
        [done] = await finish(runner, await runner.submit([make_spec(tmp_path, input_file(tmp_path))]))
    assert done.state is JobState.COMPLETED, done.error
    assert fake.create_calls == 2 and fake.creates == 1 and fake.history_calls >= 3


async def test_temporary_files_of_ended_jobs_are_removed_at_start(tmp_path: Path, journal: JobJournal) -> None:
    """A job that ended while one of its downloads was half done (cancelled, expired) leaves no hidden file behind
    once a server starts on the journal again."""
    leftover = tmp_path / ".My Song (Vocals).flac.0123abcd.part"
    leftover.write_bytes(b"half a stem")
    record = journal.add(make_spec(tmp_path, input_file(tmp_path)))
    journal.update(record.id, state=JobState.EXPIRED, partials=[str(leftover)])
    runner = JobRunner(journal, sessions_after_job=no_sessions, **FAST)
    await runner.attach_account(ACCOUNT, FakeMVSep())
    async with running(runner):
        await anyio.lowlevel.checkpoint()
    assert not leftover.exists()
    assert journal.get(record.id).partials == []
