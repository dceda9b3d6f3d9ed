"""Jobs: the journal (SQLite, or PostgreSQL shared by replicas) and the background runner that submits, polls,
downloads and resumes MVSep jobs.

```python
from mvsep_mcp.jobs import Journal, JobRunner, JobSpec, JobState

journal = Journal(default_journal_path())
runner = JobRunner(journal, sessions_after_job=hook)   # hook: jobs.ports.SessionsAfterJob (DAW sessions)
await runner.attach_account(account_key, client)       # client: mvsep_mcp.mvsep.MVSepClient
task_group.start_soon(runner.run)                      # or: await runner.start(task_group)
[record] = await runner.submit([JobSpec(...)])         # returns at once, state "queued"
records = await runner.wait(account_key, [record.id], timeout=45, on_progress=report)
```
"""

from __future__ import annotations

from mvsep_mcp.jobs.concurrency import account_limit
from mvsep_mcp.jobs.errors import (
    AccountNotAttached,
    JobError,
    JobNotCancellable,
    JobNotFound,
    JournalUnavailable,
    ResultExpired,
)
from mvsep_mcp.jobs.journal import (
    JobJournal,
    Journal,
    SqliteJournal,
    default_journal_path,
    open_journal,
    request_key,
    request_key_for,
)
from mvsep_mcp.jobs.models import (
    NON_TERMINAL_STATES,
    TERMINAL_STATES,
    JobKind,
    JobRecord,
    JobSpec,
    JobState,
    OutputFile,
    ProgressUpdate,
)
from mvsep_mcp.jobs.ports import JobsClient, SessionsAfterJob
from mvsep_mcp.jobs.runner import JobRunner, ProgressCallback
from mvsep_mcp.jobs.stats import RunnerStats

__all__ = [
    "NON_TERMINAL_STATES",
    "TERMINAL_STATES",
    "AccountNotAttached",
    "JobError",
    "JobJournal",
    "JobKind",
    "JobNotCancellable",
    "JobNotFound",
    "JobRecord",
    "JobRunner",
    "JobsClient",
    "JobSpec",
    "JobState",
    "Journal",
    "JournalUnavailable",
    "OutputFile",
    "ProgressCallback",
    "ProgressUpdate",
    "ResultExpired",
    "RunnerStats",
    "SessionsAfterJob",
    "SqliteJournal",
    "account_limit",
    "default_journal_path",
    "open_journal",
    "request_key",
    "request_key_for",
]
