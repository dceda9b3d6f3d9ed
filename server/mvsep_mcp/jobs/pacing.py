"""When to ask MVSep about a job next, and how often an account may ask at all.

Polling follows the job. Far back in the queue it asks rarely (the queue's pace per place is learnt as places go
by), near the front and while the job runs it asks every few seconds, and once jobs of a model have been seen to
finish it asks right at the expected end, so that a job whose length is known costs one or two requests
(:mod:`mvsep_mcp.jobs.lengths`: how that length is learnt, up and down, and when a job is looked at early).
Several new jobs of the same model and account, before any has finished: one of them (the probe) is followed
closely, the others wait for what it teaches and are then asked about at their own expected ends.

Only jobs whose create this runner sent and saw answered teach anything about job length: a job that reuses or
refetches an earlier MVSep result, or that was resumed after a restart or taken over from another process, was
created at some other time, so "done" at its first poll says nothing about how long jobs take.

Every status request of an account, for all its jobs together, passes :class:`StatusBudget`: at most
``per_minute`` in any 60 seconds (MVSep documents 60-120 API requests a minute; the policy stays well under).
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

from mvsep_mcp.jobs.lengths import Bracket, LengthEstimate, follow, margin
from mvsep_mcp.jobs.models import JobRecord
from mvsep_mcp.mvsep.models import RUNNING_STATUSES
from mvsep_mcp.policy import (
    POLL_AIM_MARGIN_S,
    POLL_BACKOFF_MULTIPLIER,
    POLL_GUESS_S_PER_POSITION,
    POLL_LEARNING_WEIGHT,
    POLL_QUEUE_SHARE,
    POLL_RUNNING_GROWTH,
)

WINDOW_S = 61.0  # a minute, and a second more: a request exactly a minute after another counts in its minute
Kind = tuple[str, int]  # (account key, model): jobs that take about as long as each other


def kind_of(record: JobRecord) -> Kind:
    """Jobs of one account and model take about as long as each other (what polling learns is kept per kind)."""
    return record.account_key, record.spec.sep_type


@dataclass(frozen=True)
class PollLimits:
    """The bounds of the schedule (from the runner's timings)."""

    minimum: float  # never sooner than this after a poll
    running_max: float  # while the job runs: its end is seen within this long
    queued_max: float  # while it waits in the queue
    base: float  # the back-off step when nothing better is known (no queue position)
    first: float  # the first poll after a create, when nothing is known


@dataclass
class JobPace:
    """What one job has shown so far."""

    created_at: float | None = None
    learns: bool = False  # this runner sent its create and saw the answer: its end tells how long jobs take
    looked_early: bool = False  # its first look came before the expected end (lengths.LengthEstimate.looks)
    looks: list[float] = field(default_factory=list)  # planned looks still ahead (clock times)
    running_since: float | None = None
    last_position: tuple[float, int] | None = None  # (when, queue position)
    last_asked: float | None = None  # the last answer that was not "done"
    interval: float = 0.0


@dataclass
class PaceBook:
    """What the runner has learnt: seconds per queue place (per account), how long jobs take (per account and
    model), and each unfinished job's own observations."""

    seconds_per_position: dict[str, float] = field(default_factory=dict)
    processing_s: dict[Kind, float] = field(default_factory=dict)  # from the start of processing to the end
    lengths: dict[Kind, LengthEstimate] = field(default_factory=dict)  # from the create's answer to the end
    jobs: dict[str, JobPace] = field(default_factory=dict)
    probes: dict[Kind, str] = field(default_factory=dict)  # the job followed closely to learn a kind's length
    followers: dict[Kind, dict[str, float]] = field(default_factory=dict)  # job -> created, waiting for the probe

    def job(self, job_id: str) -> JobPace:
        return self.jobs.setdefault(job_id, JobPace())

    def forget(self, job_id: str) -> None:
        self.jobs.pop(job_id, None)
        for kind, probe in list(self.probes.items()):
            if probe == job_id:
                del self.probes[kind]
        for waiting in self.followers.values():
            waiting.pop(job_id, None)

    def _learn_pace(self, account: str, seconds: float) -> None:
        old = self.seconds_per_position.get(account)
        self.seconds_per_position[account] = seconds if old is None else old + POLL_LEARNING_WEIGHT * (seconds - old)

    # --- after a create ---------------------------------------------------------------------------------------------

    def first_delay(self, job_id: str, kind: Kind, created_at: float, limits: PollLimits) -> float:
        """Seconds until the first poll of a job whose create was answered at ``created_at`` (now): at the expected
        end when jobs of this kind have been seen to finish (sometimes a little before it too); else soon for the
        first of a batch (the probe), and later for the rest, who are asked about as soon as the probe has taught
        the length."""
        pace = self.jobs[job_id] = JobPace(created_at=created_at, learns=True)  # a fresh start (a requeued job too)
        estimate = self.lengths.get(kind)
        if estimate is not None:
            looks = [min(max(look, limits.first), limits.queued_max) for look in estimate.looks(limits.first)]
            pace.looked_early = len(looks) > 1
            pace.looks = [created_at + look for look in looks[1:]]
            return looks[0]
        probe = self.probes.setdefault(kind, job_id)
        if probe == job_id:
            return limits.first
        self.followers.setdefault(kind, {})[job_id] = created_at
        return limits.queued_max

    def skip_early_look(self, job_id: str, kind: Kind, now: float) -> float | None:
        """When the job's poll due now is an early look, give it up (status requests are scarce): seconds until the
        look at the expected end, and the next job of the kind is looked at early instead. None: it is not one."""
        pace = self.jobs.get(job_id)
        if pace is None or not pace.looked_early or not pace.looks or pace.last_asked is not None:
            return None
        pace.looked_early = False
        estimate = self.lengths.get(kind)
        if estimate is not None:
            estimate.early_look_missed()
        return max(0.0, pace.looks.pop(0) - now)

    # --- after an answer ------------------------------------------------------------------------------------------

    def saw(self, job_id: str, kind: Kind, status: str, position: int | None, now: float,
            created_at: float | None) -> dict[str, float]:
        """Record one answer. Returns new delays for jobs that were waiting to learn from this one."""
        pace = self.job(job_id)
        if pace.created_at is None:
            pace.created_at = created_at
        if status == "waiting" and position is not None:
            if pace.last_position is not None and position < pace.last_position[1]:
                moved = pace.last_position[1] - position
                self._learn_pace(kind[0], (now - pace.last_position[0]) / moved)
            if pace.last_position is None or position != pace.last_position[1]:
                pace.last_position = (now, position)
        elif status in RUNNING_STATUSES and pace.running_since is None:
            pace.running_since = now if pace.last_position is not None or created_at is None else created_at
        if status != "done":
            pace.last_asked = now
            return {}
        if self.probes.get(kind) == job_id:
            del self.probes[kind]
        if pace.learns and pace.created_at is not None:
            self._learn(kind, pace, now)
        estimate = self.lengths.get(kind)
        if estimate is None:
            return {}
        return {other: max(0.0, created + estimate.expected - now) + POLL_AIM_MARGIN_S
                for other, created in self.followers.pop(kind, {}).items()}

    def _learn(self, kind: Kind, pace: JobPace, now: float) -> None:
        """A job this runner created ended between its last answer that said otherwise (if any) and ``now``."""
        assert pace.created_at is not None
        start = pace.created_at
        seen = Bracket(None if pace.last_asked is None else pace.last_asked - start, now - start)
        estimate = self.lengths.get(kind)
        if estimate is None:
            self.lengths[kind] = LengthEstimate.first(seen)
        else:
            estimate.learn(seen, looked_early=pace.looked_early)
        if pace.running_since is not None:
            asked = pace.last_asked if pace.last_asked is not None and pace.last_asked > pace.running_since else None
            running = Bracket(None if asked is None else asked - pace.running_since, now - pace.running_since)
            self.processing_s[kind] = follow(self.processing_s.get(kind), running)

    def next_delay(self, job_id: str, kind: Kind, status: str, position: int | None,
                   chunks: tuple[int, int] | None, now: float, limits: PollLimits) -> float:
        """Seconds until this job should be asked about again."""
        pace = self.job(job_id)
        while pace.looks:  # a look planned at the create (after an early look: the one at the expected end)
            planned = pace.looks.pop(0)
            if planned > now:
                return planned - now
        if status == "waiting":
            per_position = self.seconds_per_position.get(kind[0])
            if position is not None:
                delay = position * (per_position or POLL_GUESS_S_PER_POSITION) * POLL_QUEUE_SHARE
            else:  # nothing to go by: back off
                delay = max(pace.interval, limits.base) * POLL_BACKOFF_MULTIPLIER if pace.interval else limits.base
            pace.interval = min(max(delay, limits.minimum), limits.queued_max)
            return pace.interval
        running_for = now - (pace.running_since if pace.running_since is not None else now)
        left = self._time_left(pace, kind, running_for, chunks, now)
        if left is not None and left > 0:
            delay = left * POLL_QUEUE_SHARE
        elif left is not None:  # just past the expected end: ask again soon (within the margin), then settle
            soon = self._overdue_step(pace, kind)
            pace.interval = min(max(soon, -left * POLL_RUNNING_GROWTH), limits.running_max)
            return pace.interval
        else:  # nothing known: a job that has been around for long is asked about less often
            delay = (now - (pace.created_at if pace.created_at is not None else now)) * POLL_RUNNING_GROWTH
        pace.interval = min(max(delay, limits.minimum), limits.running_max)
        return pace.interval

    def _overdue_step(self, pace: JobPace, kind: Kind) -> float:
        """How soon to ask again about a job just past its expected end: within the margin of the learnt length (a
        job a little longer than the last ones costs a request or two), else right after the aim."""
        estimate = self.lengths.get(kind)
        if pace.learns and estimate is not None:
            return margin(estimate.expected)
        return POLL_AIM_MARGIN_S * 2

    def _time_left(self, pace: JobPace, kind: Kind, running_for: float, chunks: tuple[int, int] | None,
                   now: float) -> float | None:
        """Seconds until a running job's expected end (negative: past it), or None when nothing tells."""
        if chunks is not None and running_for > 0 and chunks[0] > 0 and chunks[1] > chunks[0]:
            return running_for * chunks[1] / chunks[0] - running_for
        estimate = self.lengths.get(kind)
        if pace.learns and pace.created_at is not None and estimate is not None:
            return estimate.expected - (now - pace.created_at)
        expected = self.processing_s.get(kind)
        return None if expected is None else expected - running_for


@dataclass
class StatusBudget:
    """At most ``per_minute`` status requests of one account in any 60 seconds."""

    per_minute: int
    _sent: deque[float] = field(default_factory=deque)

    def spent(self, now: float) -> int:
        """Status requests sent in the window that ends ``now``."""
        self.allowed_at(now)  # forgets the ones that have left the window
        return len(self._sent)

    def allowed_at(self, now: float) -> float:
        """When the next status request may go (``now`` when it may go at once)."""
        while self._sent and self._sent[0] <= now - WINDOW_S:
            self._sent.popleft()
        if len(self._sent) < max(1, self.per_minute):
            return now
        return self._sent[0] + WINDOW_S

    def spend(self, now: float) -> None:
        self._sent.append(now)
