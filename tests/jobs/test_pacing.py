"""When the runner asks MVSep about a job next, and the account's status budget."""

from __future__ import annotations

from pathlib import Path

import anyio
import pytest
from mvsep_mcp.jobs.lengths import LengthEstimate
from mvsep_mcp.jobs.pacing import WINDOW_S, PaceBook, PollLimits, StatusBudget
from mvsep_mcp.policy import PACE_EARLY_EVERY, POLL_GUESS_S_PER_POSITION

from tests.jobs.fake_mvsep import FakeMVSep
from tests.jobs.helpers import ACCOUNT, input_file, make_runner, make_spec, running

LIMITS = PollLimits(minimum=1.0, running_max=4.0, queued_max=20.0, base=5.0, first=1.0)
KIND = ("acct", 40)


def delay(book: PaceBook, status: str, now: float, *, position: int | None = None, job: str = "j1",
          chunks: tuple[int, int] | None = None) -> float:
    book.saw(job, KIND, status, position, now, created_at=0.0)
    return book.next_delay(job, KIND, status, position, chunks, now, LIMITS)


def test_a_young_running_job_is_asked_often_an_old_one_every_few_seconds() -> None:
    book = PaceBook()
    assert delay(book, "processing", 0.5) == LIMITS.minimum  # a short job's end is seen within a second
    assert delay(book, "processing", 10.0) == 3.0
    assert delay(book, "processing", 60.0) == LIMITS.running_max  # a long job's end within the cap


def test_the_length_of_a_kind_of_job_is_learnt_and_polls_aim_at_the_expected_end() -> None:
    book = PaceBook()
    assert book.first_delay("j1", KIND, 0.0, LIMITS) == LIMITS.first  # nothing known yet
    delay(book, "processing", 1.0)
    delay(book, "processing", 39.0)
    book.saw("j1", KIND, "done", None, 41.0, created_at=0.0)  # ended between 39 and 41 s after its create
    assert book.processing_s[KIND] == book.lengths[KIND].expected == 40.0
    assert book.first_delay("j9", KIND, 100.0, LIMITS) == LIMITS.queued_max  # never longer than a queued pause
    assert delay(book, "processing", 10.0, job="j2") == LIMITS.running_max  # 30 s still expected: capped
    assert delay(book, "processing", 36.0, job="j2") == 2.0  # 4 s still expected: ask in half of that
    assert delay(book, "processing", 41.0, job="j2") == 0.4  # just past the expected end: ask again soon
    short = PaceBook(lengths={KIND: LengthEstimate(expected=3.0, unsettled=False)})
    assert short.first_delay("j9", KIND, 0.0, LIMITS) == 3.2  # just after its end


def test_a_job_this_runner_did_not_create_teaches_nothing_about_job_length() -> None:
    """A reused or refetched MVSep result, a job resumed after a restart or taken over from another process: "done"
    at its first poll, long after its create, says nothing about how long jobs take."""
    book = PaceBook(lengths={KIND: LengthEstimate(expected=2.0)})
    book.saw("old", KIND, "processing", None, 500.0, created_at=0.0)
    book.saw("old", KIND, "done", None, 520.0, created_at=0.0)
    assert book.lengths[KIND].expected == 2.0 and KIND not in book.processing_s
    # a reused result that MVSep no longer had: the job is created afresh, and that create teaches as any other
    book.first_delay("old", KIND, 600.0, LIMITS)
    book.saw("old", KIND, "processing", None, 603.0, created_at=0.0)
    book.saw("old", KIND, "done", None, 604.0, created_at=0.0)
    assert book.lengths[KIND].expected == 2.5  # a step (a quarter) towards "between 3 and 4 s"


def test_a_planned_early_look_is_followed_by_the_look_at_the_expected_end() -> None:
    book = PaceBook(lengths={KIND: LengthEstimate(expected=10.0)})  # just learnt: the next job is looked at early
    assert book.first_delay("j1", KIND, 0.0, LIMITS) == 9.0  # a margin before the expected end
    book.saw("j1", KIND, "processing", None, 9.0, created_at=0.0)
    assert book.next_delay("j1", KIND, "processing", None, None, 9.0, LIMITS) == pytest.approx(1.2)
    book.saw("j1", KIND, "done", None, 10.2, created_at=0.0)  # as expected: the estimate stays, settled
    assert book.lengths[KIND].expected == 10.0 and book.first_delay("j2", KIND, 20.0, LIMITS) == 10.2


def test_chunks_give_the_expected_end_of_a_long_file() -> None:
    book = PaceBook()
    book.saw("j1", KIND, "waiting", 1, 0.0, created_at=0.0)
    delay(book, "distributing", 10.0, chunks=(1, 4))  # running since 10 s
    assert round(delay(book, "distributing", 30.0, chunks=(3, 4)), 2) == 3.33  # 3 of 4 chunks in 20 s


def test_far_back_in_the_queue_asks_rarely_near_the_front_soon() -> None:
    book = PaceBook()
    assert delay(book, "waiting", 0.0, position=3, job="j0") == 3 * POLL_GUESS_S_PER_POSITION * 0.5  # a guess, halved
    assert delay(book, "waiting", 0.0, position=9) == LIMITS.queued_max  # far back: the longest pause
    assert delay(book, "waiting", 0.0, job="j2") == LIMITS.base  # no position either: the back-off step
    assert delay(book, "waiting", 5.0, job="j2") == LIMITS.base * 1.5
    assert delay(book, "waiting", 15.0, position=8) == LIMITS.queued_max  # 15 s a place: 8 places is 2 minutes
    assert book.seconds_per_position["acct"] == 15.0
    near = delay(book, "waiting", 30.0, position=1)  # moved 7 places in 15 s: the estimate follows
    assert near == pytest.approx(book.seconds_per_position["acct"] * 0.5) and near < 5.0


def test_the_status_budget_allows_so_many_requests_in_any_minute() -> None:
    budget = StatusBudget(per_minute=3)
    for t in (0.0, 1.0, 2.0):
        assert budget.allowed_at(t) == t
        budget.spend(t)
    assert budget.allowed_at(3.0) == WINDOW_S  # once the oldest has left the window (a minute and a second)
    assert budget.allowed_at(62.0) == 62.0


async def test_the_runner_never_asks_more_than_the_budget_allows(tmp_path: Path) -> None:
    fake = FakeMVSep(statuses=["processing"] * 1000)
    runner = make_runner(tmp_path, status_rate=3)
    await runner.attach_account(ACCOUNT, fake, concurrency=1)
    async with running(runner):
        await runner.submit([make_spec(tmp_path, input_file(tmp_path))])
        await anyio.sleep(1.5)  # at the test's fast pauses this would be well over a hundred polls
    assert fake.gets == 3


async def test_an_early_look_is_given_up_when_the_status_budget_runs_low(tmp_path: Path) -> None:
    fake = FakeMVSep(statuses=["processing"] * 1000)
    runner = make_runner(tmp_path, status_rate=5)
    await runner.attach_account(ACCOUNT, fake, concurrency=1)
    kind = (ACCOUNT, 40)
    book = runner.timers.pace
    book.lengths[kind] = LengthEstimate(expected=0.02)  # just learnt: the next job is looked at early
    budget = runner.scheduler.slot(ACCOUNT).status_budget
    for _ in range(4):  # four of the minute's five status requests spent
        budget.spend(runner.clock())
    async with running(runner):
        [record] = await runner.submit([make_spec(tmp_path, input_file(tmp_path))])
        await runner.wait(ACCOUNT, [record.id], timeout=10, until="submitted")
        assert book.jobs[record.id].looked_early  # planned at the create
        await anyio.sleep(0.3)  # long past both looks (the test's schedule is a hundred times faster)
    assert fake.gets == 1  # the look at the expected end, not the early one
    assert not book.jobs[record.id].looked_early and book.lengths[kind].since_early == PACE_EARLY_EVERY - 1


def test_only_a_planned_early_look_not_yet_made_can_be_given_up() -> None:
    book = PaceBook(lengths={KIND: LengthEstimate(expected=10.0)})
    book.first_delay("j1", KIND, 0.0, LIMITS)  # early look at 9 s, then at 10.2 s
    assert book.skip_early_look("j1", KIND, 9.0) == pytest.approx(1.2)
    assert book.skip_early_look("j1", KIND, 10.2) is None  # the look at the expected end is no early look
    book.first_delay("j2", KIND, 20.0, LIMITS)  # so the next job is looked at early
    assert book.jobs["j2"].looked_early
