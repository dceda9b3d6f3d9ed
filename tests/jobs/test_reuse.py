"""One result, one set of files, and no paying twice: the same song asked for while its job still runs (in this
process or another sharing the journal) waits for that job and takes its files; a job whose save failed is followed
again by the same request instead of a new create."""

# ruff: noqa: ASYNC240 - tests inspect small files on disk directly
from __future__ import annotations

import errno
from pathlib import Path

import anyio
from mvsep_mcp.jobs import JobRunner, JobState
from mvsep_mcp.jobs.journal import JobJournal
from mvsep_mcp.media.verify import StemRejected

from tests.conftest import OpenJournal
from tests.jobs.fake_mvsep import FakeMVSep
from tests.jobs.helpers import ACCOUNT, FAST, finish, input_file, make_runner, make_spec, no_sessions, running


async def attached(tmp_path: Path, journal: JobJournal, fake: FakeMVSep) -> tuple[JobRunner, Path]:
    """A runner working ``fake``'s account on ``journal``, and a song to ask for."""
    runner = make_runner(tmp_path, journal)
    await runner.attach_account(ACCOUNT, fake)
    return runner, input_file(tmp_path)


def stems_on_disk(tmp_path: Path) -> list[str]:
    return sorted(p.name for p in (tmp_path / "out").rglob("*.flac"))


async def test_the_same_song_asked_twice_at_once_is_created_once_into_one_set_of_files(
        tmp_path: Path, journal: JobJournal) -> None:
    fake = FakeMVSep(premium=True, limit=None, statuses=["waiting", "processing", "processing", "done"])
    runner, song = await attached(tmp_path, journal, fake)
    async with running(runner):
        [first] = await runner.submit([make_spec(tmp_path, song)])
        [second] = await runner.submit([make_spec(tmp_path, song)])
        assert second.state is JobState.QUEUED and second.waits_for == first.id
        assert second.phase().startswith(f"waiting for job {first.id} (the same request into the same folder)")
        first, second = await finish(runner, [first, second])
    assert (first.state, second.state) == (JobState.COMPLETED, JobState.COMPLETED)
    assert fake.creates == 1 and fake.download_calls == 2
    assert [o.path for o in second.outputs] == [o.path for o in first.outputs]
    assert second.manifest_path == first.manifest_path and second.waits_for is None
    assert len(stems_on_disk(tmp_path)) == 2 and not [n for n in stems_on_disk(tmp_path) if "(2)" in n]


async def test_two_processes_asked_for_the_same_song_at_once_create_once_into_one_set_of_files(
        tmp_path: Path, open_journal: OpenJournal) -> None:
    fake = FakeMVSep(premium=True, limit=None)
    runners = [JobRunner(open_journal(), sessions_after_job=no_sessions, **FAST),  # two processes, one journal
               JobRunner(open_journal(), sessions_after_job=no_sessions, **FAST)]
    song = input_file(tmp_path)
    for runner in runners:
        await runner.attach_account(ACCOUNT, fake)
    async with running(runners[0]), running(runners[1]):
        submitted: list[list[str]] = [[], []]

        async def ask(n: int) -> None:
            submitted[n] = [r.id for r in await runners[n].submit([make_spec(tmp_path, song)])]

        async with anyio.create_task_group() as tg:
            tg.start_soon(ask, 0)
            tg.start_soon(ask, 1)
        done = [(await finish(runners[n], [runners[n].get(ACCOUNT, submitted[n][0])]))[0] for n in (0, 1)]
    assert [r.state for r in done] == [JobState.COMPLETED] * 2
    assert fake.creates == 1 and fake.download_calls == 2
    assert {tuple(o.path for o in r.outputs) for r in done} == {tuple(o.path for o in done[0].outputs)}
    assert len(stems_on_disk(tmp_path)) == 2 and not [n for n in stems_on_disk(tmp_path) if "(2)" in n]


async def test_a_job_waiting_for_one_mvsep_failed_fails_the_same_way(tmp_path: Path, journal: JobJournal) -> None:
    fake = FakeMVSep(statuses=["waiting", "processing", "failed"])
    runner, song = await attached(tmp_path, journal, fake)
    async with running(runner):
        [first] = await runner.submit([make_spec(tmp_path, song)])
        [second] = await runner.submit([make_spec(tmp_path, song)])
        first, second = await finish(runner, [first, second])
    assert (first.state, second.state) == (JobState.FAILED, JobState.FAILED)
    assert second.error == first.error and fake.creates == 1


async def test_a_job_waiting_for_a_cancelled_one_is_created_itself(tmp_path: Path, journal: JobJournal) -> None:
    fake = FakeMVSep(statuses=["waiting"] * 30 + ["done"])
    runner, song = await attached(tmp_path, journal, fake)
    async with running(runner):
        [first] = await runner.submit([make_spec(tmp_path, song)])
        [second] = await runner.submit([make_spec(tmp_path, song)])
        await runner.wait(ACCOUNT, [first.id], timeout=5, until="submitted")
        await runner.cancel(ACCOUNT, first.id)
        [second] = await finish(runner, [second])
    assert second.state is JobState.COMPLETED and fake.creates == 2


async def test_after_a_failed_save_the_same_request_creates_nothing_and_the_stems_arrive(
        tmp_path: Path, journal: JobJournal) -> None:
    fake = FakeMVSep()
    fake.download_errors = [OSError(errno.ENOSPC, "No space left on device")]  # the disk fills under one stem
    runner, song = await attached(tmp_path, journal, fake)
    async with running(runner):
        [first] = await finish(runner, await runner.submit([make_spec(tmp_path, song)]))
        assert first.state is JobState.FAILED and first.recoverable and "is out of space" in (first.error or "")
        saved_before = [o.path for o in first.outputs]  # the other stem made it before the disk was full
        [second] = await runner.submit([make_spec(tmp_path, song)])  # room was made; the same request again
        assert second.state is JobState.ACTIVE and second.reused_from == first.id
        [second] = await finish(runner, [second])
    assert second.state is JobState.COMPLETED and fake.creates == 1
    assert len(second.outputs) == 2 and all(p in [o.path for o in second.outputs] for p in saved_before)
    assert fake.download_calls == 2 + (2 - len(saved_before))  # only what was not saved is fetched again
    assert len(stems_on_disk(tmp_path)) == 2 and not [n for n in stems_on_disk(tmp_path) if "(2)" in n]


async def test_a_result_mvsep_served_wrong_is_not_followed_again(tmp_path: Path, journal: JobJournal) -> None:
    fake = FakeMVSep()
    fake.download_errors = [StemRejected("the Vocals file (flac) arrived as an HTML page")] * 20
    runner, song = await attached(tmp_path, journal, fake)
    async with running(runner):
        [first] = await finish(runner, await runner.submit([make_spec(tmp_path, song)]))
        assert first.state is JobState.FAILED and not first.recoverable
        assert "submit the file again to run the job anew" in (first.error or "")
        fake.download_errors = []
        [second] = await finish(runner, await runner.submit([make_spec(tmp_path, song)]))
    assert second.state is JobState.COMPLETED and second.reused_from is None and fake.creates == 2
