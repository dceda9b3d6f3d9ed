"""submit_plan: credits checked first, jobs recorded then sent by the session's real runner (on a temp journal,
against the in-memory fake), refusals of every job raised with the job's own sentence."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import anyio
import pytest
from mvsep_mcp.jobs import JobState
from mvsep_mcp.jobs.creating import TOKEN_REFUSED
from mvsep_mcp.mvsep import errors
from mvsep_mcp.planning import NotEnoughCredits, Plan, SubmissionRefused, plan_separation, submit_plan
from mvsep_mcp.session import Session

from tests.audio_factory import make_audio
from tests.jobs.fake_mvsep import FakeMVSep
from tests.planning.conftest import ACCOUNT, attach_fake

REFUSED = (
    "MVSep refused the job: Seperation type is not set. Check the model (premium-only models need premium) and its "
    "options with the catalogue, then submit again."
)


@asynccontextmanager
async def running(session: Session) -> AsyncIterator[Session]:
    async with anyio.create_task_group() as tg:
        await session.runner.start(tg)
        try:
            yield session
        finally:
            session.runner.stop()


async def plan_for(session: Session, tmp_path: Path, count: int = 1) -> Plan:
    songs = [make_audio(tmp_path / "in", "flac", name=f"Song {i}", seconds=0.5, sample_rate=8000, seed=i)
             for i in range(count)]
    return await plan_separation(session, inputs=[str(s) for s in songs], model=40)


async def test_submits_and_returns_once_sent(session: Session, tmp_path: Path) -> None:
    fake = FakeMVSep(statuses=["waiting"] * 1000)
    await attach_fake(session, fake)
    plan = await plan_for(session, tmp_path)
    async with running(session):
        [record] = await submit_plan(session, plan, wait_s=10)
    assert record.state is JobState.ACTIVE and record.hash in fake.jobs
    assert record.spec.account_key == ACCOUNT and record.spec.base_url == session.settings.base_url
    assert record.spec.batch_id and len(record.spec.batch_id) >= 24  # unguessable: a task id is the batch id
    assert fake.creates == 1


async def test_a_batch_shares_one_batch_id_and_waits_behind_the_limit(session: Session, tmp_path: Path) -> None:
    fake = FakeMVSep(statuses=["waiting"] * 1000)
    await attach_fake(session, fake)  # one job at a time: the second stays queued locally
    plan = await plan_for(session, tmp_path, count=2)
    async with running(session):
        records = await submit_plan(session, plan, wait_s=10)
    assert [r.state for r in records] == [JobState.ACTIVE, JobState.QUEUED]
    assert len({r.spec.batch_id for r in records}) == 1


async def test_refusal_of_the_only_job_raises_its_sentence(session: Session, tmp_path: Path) -> None:
    fake = FakeMVSep()
    fake.create_errors = [errors.BadRequestError("Seperation type is not set", status_code=400)]
    await attach_fake(session, fake)
    plan = await plan_for(session, tmp_path)
    async with running(session):
        with pytest.raises(SubmissionRefused) as caught:
            await submit_plan(session, plan, wait_s=10)
    assert caught.value.user_text() == REFUSED
    [record] = session.runner.list(ACCOUNT)
    assert record.state is JobState.FAILED and record.error == REFUSED


async def test_refusal_of_every_job_of_a_batch(session: Session, tmp_path: Path) -> None:
    fake = FakeMVSep()
    fake.create_errors = [errors.AuthenticationError("invalid token", status_code=401) for _ in range(2)]
    await attach_fake(session, fake)
    plan = await plan_for(session, tmp_path, count=2)
    async with running(session):
        with pytest.raises(SubmissionRefused) as caught:
            await submit_plan(session, plan, wait_s=10)
    assert str(caught.value) == f"None of the 2 jobs could be submitted. The first: {TOKEN_REFUSED}"
    assert fake.creates == 0


async def test_a_partial_refusal_is_not_raised(session: Session, tmp_path: Path) -> None:
    fake = FakeMVSep(limit=None, statuses=["waiting"] * 1000)
    fake.create_errors = [errors.BadRequestError("Seperation type is not set", status_code=400)]
    await attach_fake(session, fake)
    plan = await plan_for(session, tmp_path, count=2)
    async with running(session):
        records = await submit_plan(session, plan, wait_s=10)
    assert sorted(r.state for r in records) == sorted([JobState.FAILED, JobState.ACTIVE])


async def test_credits_are_checked_before_anything_is_recorded(session: Session, tmp_path: Path) -> None:
    fake = FakeMVSep()
    await attach_fake(session, fake)
    plan = dataclasses.replace(await plan_for(session, tmp_path), spends_credits=True, balance=0)
    async with running(session):
        with pytest.raises(NotEnoughCredits, match=r"^This file needs about 1 credits and the account has 0\. "):
            await submit_plan(session, plan, wait_s=10)
    assert session.runner.list(ACCOUNT) == [] and fake.create_calls == 0


async def test_without_an_account_nothing_is_recorded(session: Session, tmp_path: Path) -> None:
    plan = await plan_for(session, tmp_path)  # the stub answers for the catalogue; no token is set
    with pytest.raises(errors.MissingTokenError):
        await submit_plan(session, plan, wait_s=1)
    assert session.journal.list(ACCOUNT) == []
