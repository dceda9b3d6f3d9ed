"""The runner's normal paths: one job end to end, batches within the account limit, result reuse."""

# ruff: noqa: ASYNC240 - tests inspect small files on disk directly
from __future__ import annotations

import json
from pathlib import Path

import anyio
from mutagen import File as MutagenFile
from mvsep_mcp.jobs import JobState
from mvsep_mcp.jobs.journal import JobJournal
from mvsep_mcp.media.files import sha256_file
from mvsep_mcp.mvsep import models

from tests.jobs.fake_mvsep import FakeMVSep
from tests.jobs.helpers import ACCOUNT, finish, input_file, make_runner, make_spec, running


async def test_single_job_end_to_end(tmp_path: Path, journal: JobJournal) -> None:
    fake = FakeMVSep()
    runner = make_runner(tmp_path, journal)
    await runner.attach_account(ACCOUNT, fake)
    assert runner.concurrency(ACCOUNT) == 1
    song = input_file(tmp_path)
    async with running(runner):
        [record] = await runner.submit([make_spec(tmp_path, song)])
        assert record.state is JobState.QUEUED
        [done] = await finish(runner, [record])
    assert done.state is JobState.COMPLETED, done.error
    assert fake.creates == 1 and runner.stats.creates_sent == 1
    assert runner.stats.downloads == 2 and runner.stats.bytes_downloaded > 0
    assert sorted(o.stem for o in done.outputs) == ["Instrumental", "Vocals"]
    out_root = (tmp_path / "out").resolve()
    for output in done.outputs:
        path = Path(output.path)
        assert path.is_file() and path.resolve().is_relative_to(out_root)
        assert sha256_file(path) == output.sha256
        tags = MutagenFile(path)
        assert tags["title"] == [f"Test Song ({output.stem})"]  # the input's own title wins over MVSep's
        assert tags["artist"] == ["Test Artist"]
    assert "Test Artist - Test Song" in done.outputs[0].path
    assert not [p for p in out_root.rglob("*.part")]
    manifest = json.loads(Path(done.manifest_path).read_text())
    assert manifest["job"]["hash"] == done.hash and manifest["job"]["model"] == "BS Roformer"
    assert {o["stem"] for o in manifest["outputs"]} == {"Vocals", "Instrumental"}
    assert done.finished_at and done.submitted_at


async def test_mvsep_tags_fill_an_untagged_input(tmp_path: Path, journal: JobJournal) -> None:
    fake = FakeMVSep()
    runner = make_runner(tmp_path, journal)
    await runner.attach_account(ACCOUNT, fake)
    song = input_file(tmp_path, name="bare", tagged=False)
    async with running(runner):
        [done] = await finish(runner, await runner.submit([make_spec(tmp_path, song)]))
    vocals = next(o for o in done.outputs if o.stem == "Vocals")
    assert MutagenFile(vocals.path)["title"] == ["Server Title (Vocals)"]


async def test_batch_on_free_account_never_two_in_flight(tmp_path: Path, journal: JobJournal) -> None:
    fake = FakeMVSep(limit=None, statuses=["waiting", "waiting", "processing", "done"])
    runner = make_runner(tmp_path, journal)
    await runner.attach_account(ACCOUNT, fake)
    specs = [make_spec(tmp_path, input_file(tmp_path, name=f"Song {i}", seed=i)) for i in range(3)]
    async with running(runner):
        records = await runner.submit(specs)
        done = await finish(runner, records)
    assert [r.state for r in done] == [JobState.COMPLETED] * 3
    assert fake.creates == 3 and fake.max_in_flight == 1
    assert done[0].submitted_at <= done[1].submitted_at <= done[2].submitted_at  # oldest first


async def test_premium_batch_runs_in_parallel(tmp_path: Path, journal: JobJournal) -> None:
    fake = FakeMVSep(premium=True, limit=None, statuses=["waiting"] * 3 + ["done"])
    runner = make_runner(tmp_path, journal)
    await runner.attach_account(ACCOUNT, fake)
    assert runner.concurrency(ACCOUNT) == 10
    specs = [make_spec(tmp_path, input_file(tmp_path, name=f"Song {i}", seed=i)) for i in range(3)]
    async with running(runner):
        await finish(runner, await runner.submit(specs))
    assert fake.max_in_flight == 3


async def test_concurrency_400_requeues_and_lowers_the_limit(tmp_path: Path, journal: JobJournal) -> None:
    fake = FakeMVSep(limit=2, statuses=["waiting"] * 3 + ["done"])
    runner = make_runner(tmp_path, journal)
    await runner.attach_account(ACCOUNT, fake, concurrency=5)
    specs = [make_spec(tmp_path, input_file(tmp_path, name=f"Song {i}", seed=i)) for i in range(4)]
    async with running(runner):
        done = await finish(runner, await runner.submit(specs))
    assert [r.state for r in done] == [JobState.COMPLETED] * 4
    assert fake.creates == 4 and fake.create_calls > 4
    assert runner.concurrency(ACCOUNT) == 2
    assert fake.max_in_flight == 2


async def test_identical_request_reuses_the_hash(tmp_path: Path, journal: JobJournal) -> None:
    fake = FakeMVSep()
    runner = make_runner(tmp_path, journal)
    await runner.attach_account(ACCOUNT, fake)
    song = input_file(tmp_path)
    async with running(runner):
        [first] = await finish(runner, await runner.submit([make_spec(tmp_path, song)]))
        [second] = await runner.submit([make_spec(tmp_path, song, output_root=str(tmp_path / "elsewhere"))])
        assert second.state is JobState.ACTIVE and second.reused_from == first.id and second.hash == first.hash
        [second] = await finish(runner, [second])
    assert second.state is JobState.COMPLETED
    assert fake.creates == 1 and runner.stats.reused_results == 1
    assert all(Path(o.path).is_relative_to((tmp_path / "elsewhere").resolve()) for o in second.outputs)


async def test_identical_requests_in_one_batch_create_once(tmp_path: Path, journal: JobJournal) -> None:
    fake = FakeMVSep(premium=True, limit=None)
    runner = make_runner(tmp_path, journal)
    await runner.attach_account(ACCOUNT, fake)
    song = input_file(tmp_path)
    async with running(runner):
        done = await finish(runner, await runner.submit([make_spec(tmp_path, song, output_root=str(tmp_path / d))
                                                         for d in ("a", "b")]))
    assert [r.state for r in done] == [JobState.COMPLETED] * 2
    assert fake.creates == 1


async def test_files_on_disk_are_reused_without_download(tmp_path: Path, journal: JobJournal) -> None:
    fake = FakeMVSep()
    runner = make_runner(tmp_path, journal)
    await runner.attach_account(ACCOUNT, fake)
    song = input_file(tmp_path)
    async with running(runner):
        [first] = await finish(runner, await runner.submit([make_spec(tmp_path, song)]))
        downloads = fake.download_calls
        [second] = await runner.submit([make_spec(tmp_path, song)])
    assert second.state is JobState.COMPLETED and second.reused_from == first.id
    assert [o.path for o in second.outputs] == [o.path for o in first.outputs]
    assert second.manifest_path == first.manifest_path
    assert fake.download_calls == downloads and fake.creates == 1
    assert len(list((tmp_path / "out").rglob("*.flac"))) == 2


async def test_changed_files_on_disk_are_downloaded_again(tmp_path: Path, journal: JobJournal) -> None:
    fake = FakeMVSep()
    runner = make_runner(tmp_path, journal)
    await runner.attach_account(ACCOUNT, fake)
    song = input_file(tmp_path)
    async with running(runner):
        [first] = await finish(runner, await runner.submit([make_spec(tmp_path, song)]))
        Path(first.outputs[0].path).write_bytes(b"edited")
        [second] = await runner.submit([make_spec(tmp_path, song)])
        assert second.state is JobState.ACTIVE  # the MVSep result is reused instead
        [second] = await finish(runner, [second])
    assert second.state is JobState.COMPLETED and fake.creates == 1
    assert {o.path for o in second.outputs}.isdisjoint({o.path for o in first.outputs})  # never overwritten


async def test_not_found_on_reuse_falls_back_to_a_fresh_create(tmp_path: Path, journal: JobJournal) -> None:
    fake = FakeMVSep()
    runner = make_runner(tmp_path, journal)
    await runner.attach_account(ACCOUNT, fake)
    song = input_file(tmp_path)
    async with running(runner):
        [first] = await finish(runner, await runner.submit([make_spec(tmp_path, song)]))
        fake.gone.add(first.hash)
        [second] = await runner.submit([make_spec(tmp_path, song, output_root=str(tmp_path / "b"))])
        assert second.reused_from == first.id
        [second] = await finish(runner, [second])
    assert second.state is JobState.COMPLETED, second.error
    assert second.reused_from is None and second.hash != first.hash
    assert fake.creates == 2


async def test_url_job_follows_the_remote_hash(tmp_path: Path, journal: JobJournal) -> None:
    fake = FakeMVSep()
    runner = make_runner(tmp_path, journal)
    await runner.attach_account(ACCOUNT, fake)
    spec = make_spec(tmp_path, input_file(tmp_path), kind="url", url="https://files.test/track.mp3",
                     input_path=None, input_sha256=None)
    async with running(runner):
        [done] = await finish(runner, await runner.submit([spec]))
    assert done.state is JobState.COMPLETED, done.error
    assert done.remote_hash and done.hash == done.remote_hash + "-final"
    assert fake.remote_gets >= 2 and len(done.outputs) == 2


class _HeldPoll(FakeMVSep):
    """A fake whose status requests wait until ``go`` is set (a poll under way)."""

    def __init__(self) -> None:
        super().__init__()
        self.polling, self.go = anyio.Event(), anyio.Event()

    async def get_separation(self, hash_: str, mirror: bool = False) -> models.SeparationResult:
        self.polling.set()
        await self.go.wait()
        return await super().get_separation(hash_, mirror)


async def test_an_account_is_detached_only_when_no_work_on_its_jobs_is_under_way(
        tmp_path: Path, journal: JobJournal) -> None:
    fake = _HeldPoll()
    runner = make_runner(tmp_path, journal)
    await runner.attach_account(ACCOUNT, fake)
    async with running(runner):
        [record] = await runner.submit([make_spec(tmp_path, input_file(tmp_path))])
        with anyio.fail_after(10):
            await fake.polling.wait()
        assert not runner.detach_account(ACCOUNT)  # the runner is asking MVSep about its job: kept
        assert runner.attached(ACCOUNT, fake)
        fake.go.set()
        [done] = await finish(runner, [record])
        for _ in range(500):  # the download's task ends just after the job is recorded completed
            if runner.detach_account(ACCOUNT):
                break
            await anyio.sleep(0.01)
        assert not runner.attached(ACCOUNT, fake)
        assert journal.hold_lease(ACCOUNT, "another replica", ttl=30)  # its lease was given up at once
    assert done.state is JobState.COMPLETED
