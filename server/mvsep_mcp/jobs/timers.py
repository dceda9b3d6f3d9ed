"""When each job is due again, and the numbers that decide it.

``RunnerTimings`` gathers the runner's tunables (defaults from :mod:`mvsep_mcp.policy`; tests pass tiny ones).
``JobTimers`` is the per-job scratch state of one runner: when a job is next due, its current poll interval, since
when it reports an unknown status, how many attempts failed, and the finished result waiting to be downloaded.
None of it needs to survive a restart: the journal holds what matters.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from mvsep_mcp import policy
from mvsep_mcp.jobs.pacing import PaceBook, PollLimits
from mvsep_mcp.mvsep.models import SeparationResult


@dataclass(frozen=True)
class RunnerTimings:
    poll_interval: float = policy.POLL_INTERVAL_S
    poll_interval_max: float = policy.POLL_INTERVAL_MAX_S
    poll_min: float = policy.POLL_MIN_S
    poll_first: float = policy.POLL_FIRST_S
    poll_running_max: float = policy.POLL_RUNNING_MAX_S
    status_rate: int = policy.ACCOUNT_STATUS_REQUESTS_PER_MINUTE
    download_concurrency: int = policy.DOWNLOAD_CONCURRENCY
    unknown_status_max: float = policy.UNKNOWN_STATUS_MAX_S
    reconcile_slack: float = policy.RECONCILE_SLACK_S
    reconcile_retry: float = policy.RECONCILE_RETRY_S
    download_retry: float = policy.DOWNLOAD_RETRY_S
    create_backoff: float = policy.CREATE_BACKOFF_INITIAL_S
    lease_ttl: float = policy.LEASE_TTL_S
    lease_renew: float = policy.LEASE_RENEW_S
    idle_wake: float = policy.RUNNER_IDLE_WAKE_S
    gone_confirmations: int = policy.POLL_GONE_CONFIRMATIONS
    gone_recheck: float = policy.POLL_GONE_RECHECK_S
    poll_failure_budget: float = policy.POLL_FAILURE_BUDGET_S
    rehash_reused: bool = False  # reused stems are checked by size and mtime; True: by their SHA-256 too

    @property
    def poll_limits(self) -> PollLimits:
        return PollLimits(minimum=self.poll_min, running_max=self.poll_running_max,
                          queued_max=self.poll_interval_max, base=self.poll_interval, first=self.poll_first)


@dataclass
class JobTimers:
    """Per-job scheduling state of one runner, keyed by job id."""

    clock: Callable[[], float]
    next_at: dict[str, float] = field(default_factory=dict)
    unknown_since: dict[str, float] = field(default_factory=dict)
    failures: dict[str, int] = field(default_factory=dict)
    gone_seen: dict[str, int] = field(default_factory=dict)  # answers in a row saying MVSep no longer knows the job
    failing_since: dict[str, float] = field(default_factory=dict)  # when polls started failing without an answer
    results: dict[str, SeparationResult] = field(default_factory=dict)  # `done` results, until downloaded
    pace: PaceBook = field(default_factory=PaceBook)

    def later(self, job_id: str, delay: float) -> None:
        self.next_at[job_id] = self.clock() + delay

    def due_at(self, job_id: str) -> float:
        return self.next_at.get(job_id, 0.0)

    def failed_once_more(self, job_id: str) -> int:
        """Count one more failed attempt; returns the count."""
        self.failures[job_id] = self.failures.get(job_id, 0) + 1
        return self.failures[job_id]

    def forget(self, job_id: str) -> None:
        for table in (self.next_at, self.unknown_since, self.failures, self.results, self.gone_seen,
                      self.failing_since):
            table.pop(job_id, None)
        self.pace.forget(job_id)
