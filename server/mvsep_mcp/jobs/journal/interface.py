"""What the runner needs of a job journal, whichever database holds it (:class:`JobJournal`).

Two backends satisfy it, both a :class:`~mvsep_mcp.jobs.journal.sql.SqlJournal`:
:class:`~mvsep_mcp.jobs.journal.sqlite.SqliteJournal` (one file, the default for a server on one machine) and
:class:`~mvsep_mcp.jobs.journal.postgres.PostgresJournal` (one database shared by replicas).
Every read and write of a user's jobs takes an ``account_key``, or a job id whose record carries one, so a caller
that scopes by account sees only that account's jobs. Every call is short and synchronous; each backend is safe to
use from threads and from the event loop.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any, Literal, Protocol

from mvsep_mcp.jobs.journal.linked import AccountLinks
from mvsep_mcp.jobs.journal.salvage import JournalDamage
from mvsep_mcp.jobs.models import JobRecord, JobSpec, JobState, OutputFile
from mvsep_mcp.policy import RESULT_RETENTION_HOURS

Order = Literal["newest", "oldest"]

# ``update``'s ``change``: further fields computed from the job as it is inside the update's transaction
Change = Callable[[JobRecord], Mapping[str, Any]]

# the states of a job whose MVSep result may be reused (a failed one only when it is ``recoverable``)
REUSABLE_STATES = (JobState.ACTIVE, JobState.DOWNLOADING, JobState.COMPLETED, JobState.FAILED)


class JobJournal(AccountLinks, Protocol):
    """The job journal: jobs committed before anything is sent to MVSep, and the leases that share the work (and,
    for hosted mode, each user's linked MVSep account: :class:`AccountLinks`)."""

    damage: JournalDamage | None  # a damaged journal file set aside at open (SQLite only), else None

    def hold_lease(self, account_key: str, owner: str, *, ttl: float) -> bool:
        """Take or renew the right to work on ``account_key``'s jobs for ``ttl`` seconds; False while another live
        holder has it. At most one holder at a time, whatever the number of processes."""
        ...

    def release_lease(self, account_key: str, owner: str) -> None:
        """Give the lease up (only if ``owner`` holds it)."""
        ...

    def close(self) -> None: ...

    def add(self, spec: JobSpec, *, state: JobState = JobState.QUEUED, **fields: Any) -> JobRecord:
        """Record a new job and commit it; returns the record with its fresh id."""
        ...

    def update(self, job_id: str, *, expect: Iterable[JobState] | None = None, change: Change | None = None,
               **fields: Any) -> JobRecord | None:
        """Change fields of a job atomically; with ``expect``, only if its state is one of those (else ``None``): a
        compare-and-set that holds across processes. ``change`` computes further fields from the job as it is
        inside the transaction."""
        ...

    def record_output(self, job_id: str, output: OutputFile) -> JobRecord:
        """Commit one downloaded file of a job (idempotent per URL)."""
        ...

    def set_outputs(self, job_id: str, outputs: Iterable[OutputFile]) -> JobRecord:
        """Replace a job's outputs at once."""
        ...

    def get(self, job_id: str, account_key: str | None = None) -> JobRecord:
        """The job with that id (scoped to ``account_key`` when given); raises ``JobNotFound``."""
        ...

    def list(self, account_key: str | None = None, *, states: Iterable[JobState] | None = None,
             batch_id: str | None = None, request_key: str | None = None, hash: str | None = None,
             limit: int | None = None, order: Order = "newest") -> list[JobRecord]:
        """Jobs matching every filter given, newest first (or oldest first)."""
        ...

    def find_reusable(self, account_key: str, request_key: str, now: float) -> JobRecord | None:
        """The newest job of that account and request whose MVSep result should still exist, or ``None``."""
        ...


def newest_reusable(records: Iterable[JobRecord], now: float) -> JobRecord | None:
    """The first of ``records`` (newest first, already of one account and request) whose MVSep result should still
    exist: it has a hash, is active/downloading/completed (or failed on this side only: ``recoverable``), and its
    completion (or, before that, its submission) lies within ``RESULT_RETENTION_HOURS`` of ``now``."""
    horizon = now - RESULT_RETENTION_HOURS * 3600
    for record in records:
        if record.state not in REUSABLE_STATES or record.result_gone or not (record.hash or record.remote_hash):
            continue
        if record.state is JobState.FAILED and not record.recoverable:
            continue
        if record.request_key.startswith("unique:"):
            continue
        anchor = record.finished_at or record.submitted_at
        if anchor is not None and anchor >= horizon:
            return record
    return None
