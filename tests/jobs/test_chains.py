"""Chains in the runner: a later step waits for the step before, uploads its stem from disk, is created once (also
after a restart between the steps), and ends without a create when the step before cannot give it its stem."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from mvsep_mcp.jobs import JobRecord, JobRunner, JobSpec, JobState
from mvsep_mcp.jobs.journal import request_key_for
from mvsep_mcp.jobs.models import ChainLink, ChainStep
from mvsep_mcp.mvsep.separation_request import SeparationRequest

from tests.conftest import OpenJournal
from tests.jobs.fake_mvsep import FakeMVSep
from tests.jobs.helpers import ACCOUNT, FAST, finish, input_file, make_runner, make_spec, no_sessions, running


def head(tmp_path: Path, path: Path) -> JobSpec:
    return make_spec(tmp_path, path, chain=ChainLink(steps=[ChainStep(model="BS Roformer", model_id=40)]))


def step_after(parent: JobRecord, from_stem: str = "Instrumental") -> JobSpec:
    assert parent.spec.chain is not None
    steps = [*parent.spec.chain.steps[:-1], parent.spec.chain.steps[-1].model_copy(update={"job_id": parent.id}),
             ChainStep(model="Demucs4 HT", model_id=20, from_stem=from_stem)]
    return parent.spec.model_copy(update={"kind": "file", "remote_type": None, "sep_type": 20,
                                          "model_name": "Demucs4 HT", "options": {},
                                          "chain": ChainLink(steps=steps, after=parent.id,
                                                             after_key=parent.request_key)})


def uploads(fake: FakeMVSep) -> list[Path | None]:
    """Record the file each create uploads."""
    sent: list[Path | None] = []
    original = fake.create_separation

    async def create(request: SeparationRequest, **kw: Any) -> Any:
        sent.append(request.audiofile)
        return await original(request, **kw)

    fake.create_separation = create  # type: ignore[method-assign]
    return sent


async def test_a_later_step_waits_then_separates_the_stem_on_disk(tmp_path: Path, open_journal: OpenJournal) -> None:
    fake = FakeMVSep(limit=None)
    sent = uploads(fake)
    runner = make_runner(tmp_path, open_journal())
    await runner.attach_account(ACCOUNT, fake)
    async with running(runner):
        [first] = await runner.submit([head(tmp_path, input_file(tmp_path))])
        [second] = await runner.submit([step_after(first)])
        assert runner.get(ACCOUNT, second.id).phase() == f"waiting for the step before (job {first.id})"
        first, second = await finish(runner, [first, second])

    assert first.state is second.state is JobState.COMPLETED, second.error
    instrumental = next(o for o in first.outputs if o.stem == "Instrumental")
    assert sent == [Path(first.spec.input_path or ""), Path(instrumental.path)]
    assert fake.creates == 2 and fake.downloads == 4
    assert second.spec.chain is not None and second.spec.chain.upload_path == instrumental.path
    assert {o.stem for o in second.outputs} == {"Vocals from Instrumental", "Instrumental from Instrumental"}
    assert {Path(o.path).parent for o in [*first.outputs, *second.outputs]} == {Path(instrumental.path).parent}
    assert second.request_key == request_key_for(step_after(first))  # the same chain is the same request


async def test_a_restart_between_the_steps_creates_the_later_step_once(tmp_path: Path,
                                                                       open_journal: OpenJournal) -> None:
    fake = FakeMVSep(limit=None)
    runner = make_runner(tmp_path, open_journal())
    await runner.attach_account(ACCOUNT, fake)
    async with running(runner):
        [first] = await finish(runner, await runner.submit([head(tmp_path, input_file(tmp_path))]))
    # the server died after the first step completed and before the second was released
    second = runner.journal.add(step_after(first), request_key=request_key_for(step_after(first)))
    runner.journal.close()

    restarted = JobRunner(open_journal(), sessions_after_job=no_sessions, **FAST)
    await restarted.attach_account(ACCOUNT, fake)
    async with running(restarted):
        [second] = await finish(restarted, [second])
    assert second.state is JobState.COMPLETED and fake.creates == 2


async def test_a_failed_step_before_ends_the_later_step_unsent(tmp_path: Path, open_journal: OpenJournal) -> None:
    fake = FakeMVSep(limit=None, statuses=["waiting", "failed"])
    runner = make_runner(tmp_path, open_journal())
    await runner.attach_account(ACCOUNT, fake)
    async with running(runner):
        [first] = await runner.submit([head(tmp_path, input_file(tmp_path))])
        [second] = await runner.submit([step_after(first)])
        first, second = await finish(runner, [first, second])
    assert first.state is second.state is JobState.FAILED
    assert second.error == (f"Step 2 of the chain (Demucs4 HT) was not sent because the step before (job {first.id}) "
                            f"ended failed; nothing was spent on it.")
    assert fake.creates == 1


async def test_a_missing_stem_or_file_ends_the_later_step_unsent(tmp_path: Path, open_journal: OpenJournal) -> None:
    fake = FakeMVSep(limit=None)
    runner = make_runner(tmp_path, open_journal())
    await runner.attach_account(ACCOUNT, fake)
    async with running(runner):
        [first] = await finish(runner, await runner.submit([head(tmp_path, input_file(tmp_path))]))
        [no_stem] = await finish(runner, await runner.submit([step_after(first, "Drums")]))
        Path(next(o.path for o in first.outputs if o.stem == "Instrumental")).unlink()
        [gone] = await finish(runner, await runner.submit([step_after(first)]))
    assert no_stem.state is JobState.FAILED and "not Drums; nothing was spent on it" in (no_stem.error or "")
    assert gone.state is JobState.FAILED and "stem of the step before" in (gone.error or "") and "is gone" in (
        gone.error or "")
    assert fake.creates == 1


async def test_cancelling_the_step_before_cancels_the_later_step(tmp_path: Path, open_journal: OpenJournal) -> None:
    fake = FakeMVSep(limit=None, statuses=["waiting"] * 10_000)
    runner = make_runner(tmp_path, open_journal())
    await runner.attach_account(ACCOUNT, fake)
    async with running(runner):
        [first] = await runner.submit([head(tmp_path, input_file(tmp_path))])
        [second] = await runner.submit([step_after(first)])
        await runner.wait(ACCOUNT, [first.id], timeout=10, until="submitted")
        await runner.cancel(ACCOUNT, first.id)
        [second] = await finish(runner, [second])
    assert second.state is JobState.CANCELLED and fake.creates == 1


async def test_a_url_songs_later_step_keeps_the_songs_name_and_tags(tmp_path: Path, open_journal: OpenJournal) -> None:
    fake = FakeMVSep(limit=None)
    runner = make_runner(tmp_path, open_journal())
    await runner.attach_account(ACCOUNT, fake)
    url = "http://127.0.0.1:9/files/remote-song.mp3"
    spec = head(tmp_path, input_file(tmp_path)).model_copy(update={"kind": "url", "url": url, "input_path": None,
                                                                   "input_sha256": None})
    async with running(runner):
        [first] = await runner.submit([spec])
        [second] = await runner.submit([step_after(first)])
        first, second = await finish(runner, [first, second])
    assert first.state is second.state is JobState.COMPLETED, second.error
    assert second.spec.kind == "file" and second.spec.song_name == "remote-song.mp3"
    assert second.spec.input_tags == {"title": "Server Title", "artist": "Server Artist"}  # from the step before
    folders = {Path(o.path).parent.name for o in [*first.outputs, *second.outputs]}
    assert folders == {"Server Artist - Server Title"}
    assert sorted(Path(o.path).name for o in second.outputs) == [
        "Server Title (Instrumental from Instrumental).flac", "Server Title (Vocals from Instrumental).flac"]
