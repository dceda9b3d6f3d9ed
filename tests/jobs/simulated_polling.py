"""The runner's schedule on a simulated clock: jobs of given lengths, one after the other, polled exactly as
``JobWorker.create`` and ``JobWorker.poll`` drive :class:`PaceBook` (first delay after the create's answer, one
``saw`` per answer, ``next_delay`` while the job is unfinished), with no real time passing."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from dataclasses import dataclass, field

from mvsep_mcp.jobs.pacing import Kind, PaceBook, PollLimits
from mvsep_mcp.jobs.timers import RunnerTimings

KIND: Kind = ("acct", 40)
QUEUE_SHARE = 0.25  # a job waits in the queue for this share of its length, then processes
GAP_S = 0.3  # between one job's end being seen and the next job's create (downloads, the next call)
# the product's own schedule, but with no ceiling on the first poll, so that where it lands shows the estimate
LIMITS = dataclasses.replace(RunnerTimings().poll_limits, queued_max=3600.0)


@dataclass(frozen=True)
class SimulatedJob:
    length: float
    looks: tuple[float, ...]  # seconds after the create at which it was asked about
    estimate: float | None  # the kind's expected length after the job (None: nothing learnt yet)

    @property
    def first_look(self) -> float:
        return self.looks[0]

    @property
    def requests(self) -> int:
        return len(self.looks)

    @property
    def extra(self) -> float:
        """How long after its end the job was seen finished."""
        return self.looks[-1] - self.length


@dataclass
class SimulatedRunner:
    book: PaceBook = field(default_factory=PaceBook)
    limits: PollLimits = LIMITS
    now: float = 1_000.0
    jobs: list[SimulatedJob] = field(default_factory=list)

    def run(self, length: float) -> SimulatedJob:
        """One job of ``length`` seconds (from the create's answer to "done"), polled to its end."""
        job_id = f"j{len(self.jobs)}"
        created = self.now
        delay = self.book.first_delay(job_id, KIND, created, self.limits)
        looks = []
        while True:
            self.now += max(0.0, delay)
            elapsed = self.now - created
            looks.append(elapsed)
            status = "done" if elapsed >= length else "waiting" if elapsed < length * QUEUE_SHARE else "processing"
            position = 1 if status == "waiting" else None
            self.book.saw(job_id, KIND, status, position, self.now, created)
            if status == "done":
                break
            assert len(looks) < 10_000, "the schedule never saw the job end"
            delay = self.book.next_delay(job_id, KIND, status, position, None, self.now, self.limits)
        self.book.forget(job_id)
        self.now += GAP_S
        learnt = self.book.lengths.get(KIND)
        job = SimulatedJob(length, tuple(looks), learnt.expected if learnt else None)
        self.jobs.append(job)
        return job

    def run_all(self, lengths: Iterable[float]) -> list[SimulatedJob]:
        return [self.run(length) for length in lengths]

    def seen_done_at_first_look(self, created_ago: float) -> None:
        """A job this runner did not create (reused, refetched, resumed) found done at its first poll."""
        job_id = f"other{len(self.jobs)}"
        self.book.saw(job_id, KIND, "done", None, self.now, self.now - created_ago)
        self.book.forget(job_id)
