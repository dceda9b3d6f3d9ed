"""How long one kind of job takes, learnt only from what polling saw, and when to look at the next one.

A job's polls bracket its end: it was last seen unfinished ``low`` seconds after its create (or never) and first seen
finished ``high`` seconds after it. ``high`` alone is an upper bound, not a length: a job found finished at its
first poll, which is aimed just after the expected end, says only that the estimate was not too short, so it never
raises the estimate. For the estimate to fall, some jobs are also looked at a little before the expected end (the
early look, ``lead`` before it): finished there, the estimate was too long and falls to that point. A bracket within
the margin around the estimate confirms it; any other bracket is a measurement, and the estimate moves towards it.

Each job moves the estimate by at most ``PACE_STEP_MAX`` of itself, so one outlier moves it only a little, and the
next job is looked at where the old estimate aimed, so that an outlier's step is undone at once. Jobs that keep
surprising the same way move it further each time (``PACE_STEP_GROWTH``) and, when they were done before the early
look, send the next early look further ahead: a real change is followed within a few jobs. Otherwise every
``PACE_EARLY_EVERY``-th job is looked at early, so the early looks stay cheap.
"""

from __future__ import annotations

from dataclasses import dataclass

from mvsep_mcp.policy import (
    PACE_EARLY_EVERY,
    PACE_EARLY_LEAD_MAX_SHARE,
    PACE_MARGIN_MIN_S,
    PACE_MARGIN_SHARE,
    PACE_SETTLED_SHARE,
    PACE_STEP_GROWTH,
    PACE_STEP_MAX,
    POLL_AIM_MARGIN_S,
    POLL_LEARNING_WEIGHT,
)

ROUNDING_S = 1e-6  # clock arithmetic: an early look "one margin" before the estimate is that, give or take this


@dataclass(frozen=True)
class Bracket:
    """When one job was last seen unfinished (None: never) and first seen finished, in seconds after its start."""

    low: float | None
    high: float

    @property
    def middle(self) -> float:
        return self.high if self.low is None else (self.low + self.high) / 2


def margin(expected: float) -> float:
    """How close to a job's length the schedule means to be: also the lead of an early look."""
    return max(PACE_MARGIN_MIN_S, PACE_MARGIN_SHARE * expected)


def target(estimate: float, seen: Bracket) -> float:
    """Where ``seen`` says ``estimate`` should go. The end alone (never seen unfinished) is an upper bound: no higher
    than that ("done" at a poll aimed after the expected end never raises the estimate). A bracket around the
    estimate that starts within the margin below it confirms it; any other is a measurement, as fine as the polls
    were: its middle."""
    if seen.low is None:
        return min(estimate, seen.high)
    if seen.low <= estimate <= seen.high and estimate - seen.low <= margin(estimate) + ROUNDING_S:
        return estimate
    return seen.middle


def follow(estimate: float | None, seen: Bracket) -> float:
    """A plain estimate (no steps bounded, no early looks) moved towards what ``seen`` says of it."""
    if estimate is None:
        return max(0.0, seen.middle)
    return estimate + POLL_LEARNING_WEIGHT * (target(estimate, seen) - estimate)


@dataclass
class LengthEstimate:
    """What one kind of job (an account's jobs of one model) takes from its create to its end."""

    expected: float
    search: float = 1.0  # the next early look's lead, in margins: 1 when settled, more while the estimate moves
    streak: int = 0  # jobs in a row that moved the estimate the same way: positive up, negative down
    since_early: int = 0  # jobs since the last early look
    unsettled: bool = True  # the last job moved the estimate (or the lead is wider than the margin): look early

    @classmethod
    def first(cls, seen: Bracket) -> LengthEstimate:
        return cls(expected=max(0.0, seen.middle))  # learnt from one job: the next one is looked at early

    @property
    def lead(self) -> float:
        """How long before the expected end the next early look comes."""
        return min(margin(self.expected) * self.search, self.expected * PACE_EARLY_LEAD_MAX_SHARE)

    def looks(self, shortest: float) -> tuple[float, ...]:
        """Seconds after a new job's create at which to ask about it: at the expected end, and before it when this
        job is looked at early (never sooner than ``shortest``). Counts the job."""
        aim = self.expected + POLL_AIM_MARGIN_S
        self.since_early += 1
        if not (self.unsettled or self.since_early >= PACE_EARLY_EVERY):
            return (aim,)
        self.since_early = 0
        first = max(self.expected - self.lead, shortest)
        return (first, aim) if first < aim - POLL_AIM_MARGIN_S else (aim,)

    def early_look_missed(self) -> None:
        """A planned early look was given up (status requests were scarce): the next job is looked at early."""
        self.since_early = PACE_EARLY_EVERY - 1

    def learn(self, seen: Bracket, *, looked_early: bool) -> None:
        """One job of this kind ended within ``seen``."""
        old = self.expected
        goal = target(old, seen)
        if looked_early and seen.low is not None and seen.low < old:  # unfinished at the early look: look later
            self.search = max(1.0, self.search / 2)
        if goal == old:
            if seen.low is not None or self.streak > 0:  # confirmed, or at least not too short: no streak goes on
                self.streak = 0
            self.unsettled = self.search > 1.0
            return
        up = goal > old
        undoes = self.streak == (-1 if up else 1)  # the job before moved it the other way, alone: an outlier
        self.streak = max(self.streak, 0) + 1 if up else min(self.streak, 0) - 1
        bound = PACE_STEP_MAX * PACE_STEP_GROWTH ** (abs(self.streak) - 1)
        # a measurement is followed part of the way (jobs vary); all the way when a second one in a row says the same,
        # when it says the job before was an outlier, and when the job was done by then (that is certain)
        full = abs(self.streak) > 1 or undoes or seen.low is None
        new = old + (1.0 if full else POLL_LEARNING_WEIGHT) * (goal - old)
        new = max(0.0, min(new, old * (1 + bound)) if up else max(new, old / (1 + bound)))
        self.expected = new
        if up:  # the next early look comes where the old estimate aimed: an outlier is undone at once
            self.search = max(1.0, (new - old - POLL_AIM_MARGIN_S) / margin(new))
        elif seen.low is None and new > goal:  # held back by the bound: look where this job was done already
            self.search = max(1.0, (new - goal) / margin(new))
        elif seen.low is None and self.streak <= -2:  # done before the early look twice in a row: look earlier still
            self.search *= PACE_STEP_GROWTH
        self.search = min(self.search, max(1.0, new * PACE_EARLY_LEAD_MAX_SHARE / margin(new)))  # as far as it goes
        moved = abs(new - old) > margin(new) * PACE_SETTLED_SHARE
        if not moved:
            self.streak = 0
        self.unsettled = moved or self.search > 1.0
