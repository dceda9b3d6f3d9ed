"""The scheduler on its own: the accounts it works, started once, reuse decided before a create.

The loop's work itself (claims within the limit, leases, polls and downloads that are due) is tested through the
runner's public face in ``test_runner*.py``, ``test_resume.py``, ``test_shared_journal.py`` and ``test_pacing.py``.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from mvsep_mcp.jobs import AccountNotAttached, JobError, JobState, request_key_for
from mvsep_mcp.jobs.journal import JobJournal

from tests.jobs.fake_mvsep import FakeMVSep
from tests.jobs.helpers import ACCOUNT, finish, input_file, make_runner, make_spec, running


async def test_attaching_an_account_again_keeps_the_status_requests_it_already_sent(
        tmp_path: Path, journal: JobJournal) -> None:
    scheduler = make_runner(tmp_path, journal).scheduler
    first, second = FakeMVSep(), FakeMVSep()
    scheduler.attach(ACCOUNT, first, 1)
    budget = scheduler.slot(ACCOUNT).status_budget
    scheduler.attach(ACCOUNT, second, 3)
    slot = scheduler.slot(ACCOUNT)
    assert (slot.client, slot.limit) == (second, 3) and slot.status_budget is budget
    assert scheduler.detach(ACCOUNT)  # no work under way
    with pytest.raises(AccountNotAttached):
        scheduler.slot(ACCOUNT)


async def test_the_scheduler_runs_once_per_process(tmp_path: Path, journal: JobJournal) -> None:
    runner = make_runner(tmp_path, journal)
    async with running(runner):
        assert runner.running and runner.scheduler.running
        with pytest.raises(JobError, match="already running"):
            await runner.scheduler.run()
    assert not runner.scheduler.running


async def test_a_queued_identical_request_takes_the_earlier_result_instead_of_a_create(
        tmp_path: Path, journal: JobJournal) -> None:
    fake = FakeMVSep(limit=None)
    runner = make_runner(tmp_path, journal)
    await runner.attach_account(ACCOUNT, fake)
    song = input_file(tmp_path)
    async with running(runner):
        [first] = await runner.submit([make_spec(tmp_path, song)])
        [first] = await finish(runner, [first])
    spec = make_spec(tmp_path, song, output_root=str(tmp_path / "elsewhere"))  # the same request, another folder
    queued = journal.add(spec, request_key=request_key_for(spec))
    reused = runner.scheduler.reuse_into(queued)
    assert reused is not None and reused.state is JobState.ACTIVE and reused.reused_from == first.id
    assert reused.hash == first.hash and fake.creates == 1 and runner.stats.reused_results == 1
