# ruff: noqa: ASYNC240 - tests inspect small files on disk directly
"""The runner against the real client and the local MVSep sandbox: a free-account batch, a restart, a refused model."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from mutagen import File as MutagenFile
from mvsep_mcp.jobs import JobRunner, JobState
from mvsep_mcp.mvsep import MVSepClient
from mvsep_mcp_testbench.sandbox import SANDBOX_FREE_TOKEN, JobTiming, SandboxServer, SandboxState

from tests.audio_factory import Song, make_audio
from tests.conftest import OpenJournal
from tests.jobs.helpers import ACCOUNT, FAST, finish, make_spec, no_sessions, running


@pytest.fixture
def sandbox(tmp_path: Path) -> Iterator[SandboxServer]:
    state = SandboxState(storage_dir=tmp_path / "storage", timing=JobTiming.fast())
    with SandboxServer(state) as server:
        yield server
    state.close()


@pytest.fixture
async def client(sandbox: SandboxServer) -> AsyncIterator[MVSepClient]:
    async with MVSepClient(SANDBOX_FREE_TOKEN, base_url=sandbox.base_url) as c:
        yield c


def song(tmp_path: Path, title: str, seed: int = 7) -> Path:
    return make_audio(tmp_path / "in", "mp3", name=title, seconds=1.0, song=Song(title=title, artist="Tester"),
                      seed=seed)


async def test_free_batch_end_to_end(tmp_path: Path, sandbox: SandboxServer, client: MVSepClient,
        open_journal: OpenJournal) -> None:
    runner = JobRunner(open_journal(), sessions_after_job=no_sessions, **FAST)
    await runner.attach_account(ACCOUNT, client)
    assert runner.concurrency(ACCOUNT) == 1
    specs = [make_spec(tmp_path, song(tmp_path, f"Track {i}", seed=i), sep_type=20, options={},
                       base_url=sandbox.base_url, output_format=0) for i in range(2)]
    async with running(runner):
        done = await finish(runner, await runner.submit(specs), budget=60)
    assert [r.state for r in done] == [JobState.COMPLETED] * 2, [r.error for r in done]
    assert client.stats.creates_sent == 2
    for record in done:
        assert len(record.outputs) >= 2
        for output in record.outputs:
            audio = MutagenFile(output.path)
            assert audio is not None and audio.tags is not None
            assert str(audio.tags["TIT2"]).endswith(f"({output.stem})")
        manifest = json.loads(Path(record.manifest_path).read_text())
        assert len(manifest["outputs"]) == len(record.outputs)


async def test_restart_against_the_sandbox(tmp_path: Path, sandbox: SandboxServer, client: MVSepClient,
        open_journal: OpenJournal) -> None:
    spec = make_spec(tmp_path, song(tmp_path, "Restart"), sep_type=20, options={}, base_url=sandbox.base_url,
                     output_format=0)
    runner = JobRunner(open_journal(), sessions_after_job=no_sessions, **FAST)
    await runner.attach_account(ACCOUNT, client)
    async with running(runner):
        [record] = await runner.submit([spec])
        [record] = await runner.wait(ACCOUNT, [record.id], timeout=30, until="submitted")
    assert record.state is JobState.ACTIVE
    runner.journal.close()
    second = JobRunner(open_journal(), sessions_after_job=no_sessions, **FAST)
    await second.attach_account(ACCOUNT, client)
    async with running(second):
        [done] = await finish(second, [record], budget=60)
    assert done.state is JobState.COMPLETED and client.stats.creates_sent == 1


async def test_premium_only_model_is_refused(tmp_path: Path, sandbox: SandboxServer, client: MVSepClient,
        open_journal: OpenJournal) -> None:
    runner = JobRunner(open_journal(), sessions_after_job=no_sessions, **FAST)
    await runner.attach_account(ACCOUNT, client)
    spec = make_spec(tmp_path, song(tmp_path, "Premium"), sep_type=26, options={}, base_url=sandbox.base_url)
    async with running(runner):
        [done] = await finish(runner, await runner.submit([spec]), budget=30)
    assert done.state is JobState.FAILED and "premium" in done.error.lower()
