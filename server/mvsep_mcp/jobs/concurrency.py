"""Per-account bookkeeping of the runner: the MVSep client, the concurrency limit, create back-off.

A job is "in flight" while MVSep may be working on it: submitting, uncertain, or active with a status other than
done. Active jobs that share one MVSep hash (a reused result) count once.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from mvsep_mcp.jobs.models import JobRecord, JobState
from mvsep_mcp.jobs.pacing import StatusBudget
from mvsep_mcp.jobs.ports import JobsClient
from mvsep_mcp.mvsep.models import UserInfo
from mvsep_mcp.policy import (
    ACCOUNT_STATUS_REQUESTS_PER_MINUTE,
    CREATE_BACKOFF_INITIAL_S,
    CREATE_BACKOFF_MAX_S,
    FREE_CONCURRENT_JOBS,
    PREMIUM_CONCURRENT_JOBS,
    RETRY_BACKOFF_MULTIPLIER,
)


def account_limit(user: UserInfo) -> int:
    """How many jobs an account may have in flight at once, from its plan."""
    return PREMIUM_CONCURRENT_JOBS if user.premium_enabled else FREE_CONCURRENT_JOBS


def in_flight_count(records: Iterable[JobRecord]) -> int:
    """How many MVSep jobs of these records MVSep is still processing (shared hashes count once)."""
    hashes: set[str] = set()
    count = 0
    for record in records:
        if record.state in (JobState.SUBMITTING, JobState.UNCERTAIN):
            count += 1
        elif record.state is JobState.ACTIVE and record.mvsep_status != "done":
            key = record.remote_hash or record.hash
            if key is None:
                count += 1
            elif key not in hashes:
                hashes.add(key)
                count += 1
    return count


@dataclass
class AccountSlot:
    """One attached account: its client, its limit and when its next create may be sent."""

    account_key: str
    client: JobsClient
    limit: int
    backoff_initial: float = CREATE_BACKOFF_INITIAL_S
    backoff_max: float = CREATE_BACKOFF_MAX_S
    next_create_at: float = 0.0
    status_budget: StatusBudget = field(default_factory=lambda: StatusBudget(ACCOUNT_STATUS_REQUESTS_PER_MINUTE))
    _backoff: float = field(default=0.0, repr=False)

    def lower_limit(self, in_flight: int) -> None:
        """MVSep refused a create with ``in_flight`` jobs running: that is the account's real limit."""
        self.limit = max(1, min(self.limit, in_flight))

    def defer_creates(self, now: float, retry_after: float | None = None) -> float:
        """Pause creates after a 429 or transport failure (doubling up to the maximum); returns the delay."""
        if retry_after is not None and retry_after > 0:
            delay = min(float(retry_after), self.backoff_max)
        else:
            self._backoff = self.backoff_initial if self._backoff <= 0 else min(
                self._backoff * RETRY_BACKOFF_MULTIPLIER, self.backoff_max)
            delay = self._backoff
        self.next_create_at = now + delay
        return delay

    def create_succeeded(self) -> None:
        self._backoff = 0.0
