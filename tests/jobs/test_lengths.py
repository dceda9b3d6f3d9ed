"""The learnt length of a kind of job: it follows recent jobs up and down, a "done" at the first poll never raises it,
one outlier moves it only a little and not for long, and the early looks that let it fall stay cheap.

The properties run the runner's real schedule (``PaceBook``) on a simulated clock (``simulated_polling``)."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st
from mvsep_mcp.jobs.lengths import ROUNDING_S, Bracket, LengthEstimate, margin, target
from mvsep_mcp.policy import (
    PACE_EARLY_EVERY,
    PACE_MARGIN_SHARE,
    PACE_STEP_GROWTH,
    PACE_STEP_MAX,
    POLL_AIM_MARGIN_S,
)

from tests.jobs.simulated_polling import SimulatedJob, SimulatedRunner

SETTLE = 12  # "a few jobs": what the schedule needs to follow any change of lengths (up to 50-fold)
BACK_WITHIN = PACE_EARLY_EVERY + 2  # jobs after an outlier until the schedule is where it was
SHORTEST, LONGEST = 2.0, 100.0  # the first poll comes 1 s after the create at the soonest (policy.POLL_FIRST_S)

lengths = st.floats(min_value=SHORTEST, max_value=LONGEST, allow_nan=False)
histories = st.lists(lengths, max_size=25)


def widest(high: float) -> float:
    """The margin of an estimate that lies a margin above ``high`` (the margin is the estimate's)."""
    return margin(high / (1 - PACE_MARGIN_SHARE))


def near(job: SimulatedJob, low: float, high: float) -> bool:
    """The job's first poll lands within the margin of lengths between ``low`` and ``high`` (an early look, by design,
    up to one margin more before), and the estimate after it lies within the margin of them."""
    slack = widest(high) + ROUNDING_S  # an estimate may rest right at the margin's edge
    earliest = low - 2 * slack if job.first_look < job.length else low - slack
    estimate = job.estimate if job.estimate is not None else -1.0
    return earliest <= job.first_look <= high + slack + POLL_AIM_MARGIN_S and low - slack <= estimate <= high + slack


@settings(max_examples=300, deadline=None)
@given(history=histories, level=lengths, spread=st.floats(0.0, PACE_MARGIN_SHARE),
       shares=st.lists(st.floats(0.0, 1.0), min_size=SETTLE + 8, max_size=SETTLE + 8))
def test_after_a_few_jobs_the_first_poll_lands_within_the_margin_of_recent_lengths(
        history: list[float], level: float, spread: float, shares: list[float]) -> None:
    runner = SimulatedRunner()
    runner.run_all(history)
    recent = runner.run_all(level * (1 + spread * share) for share in shares)
    low, high = level, level * (1 + spread)
    for job in recent[SETTLE:]:
        assert near(job, low, high), (job, [round(j.first_look, 2) for j in recent])


@settings(max_examples=300, deadline=None)
@given(level=lengths, outlier=st.floats(0.1, 10.0), settle=st.integers(SETTLE, SETTLE + PACE_EARLY_EVERY))
def test_one_outlier_moves_the_schedule_only_a_little_and_not_for_long(level: float, outlier: float,
                                                                        settle: int) -> None:
    runner = SimulatedRunner()
    before = runner.run_all([level] * settle)[-1].estimate
    assert before is not None
    runner.run(level * outlier)
    after = runner.run_all([level] * (BACK_WITHIN + 4))
    moved = after[0].estimate
    assert moved is not None
    # a little: one step, however far off the outlier was
    assert before / (1 + PACE_STEP_MAX) - 1e-9 <= moved <= before * (1 + PACE_STEP_MAX) + 1e-9
    assert after[0].first_look <= before * (1 + PACE_STEP_MAX) + POLL_AIM_MARGIN_S + 1e-9
    # not for long
    for job in after[BACK_WITHIN:]:
        assert near(job, level, level), [round(j.first_look, 2) for j in after]


@settings(max_examples=200, deadline=None)
@given(history=histories, level=lengths)
def test_jobs_of_a_steady_length_cost_few_status_requests(history: list[float], level: float) -> None:
    runner = SimulatedRunner()
    runner.run_all(history)
    settle = SETTLE + PACE_EARLY_EVERY  # the first poll is where it belongs after SETTLE; overruns may follow a while
    steady = runner.run_all([level] * (settle + 4 * PACE_EARLY_EVERY))[settle:]
    requests = sum(job.requests for job in steady) / len(steady)
    assert requests <= 1 + 2 / PACE_EARLY_EVERY, [job.requests for job in steady]
    assert max(job.extra for job in steady) <= widest(level) + POLL_AIM_MARGIN_S + 1e-6


@settings(max_examples=300, deadline=None)
@given(expected=lengths, high=st.floats(0.0, 1000.0), early=st.booleans(), streak=st.integers(-3, 3))
def test_done_at_the_first_poll_never_raises_the_estimate(expected: float, high: float, early: bool,
                                                           streak: int) -> None:
    estimate = LengthEstimate(expected=expected, streak=streak)
    estimate.learn(Bracket(None, high), looked_early=early)
    assert estimate.expected <= expected


def test_a_job_found_done_at_the_early_look_lowers_the_estimate() -> None:
    estimate = LengthEstimate(expected=20.0, unsettled=False)
    estimate.learn(Bracket(None, 18.0), looked_early=True)
    assert estimate.expected == 18.0  # it was done by then: certain
    assert estimate.unsettled  # so the next job is looked at early too
    estimate = LengthEstimate(expected=20.0, unsettled=False)
    estimate.learn(Bracket(None, 5.0), looked_early=True)
    assert estimate.expected == 20.0 / (1 + PACE_STEP_MAX)  # one job, however short, moves it a step
    assert estimate.expected - estimate.lead == 5.0  # the next early look comes where that one was done
    estimate.learn(Bracket(None, 5.0), looked_early=True)
    assert estimate.expected == 16.0 / (1 + PACE_STEP_MAX * PACE_STEP_GROWTH)  # a second: a larger step


def test_a_bracket_is_a_measurement_its_end_alone_a_bound() -> None:
    assert target(10.0, Bracket(12.0, 12.6)) == 12.3  # ran long
    assert target(10.0, Bracket(9.0, 10.2)) == 10.0  # as expected, within the margin
    assert target(10.0, Bracket(2.0, 10.2)) == 6.1  # an early look far before the end: somewhere between
    assert target(10.0, Bracket(None, 4.0)) == 4.0  # done by 4 s
    assert target(10.0, Bracket(None, 14.0)) == 10.0  # done by 14 s: no news


def test_the_early_look_comes_every_few_jobs_and_after_every_change() -> None:
    estimate = LengthEstimate(expected=10.0, unsettled=False)
    plans = [estimate.looks(1.0) for _ in range(2 * PACE_EARLY_EVERY)]
    aim = 10.0 + POLL_AIM_MARGIN_S
    assert [len(p) for p in plans] == ([1] * (PACE_EARLY_EVERY - 1) + [2]) * 2
    assert plans[PACE_EARLY_EVERY - 1] == (9.0, aim)
    estimate.learn(Bracket(aim, aim + 2.0), looked_early=False)  # ran 1.2 s long: the estimate rises
    assert estimate.expected == 10.0 + 1.2 / 2 and len(estimate.looks(1.0)) == 2

