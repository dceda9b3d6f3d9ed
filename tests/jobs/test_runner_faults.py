"""The runner when things go wrong: refused creates, failed/expired jobs, cancels, broken downloads, hostile names."""

# ruff: noqa: ASYNC240 - tests inspect small files on disk directly
from __future__ import annotations

from pathlib import Path

import anyio
import pytest
from mvsep_mcp.jobs import JobNotCancellable, JobNotFound, JobState, ProgressUpdate, ResultExpired
from mvsep_mcp.jobs.journal import JobJournal
from mvsep_mcp.mvsep import errors

from tests.jobs.fake_mvsep import FakeMVSep
from tests.jobs.helpers import ACCOUNT, finish, input_file, make_runner, make_spec, running


async def run_one(tmp_path: Path, journal: JobJournal, fake: FakeMVSep,  # type: ignore[no-untyped-def]
                  **runner_kw: object):
    runner = make_runner(tmp_path, journal, **runner_kw)
    await runner.attach_account(ACCOUNT, fake)
    async with running(runner):
        [done] = await finish(runner, await runner.submit([make_spec(tmp_path, input_file(tmp_path))]))
    return runner, done


async def test_bad_token_fails_with_a_sentence(tmp_path: Path, journal: JobJournal) -> None:
    fake = FakeMVSep()
    fake.create_errors = [errors.AuthenticationError("invalid token", status_code=401)]
    _, done = await run_one(tmp_path, journal, fake)
    assert done.state is JobState.FAILED and "token was refused" in done.error
    assert fake.creates == 0


async def test_400_with_nothing_in_flight_is_permanent(tmp_path: Path, journal: JobJournal) -> None:
    fake = FakeMVSep()
    fake.create_errors = [errors.BadRequestError("Seperation type is not set", status_code=400)]
    runner, done = await run_one(tmp_path, journal, fake)
    assert done.state is JobState.FAILED and "Seperation type is not set" in done.error
    assert done.message == "Seperation type is not set"
    assert fake.create_calls == 1 and runner.concurrency(ACCOUNT) == 1


@pytest.mark.parametrize("error", [
    errors.RateLimitError("slow down", status_code=429, retry_after=0.01),
    errors.ConnectError("refused"),
    errors.ServerError("Bad gateway", status_code=502),
])
async def test_transient_create_errors_stay_queued_and_retry(tmp_path: Path, journal: JobJournal,
                                                             error: Exception) -> None:
    fake = FakeMVSep()
    fake.create_errors = [error]
    runner, done = await run_one(tmp_path, journal, fake)
    assert done.state is JobState.COMPLETED
    assert fake.create_calls == 2 and fake.creates == 1 and runner.stats.creates_sent == 2


async def test_missing_input_file_fails_before_upload(tmp_path: Path, journal: JobJournal) -> None:
    fake = FakeMVSep()
    runner = make_runner(tmp_path, journal)
    await runner.attach_account(ACCOUNT, fake)
    song = input_file(tmp_path)
    spec = make_spec(tmp_path, song)
    song.unlink()
    async with running(runner):
        [done] = await finish(runner, await runner.submit([spec]))
    assert done.state is JobState.FAILED and "no longer exists" in done.error and fake.create_calls == 0


async def test_failed_status_reports_mvsep_message(tmp_path: Path, journal: JobJournal) -> None:
    _, done = await run_one(tmp_path, journal, FakeMVSep(statuses=["waiting", "processing", "failed"]))
    assert done.state is JobState.FAILED and "Audio file is corrupted" in done.error
    assert done.mvsep_status == "failed" and done.finished_at


async def test_unknown_status_is_bounded(tmp_path: Path, journal: JobJournal) -> None:
    _, done = await run_one(tmp_path, journal, FakeMVSep(statuses=["weird"]), unknown_status_max=0.05)
    assert done.state is JobState.FAILED and "'weird'" in done.error


async def test_vanished_result_expires(tmp_path: Path, journal: JobJournal) -> None:
    fake = FakeMVSep(statuses=["waiting"] * 10_000)
    runner = make_runner(tmp_path, journal)
    await runner.attach_account(ACCOUNT, fake)
    async with running(runner):
        [record] = await runner.submit([make_spec(tmp_path, input_file(tmp_path))])
        [record] = await runner.wait(ACCOUNT, [record.id], timeout=10, until="submitted")
        fake.gone.add(record.hash)
        [done] = await finish(runner, [record])
    assert done.state is JobState.EXPIRED and "72 hours" in done.error


async def test_cancel_queued_active_and_processing(tmp_path: Path, journal: JobJournal) -> None:
    fake = FakeMVSep(statuses=["waiting"] * 10_000)
    runner = make_runner(tmp_path, journal)
    await runner.attach_account(ACCOUNT, fake)
    specs = [make_spec(tmp_path, input_file(tmp_path, name=f"S{i}", seed=i)) for i in range(2)]
    async with running(runner):
        first, second = await runner.submit(specs)
        await runner.wait(ACCOUNT, [first.id, second.id], timeout=10, until="submitted")
        assert runner.get(ACCOUNT, second.id).state is JobState.QUEUED  # behind the free account's limit
        cancelled = await runner.cancel(ACCOUNT, second.id)
        assert cancelled.state is JobState.CANCELLED and fake.cancel_calls == 0
        cancelled = await runner.cancel(ACCOUNT, first.id)
        assert cancelled.state is JobState.CANCELLED and fake.cancel_calls == 1
        with pytest.raises(JobNotCancellable, match="already ended"):
            await runner.cancel(ACCOUNT, first.id)
        with pytest.raises(JobNotFound):
            await runner.cancel("another-account", first.id)

        fake.statuses = ["processing"] * 10_000
        [third] = await runner.submit([make_spec(tmp_path, input_file(tmp_path, name="S3", seed=3))])
        with anyio.fail_after(10):
            while runner.get(ACCOUNT, third.id).mvsep_status != "processing":
                await runner.wait(ACCOUNT, [third.id], timeout=0.05)
        with pytest.raises(JobNotCancellable, match="already processing"):
            await runner.cancel(ACCOUNT, third.id)
    assert fake.creates == 2


async def test_failed_download_leaves_no_partial_file_and_retries(tmp_path: Path, journal: JobJournal) -> None:
    fake = FakeMVSep()
    fake.download_failures = 1
    _, done = await run_one(tmp_path, journal, fake)
    assert done.state is JobState.COMPLETED
    assert fake.download_calls == 3 and fake.downloads == 2
    files = [p for p in (tmp_path / "out").rglob("*") if p.is_file()]
    assert not [p for p in files if p.name.endswith(".part")]
    assert len([p for p in files if p.suffix == ".flac"]) == 2


async def test_downloads_that_keep_failing_fail_the_job_cleanly(tmp_path: Path, journal: JobJournal) -> None:
    fake = FakeMVSep()
    fake.download_failures = 1_000
    _, done = await run_one(tmp_path, journal, fake)
    assert done.state is JobState.FAILED and done.recoverable and "call separate_audio again" in (done.error or "")
    assert not [p for p in (tmp_path / "out").rglob("*") if p.is_file()]


async def test_server_names_cannot_escape_the_output_root(tmp_path: Path, journal: JobJournal) -> None:
    fake = FakeMVSep(stems=("Vocals", "Instrumental", "Other"))
    fake.file_types = ["../../../evil", None, "/etc/passwd"]
    fake.file_downloads = ["x.flac", "..\\..\\..\\escape_bass.flac", "../../abs.flac"]
    _, done = await run_one(tmp_path, journal, fake)
    assert done.state is JobState.COMPLETED, done.error
    root = (tmp_path / "out").resolve()
    assert len(done.outputs) == 3
    for output in done.outputs:
        assert Path(output.path).resolve().is_relative_to(root)
    everything = [p for p in tmp_path.rglob("*") if p.is_file() and not p.resolve().is_relative_to(root)]
    assert all(p.parent.name == "in" or p.name.startswith("journal") for p in everything), everything


async def test_wait_times_out_with_progress(tmp_path: Path, journal: JobJournal) -> None:
    fake = FakeMVSep(statuses=["waiting"] * 10_000)
    runner = make_runner(tmp_path, journal)
    await runner.attach_account(ACCOUNT, fake)
    updates: list[ProgressUpdate] = []

    async def report(update: ProgressUpdate) -> None:
        updates.append(update)

    async with running(runner):
        records = await runner.submit([make_spec(tmp_path, input_file(tmp_path, name=f"S{i}", seed=i))
                                       for i in range(2)])
        result = await runner.wait(ACCOUNT, [r.id for r in records], timeout=0.3, on_progress=report)
    assert [r.state for r in result] == [JobState.ACTIVE, JobState.QUEUED]
    texts = " ".join(u.text for u in updates)
    assert "queued: position 3 of 5" in texts and "queued locally" in texts
    assert all(u.total == 2 and u.done == 0 for u in updates)
    assert [u.progress for u in updates] == sorted(u.progress for u in updates)  # never goes down


async def test_wait_reports_downloads_and_completion(tmp_path: Path, journal: JobJournal) -> None:
    fake = FakeMVSep()
    runner = make_runner(tmp_path, journal)
    await runner.attach_account(ACCOUNT, fake)
    updates: list[ProgressUpdate] = []

    async def report(update: ProgressUpdate) -> None:
        updates.append(update)

    async with running(runner):
        records = await runner.submit([make_spec(tmp_path, input_file(tmp_path))])
        await runner.wait(ACCOUNT, [r.id for r in records], timeout=20, on_progress=report)
    assert (updates[-1].progress, updates[-1].done, updates[-1].total) == (1.0, 1, 1)
    assert "completed" in updates[-1].text and any("downloading" in u.text for u in updates)
    assert [u.progress for u in updates] == sorted(u.progress for u in updates)


async def test_refetch_downloads_again_without_create(tmp_path: Path, journal: JobJournal) -> None:
    fake = FakeMVSep()
    runner = make_runner(tmp_path, journal)
    await runner.attach_account(ACCOUNT, fake)
    async with running(runner):
        [first] = await finish(runner, await runner.submit([make_spec(tmp_path, input_file(tmp_path))]))
        again = await runner.refetch(ACCOUNT, first.id, str(tmp_path / "copy"))
        assert again.reused_from == first.id and again.refetch
        [again] = await finish(runner, [again])
        assert again.state is JobState.COMPLETED and len(again.outputs) == 2
        assert all(Path(o.path).resolve().is_relative_to((tmp_path / "copy").resolve()) for o in again.outputs)
        fake.gone.add(first.hash)
        gone = await runner.refetch(ACCOUNT, first.id, str(tmp_path / "third"))
        [gone] = await finish(runner, [gone])
        assert gone.state is JobState.EXPIRED  # never falls back to a create
        with pytest.raises(ResultExpired, match="72 hours"):
            await runner.refetch(ACCOUNT, gone.id, str(tmp_path / "fourth"))
    assert fake.creates == 1
