"""When to ask MVSep about a job next, and how often an account may ask at all.

Polling follows the job. Far back in the queue it asks rarely (the queue's pace per place is learnt as places go
by), near the front and while the job runs it asks every few seconds, and once jobs of a model have been seen to
finish it asks right at the expected end, so that a job whose length is known costs one or two requests.
Several new jobs of the same model and account, before any has finished: one of them (the probe) is followed
closely, the others wait for what it teaches and are then asked about at their own expected ends.

Every status request of an account, for all its jobs together, passes :class:`StatusBudget`: at most
``per_minute`` in any 60 seconds (MVSep documents 60-120 API requests a minute; the policy stays well under).
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

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
    total_s: dict[Kind, float] = field(default_factory=dict)  # from the create to the end
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

    @staticmethod
    def _learn(table: dict[str, float] | dict[Kind, float], key: object, value: float) -> None:
        old = table.get(key)  # type: ignore[call-overload]
        table[key] = value if old is None else old + POLL_LEARNING_WEIGHT * (value - old)  # type: ignore[index]

    # --- after a create ---------------------------------------------------------------------------------------------

    def first_delay(self, job_id: str, kind: Kind, created_at: float, limits: PollLimits) -> float:
        """At the expected end when jobs of this kind have been seen to finish; else soon for the first of a batch
        (the probe), and later for the rest, who are asked about as soon as the probe has taught the length."""
        self.job(job_id).created_at = created_at
        expected = self.total_s.get(kind)
        if expected is not None:
            return min(max(expected + POLL_AIM_MARGIN_S, limits.first), limits.queued_max)
        probe = self.probes.setdefault(kind, job_id)
        if probe == job_id:
            return limits.first
        self.followers.setdefault(kind, {})[job_id] = created_at
        return limits.queued_max

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
                self._learn(self.seconds_per_position, kind[0], (now - pace.last_position[0]) / moved)
            if pace.last_position is None or position != pace.last_position[1]:
                pace.last_position = (now, position)
        elif status in RUNNING_STATUSES and pace.running_since is None:
            pace.running_since = now if pace.last_position is not None or created_at is None else created_at
        if status != "done":
            pace.last_asked = now
            return {}
        # the job ended between the last answer that said otherwise and this one: take the middle; when the very
        # first answer is "done" (a poll aimed at the expected end), it ended a little before: aim a little earlier
        ended = (now + pace.last_asked) / 2 if pace.last_asked is not None else now - POLL_AIM_MARGIN_S
        if pace.running_since is not None:
            self._learn(self.processing_s, kind, max(0.0, ended - pace.running_since))
        if pace.created_at is not None:
            self._learn(self.total_s, kind, max(0.0, ended - pace.created_at))
        if self.probes.get(kind) == job_id:
            del self.probes[kind]
        expected = self.total_s.get(kind)
        if expected is None:
            return {}
        return {other: max(0.0, created + expected - now) + POLL_AIM_MARGIN_S
                for other, created in self.followers.pop(kind, {}).items()}

    def next_delay(self, job_id: str, kind: Kind, status: str, position: int | None,
                   chunks: tuple[int, int] | None, now: float, limits: PollLimits) -> float:
        """Seconds until this job should be asked about again."""
        pace = self.job(job_id)
        if status == "waiting":
            per_position = self.seconds_per_position.get(kind[0])
            if position is not None:
                delay = position * (per_position or POLL_GUESS_S_PER_POSITION) * POLL_QUEUE_SHARE
            else:  # nothing to go by: back off
                delay = max(pace.interval, limits.base) * POLL_BACKOFF_MULTIPLIER if pace.interval else limits.base
            pace.interval = min(max(delay, limits.minimum), limits.queued_max)
            return pace.interval
        running_for = now - (pace.running_since if pace.running_since is not None else now)
        expected = self.processing_s.get(kind)
        if chunks is not None and running_for > 0 and chunks[0] > 0 and chunks[1] > chunks[0]:
            expected = running_for * chunks[1] / chunks[0]
        if expected is not None and running_for < expected:
            delay = (expected - running_for) * POLL_QUEUE_SHARE
        elif expected is not None:  # just past the expected end: ask again soon, then settle
            delay = max(POLL_AIM_MARGIN_S * 2, (running_for - expected) * POLL_RUNNING_GROWTH)
            pace.interval = min(delay, limits.running_max)
            return pace.interval
        else:  # nothing known: a job that has been around for long is asked about less often
            delay = (now - (pace.created_at if pace.created_at is not None else now)) * POLL_RUNNING_GROWTH
        pace.interval = min(max(delay, limits.minimum), limits.running_max)
        return pace.interval


@dataclass
class StatusBudget:
    """At most ``per_minute`` status requests of one account in any 60 seconds."""

    per_minute: int
    _sent: deque[float] = field(default_factory=deque)

    def allowed_at(self, now: float) -> float:
        """When the next status request may go (``now`` when it may go at once)."""
        while self._sent and self._sent[0] <= now - WINDOW_S:
            self._sent.popleft()
        if len(self._sent) < max(1, self.per_minute):
            return now
        return self._sent[0] + WINDOW_S

    def spend(self, now: float) -> None:
        self._sent.append(now)
