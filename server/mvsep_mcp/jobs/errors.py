"""Errors of the jobs package (``JobError`` and its subclasses, drawn in ARCHITECTURE.md, "Error tree"); each
message is a sentence that names the fix."""

from __future__ import annotations

from mvsep_mcp.errors import UserError


class JobError(UserError):
    """Base of every error raised by ``mvsep_mcp.jobs`` (a branch of :mod:`mvsep_mcp.errors`)."""


class JobNotFound(JobError, LookupError):
    """No job with that id for this account."""

    def __init__(self, job_id: str) -> None:
        super().__init__(
            f"No job {job_id!r} exists for this account; list the jobs to see their ids."
        )
        self.job_id = job_id


class JobNotCancellable(JobError):
    """The job cannot be cancelled in its current state."""


class ResultExpired(JobError):
    """MVSep no longer has the job's result files."""


class AccountNotAttached(JobError):
    """The runner has no MVSep client for that account."""

    def __init__(self) -> None:
        super().__init__(
            "No MVSep client is attached for this account; set an API token and restart the server."
        )


class JournalUnavailable(JobError):
    """The journal's database cannot be reached or used right now (the text names where, never a password)."""


class CannotSave(JobError):
    """The output folder cannot take a job's files: no room, a quota, read-only, not allowed. Trying again cannot
    help, so it is said at once (one sentence naming the folder and the room needed), never retried."""
