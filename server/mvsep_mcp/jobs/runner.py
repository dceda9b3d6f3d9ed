"""The background job runner's public face: submit, wait, cancel, refetch; accounts attached; started and stopped.

One ``JobRunner`` per process (``start(task_group)`` in the server's lifespan, or ``await run()``) runs its
:class:`Scheduler` as a single task: the loop that holds each account's lease and starts the :class:`JobWorker`'s
create, reconcile, poll or download of every job that is due. Everything is written to the journal first, so a new
runner on the same journal picks up where the last one stopped, and never creates a job twice.

Collaborators: :class:`JobChanges` (journal writes that wake everyone), :class:`JobTimers` (when each job is due),
:class:`JobWorker` (the work), :class:`Scheduler` (what runs when, the accounts attached, reuse). Callers use
``submit`` (returns at once), ``wait`` (until jobs finish or a time budget runs out), ``cancel``, ``refetch``, ``get``
and ``list``, each scoped to an account key.
"""

from __future__ import annotations

import builtins
import logging
import time
from collections.abc import Awaitable, Callable, Iterable
from typing import Any, Literal

import anyio
from anyio.abc import TaskGroup

from mvsep_mcp.jobs import chains
from mvsep_mcp.jobs.changes import JobChanges
from mvsep_mcp.jobs.concurrency import account_limit, in_flight_count
from mvsep_mcp.jobs.errors import JobError, JobNotCancellable, ResultExpired
from mvsep_mcp.jobs.journal import JobJournal, request_key_for
from mvsep_mcp.jobs.models import NON_TERMINAL_STATES, JobRecord, JobSpec, JobState, ProgressUpdate
from mvsep_mcp.jobs.pacing import kind_of
from mvsep_mcp.jobs.polling import expired_message
from mvsep_mcp.jobs.ports import JobsClient, SessionsAfterJob
from mvsep_mcp.jobs.progress import job_fraction, progress_text
from mvsep_mcp.jobs.scheduler import Scheduler
from mvsep_mcp.jobs.stats import RunnerStats
from mvsep_mcp.jobs.timers import JobTimers, RunnerTimings
from mvsep_mcp.jobs.worker import JobWorker
from mvsep_mcp.mvsep import errors as mvsep_errors
from mvsep_mcp.mvsep.models import FAILED_STATUSES
from mvsep_mcp.policy import FREE_CONCURRENT_JOBS, JOURNAL_RECHECK_S, PROGRESS_STEP

log = logging.getLogger(__name__)

ProgressCallback = Callable[[ProgressUpdate], Awaitable[None]]


class JobRunner:
    """Runs the journal's jobs against MVSep for every attached account."""

    def __init__(
        self,
        journal: JobJournal,
        *,
        sessions_after_job: SessionsAfterJob,
        clock: Callable[[], float] = time.time,
        retry_delay: float | None = None,
        **timings: Any,
    ) -> None:
        """``sessions_after_job`` writes the DAW session files a request asked for once its job's files are saved (the
        session's hook); ``timings`` override :class:`RunnerTimings` fields; ``retry_delay`` sets every retry pause at
        once."""
        if retry_delay is not None:
            for name in ("reconcile_retry", "download_retry", "create_backoff"):
                timings.setdefault(name, retry_delay)
        base = RunnerTimings(**timings)
        self.timings = RunnerTimings(**{
            **base.__dict__,
            "poll_interval_max": max(base.poll_interval_max, base.poll_interval),
            # a faster base (the sandbox, tests) scales every pause down with it
            "poll_min": min(base.poll_min, base.poll_interval),
            "poll_first": min(base.poll_first, base.poll_interval),
            "poll_running_max": min(base.poll_running_max, max(base.poll_interval_max, base.poll_interval)),
            "lease_renew": min(base.lease_renew, base.lease_ttl / 2),  # also how soon others' new work is seen
        })
        self.journal = journal
        self.clock = clock
        self.stats = RunnerStats()
        self.changes = JobChanges(journal)
        self.timers = JobTimers(clock)
        self.worker = JobWorker(self.changes, self.timers, self.timings, self.stats, clock,
                                sessions_after_job=sessions_after_job)
        self.scheduler = Scheduler(self.changes, self.timers, self.worker, self.timings, self.stats, clock)

    # --- accounts ------------------------------------------------------------------------------------------------

    async def attach_account(self, account_key: str, client: JobsClient, *, concurrency: int | None = None) -> None:
        """Register the MVSep client of an account; the limit defaults from the account's premium status."""
        if concurrency is None:
            try:
                concurrency = account_limit(await client.user())
            except mvsep_errors.MVSepError as exc:
                log.warning("cannot read the account's plan (%s); assuming %d job at a time", exc,
                            FREE_CONCURRENT_JOBS)
                concurrency = FREE_CONCURRENT_JOBS
        self.scheduler.attach(account_key, client, max(1, int(concurrency)))

    def detach_account(self, account_key: str) -> bool:
        """Forget an account's client and give its lease up; ``False`` (nothing changed) while work on one of its
        jobs is under way. The caller checks that the account has no unfinished job and closes the client."""
        return self.scheduler.detach(account_key)

    def attached(self, account_key: str, client: JobsClient) -> bool:
        """Whether ``client`` is the one the runner works ``account_key``'s jobs with."""
        slot = self.scheduler.accounts.get(account_key)
        return slot is not None and slot.client is client

    def concurrency(self, account_key: str) -> int:
        return self.scheduler.slot(account_key).limit

    # --- lifecycle -----------------------------------------------------------------------------------------------

    @property
    def running(self) -> bool:
        return self.scheduler.running

    async def start(self, task_group: TaskGroup) -> None:
        """Start the scheduler in ``task_group`` (returns once it runs)."""
        await task_group.start(self._run_started)

    async def _run_started(self, *, task_status: Any = anyio.TASK_STATUS_IGNORED) -> None:
        await self.run(task_status=task_status)

    async def run(self, *, task_status: Any = anyio.TASK_STATUS_IGNORED) -> None:
        """Run the scheduler until ``stop()`` (or cancellation): resume, then schedule work on every change."""
        await self.scheduler.run(task_status=task_status)

    def stop(self) -> None:
        """Stop the scheduler and its in-progress work (journal rows stay as they are, ready to resume)."""
        self.scheduler.stop()

    # --- the caller-facing API -----------------------------------------------------------------------------------

    async def submit(self, specs: builtins.list[JobSpec]) -> builtins.list[JobRecord]:
        """Record each job (``queued``, or reusing an identical earlier job) and return at once."""
        records = []
        for spec in specs:
            record = self.journal.add(spec, request_key=request_key_for(spec))
            records.append(self.scheduler.reuse_into(record) or record)
        self.changes.notify()
        return records

    def get(self, account_key: str, job_id: str) -> JobRecord:
        return self.journal.get(job_id, account_key)

    def list(self, account_key: str, states: Iterable[JobState] | None = None, limit: int = 20,
             batch_id: str | None = None) -> builtins.list[JobRecord]:
        return self.journal.list(account_key, states=states, batch_id=batch_id, limit=limit)

    async def wait(
        self,
        account_key: str,
        job_ids: builtins.list[str],
        *,
        timeout: float,  # noqa: ASYNC109 - the time budget of one tool call, not a cancellation mechanism
        until: Literal["finished", "submitted"] = "finished",
        on_progress: ProgressCallback | None = None,
    ) -> builtins.list[JobRecord]:
        """Block until every job is finished (or submitted), or ``timeout`` seconds pass.

        ``on_progress`` hears how far along the jobs are (see :mod:`mvsep_mcp.jobs.progress`): a number that never
        goes down within this call, reported when it has moved or when what the jobs are doing has changed.
        """
        deadline = anyio.current_time() + max(0.0, timeout)
        reported, said = 0.0, ""
        first = True
        while True:
            changed = self.changes.event()
            records = [self.journal.get(job_id, account_key) for job_id in job_ids]
            if on_progress is not None:
                progress = max(reported, self._progress(records))
                text = progress_text(records)
                if first or text != said or progress - reported >= PROGRESS_STEP:
                    reported, said, first = progress, text, False
                    done = sum(1 for r in records if r.is_terminal)
                    await on_progress(ProgressUpdate(progress=progress, total=len(records), done=done, text=text))
            if all(self._settled(r, until) for r in records):
                return records
            remaining = deadline - anyio.current_time()
            if remaining <= 0:
                return records
            # another server process may be doing the work (see the journal's leases): look again now and then
            with anyio.move_on_after(min(remaining, JOURNAL_RECHECK_S)):
                await changed.wait()

    def next_check_s(self, records: Iterable[JobRecord]) -> float | None:
        """Seconds until this runner next asks MVSep about any of the unfinished jobs (0: they are changing now, being
        sent or downloaded; None: none is unfinished or none is timed here, e.g. another replica works them)."""
        now = self.clock()
        waits = []
        for record in records:
            if record.is_terminal or chains.is_waiting(record):  # a chain step waits on the step before's timing
                continue
            if record.state is JobState.ACTIVE and record.id in self.timers.next_at:
                waits.append(max(0.0, self.timers.due_at(record.id) - now))
            elif record.state is not JobState.ACTIVE:
                waits.append(0.0)
        return min(waits) if waits else None

    def _progress(self, records: Iterable[JobRecord]) -> float:
        now = self.clock()
        pace = self.timers.pace
        return sum(job_fraction(r, now, pace.processing_s.get(kind_of(r))) for r in records)

    def _settled(self, record: JobRecord, until: str) -> bool:
        if record.is_terminal:
            return True
        if until == "finished" or record.state is JobState.SUBMITTING:
            return False
        if record.state is JobState.QUEUED:
            if record.waits_for:
                return True  # the identical job it waits for is the one being submitted
            slot = self.scheduler.accounts.get(record.account_key)
            if slot is None:
                return False
            others = self.journal.list(record.account_key, states=NON_TERMINAL_STATES)
            return in_flight_count(others) >= slot.limit  # waiting behind the concurrency limit
        return True

    async def cancel(self, account_key: str, job_id: str) -> JobRecord:
        """Cancel a job: locally while queued, on MVSep while it waits there; refuses once processing started."""
        record = self.journal.get(job_id, account_key)
        now = self.clock()
        if record.state is JobState.QUEUED:
            cancelled = self.changes.update(job_id, expect=[JobState.QUEUED], state=JobState.CANCELLED, finished_at=now)
            if cancelled is not None:
                return cancelled
            record = self.journal.get(job_id, account_key)
        if record.is_terminal:
            raise JobNotCancellable(f"Job {job_id} has already ended ({record.state.value}); nothing to cancel.")
        if record.state in (JobState.SUBMITTING, JobState.UNCERTAIN):
            raise JobNotCancellable(
                f"Job {job_id} is being submitted to MVSep right now; wait a few seconds and cancel it again.")
        if record.state is JobState.DOWNLOADING:
            raise JobNotCancellable(
                f"Job {job_id} has already been processed and its files are being downloaded; it cannot be "
                f"cancelled (delete the files afterwards if you do not want them).")
        job_hash = record.hash or record.remote_hash
        shared = [r for r in self.journal.list(account_key, states=NON_TERMINAL_STATES, hash=record.hash)
                  if r.id != job_id] if record.hash else []
        if record.reused_from or shared:
            # the MVSep job belongs to (or is shared with) another record: stop following it here only
            cancelled = self.changes.update(job_id, expect=[JobState.ACTIVE], state=JobState.CANCELLED, finished_at=now)
            if cancelled is None:
                raise JobNotCancellable(f"Job {job_id} changed state while cancelling; look at it again.")
            self.timers.forget(job_id)
            return cancelled
        slot = self.scheduler.slot(account_key)
        self.stats.cancels_sent += 1
        ok = await slot.client.cancel_separation(job_hash or "")
        if not ok:
            raise JobNotCancellable(
                f"Job {job_id} is already processing on MVSep (or has finished) and can no longer be cancelled; "
                f"wait for it to finish instead.")
        cancelled = self.changes.update(job_id, expect=[JobState.ACTIVE], state=JobState.CANCELLED,
                                        finished_at=self.clock())
        self.timers.forget(job_id)
        return cancelled or self.journal.get(job_id, account_key)

    async def refetch(self, account_key: str, job_id: str, output_root: str) -> JobRecord:
        """A new job that downloads an earlier job's MVSep result again into ``output_root`` (no create, no upload)."""
        source = self.journal.get(job_id, account_key)
        if source.state is JobState.EXPIRED:
            raise ResultExpired(expired_message(source))
        mvsep_failed = source.state is JobState.FAILED and source.mvsep_status in FAILED_STATUSES
        if source.state is JobState.CANCELLED or mvsep_failed or not (source.hash or source.remote_hash):
            raise JobError(
                f"Job {job_id} has no result on MVSep to download ({source.state.value}); submit the file again.")
        spec = source.spec.model_copy(update={"output_root": str(output_root)})
        record = self.journal.add(spec, state=JobState.ACTIVE, request_key=source.request_key, hash=source.hash,
                                  remote_hash=source.remote_hash, reused_from=source.id, refetch=True,
                                  submitted_at=source.submitted_at)
        self.changes.notify()
        return record

