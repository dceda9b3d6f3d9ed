"""The background job runner: submit within the account's limit, poll, download, resume after a restart.

One ``JobRunner`` runs as a single task (``start(task_group)`` in the server's lifespan, or ``await run()``). Its loop
is a scheduler: on every change (or when the next poll / retry is due) it looks at the journal's unfinished jobs of
each attached account and starts at most one piece of work per job (create, reconcile, poll or download: the
:class:`JobWorker`) as a child task. Everything is written to the journal first, so a new runner on the same journal
picks up where the last one stopped, and never creates a job twice.

Collaborators: :class:`JobChanges` (journal writes that wake everyone), :class:`JobTimers` (when each job is due),
:class:`JobWorker` (the work), :class:`AccountSlot` per attached account (client, limit, create back-off).
Callers use ``submit`` (returns at once), ``wait`` (until jobs finish or a time budget runs out), ``cancel``,
``refetch``, ``get`` and ``list``, each scoped to an account key.
"""

from __future__ import annotations

import builtins
import logging
import time
import uuid
from collections.abc import Awaitable, Callable, Iterable
from typing import Any, Literal

import anyio
from anyio.abc import TaskGroup

from mvsep_mcp.jobs import partials
from mvsep_mcp.jobs.changes import JobChanges
from mvsep_mcp.jobs.concurrency import AccountSlot, account_limit, in_flight_count
from mvsep_mcp.jobs.errors import (
    AccountNotAttached,
    JobError,
    JobNotCancellable,
    JobNotFound,
    JournalUnavailable,
    ResultExpired,
)
from mvsep_mcp.jobs.journal import JobJournal, request_key_for
from mvsep_mcp.jobs.models import NON_TERMINAL_STATES, JobRecord, JobSpec, JobState, ProgressUpdate
from mvsep_mcp.jobs.pacing import StatusBudget
from mvsep_mcp.jobs.polling import expired_message
from mvsep_mcp.jobs.ports import JobsClient, SessionsAfterJob
from mvsep_mcp.jobs.progress import job_fraction, progress_text
from mvsep_mcp.jobs.reuse import leader_into_same_folder, output_unchanged, reusable_files, same_destination
from mvsep_mcp.jobs.stats import RunnerStats
from mvsep_mcp.jobs.timers import JobTimers, RunnerTimings
from mvsep_mcp.jobs.worker import JobWorker
from mvsep_mcp.mvsep import errors as mvsep_errors
from mvsep_mcp.mvsep.models import FAILED_STATUSES
from mvsep_mcp.policy import FREE_CONCURRENT_JOBS, JOURNAL_RECHECK_S, PROGRESS_STEP

log = logging.getLogger(__name__)

ProgressCallback = Callable[[ProgressUpdate], Awaitable[None]]
Work = Callable[[AccountSlot, JobRecord], Awaitable[None]]


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
        self.owner = uuid.uuid4().hex  # this runner's name in the journal's leases
        self.changes = JobChanges(journal)
        self.timers = JobTimers(clock)
        self.worker = JobWorker(self.changes, self.timers, self.timings, self.stats, clock,
                                sessions_after_job=sessions_after_job)
        self._accounts: dict[str, AccountSlot] = {}
        self._resumed: set[str] = set()  # accounts whose lease we hold and whose leftovers we resumed
        self._lease_renewed_at: dict[str, float] = {}
        self._busy: dict[str, str] = {}  # job id -> account key, while work on the job is under way
        self._cancel_scope: anyio.CancelScope | None = None

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
        previous = self._accounts.get(account_key)
        slot = AccountSlot(account_key, client, max(1, int(concurrency)), backoff_initial=self.timings.create_backoff,
                           status_budget=StatusBudget(self.timings.status_rate))
        if previous is not None:
            slot.status_budget = previous.status_budget  # the same account: the same requests already sent
        self._accounts[account_key] = slot
        self.changes.notify()  # the loop resumes the account's jobs once it holds the account's lease

    def detach_account(self, account_key: str) -> bool:
        """Forget an account's client and give its lease up; ``False`` (nothing changed) while work on one of its
        jobs is under way. The caller checks that the account has no unfinished job and closes the client."""
        if account_key in self._busy.values():
            return False
        self._accounts.pop(account_key, None)
        self._lease_renewed_at.pop(account_key, None)
        if account_key in self._resumed:
            self._resumed.discard(account_key)
            try:
                self.journal.release_lease(account_key, self.owner)
            except Exception as exc:  # the database away for a moment: the lease lapses by itself
                log.debug("could not release the lease of %s: %s", account_key, exc)
        return True

    def attached(self, account_key: str, client: JobsClient) -> bool:
        """Whether ``client`` is the one the runner works ``account_key``'s jobs with."""
        slot = self._accounts.get(account_key)
        return slot is not None and slot.client is client

    def concurrency(self, account_key: str) -> int:
        return self._slot(account_key).limit

    def _slot(self, account_key: str) -> AccountSlot:
        slot = self._accounts.get(account_key)
        if slot is None:
            raise AccountNotAttached()
        return slot

    # --- lifecycle -----------------------------------------------------------------------------------------------

    @property
    def running(self) -> bool:
        return self._cancel_scope is not None

    async def start(self, task_group: TaskGroup) -> None:
        """Start the loop in ``task_group`` (returns once it runs)."""
        await task_group.start(self._run_started)

    async def _run_started(self, *, task_status: Any = anyio.TASK_STATUS_IGNORED) -> None:
        await self.run(task_status=task_status)

    async def run(self, *, task_status: Any = anyio.TASK_STATUS_IGNORED) -> None:
        """Run until ``stop()`` (or cancellation): resume, then schedule work on every change."""
        if self.running:
            raise JobError("The job runner is already running; start it only once per process.")
        try:
            async with anyio.create_task_group() as tg:
                self._cancel_scope = tg.cancel_scope
                task_status.started()
                while True:
                    changed = self.changes.event()
                    try:
                        delay = self._schedule(tg)
                    except JournalUnavailable as exc:  # a shared database away for a moment: look again soon
                        log.warning("%s", exc)
                        delay = self.timings.lease_renew
                    with anyio.move_on_after(delay):
                        await changed.wait()
        finally:
            for account_key in list(self._resumed):
                try:
                    self.journal.release_lease(account_key, self.owner)
                except Exception as exc:  # a closed journal: the lease lapses by itself
                    log.debug("could not release the lease of %s: %s", account_key, exc)
            self._cancel_scope = None
            self._busy.clear()
            self._resumed.clear()

    def stop(self) -> None:
        """Stop the loop and its in-progress work (journal rows stay as they are, ready to resume)."""
        if self._cancel_scope is not None:
            self._cancel_scope.cancel()

    def _resume(self, account_key: str) -> None:
        """Jobs left ``submitting`` by a previous run become ``uncertain`` (reconciled from history, never re-sent),
        except those whose upload had not reached its last bytes: MVSep cannot have them, so they are queued again."""
        if account_key in self._resumed:
            return
        self._resumed.add(account_key)
        removed = partials.tidy(self.journal, account_key, self.clock())
        if removed:
            log.info("removed %d temporary file(s) of ended downloads", removed)
        for record in self.journal.list(account_key, states=[JobState.SUBMITTING]):
            if record.upload == "sending":
                log.info("job %s was being uploaded when the server stopped: sending it again", record.id)
                self.journal.update(record.id, expect=[JobState.SUBMITTING], state=JobState.QUEUED,
                                    submitted_at=None, upload=None)
                continue
            log.info("job %s was being submitted when the server stopped: checking MVSep's history", record.id)
            self.journal.update(record.id, expect=[JobState.SUBMITTING], state=JobState.UNCERTAIN)

    # --- scheduling ----------------------------------------------------------------------------------------------

    def _schedule(self, tg: TaskGroup) -> float:
        """Start every piece of work that is due; return the seconds until the next one."""
        now = self.clock()
        next_due = now + self.timings.idle_wake
        work_for: dict[JobState, Work] = {JobState.UNCERTAIN: self.worker.reconcile, JobState.ACTIVE: self.worker.poll,
                                          JobState.DOWNLOADING: self.worker.download}
        for account_key, slot in list(self._accounts.items()):
            next_due = min(next_due, now + self.timings.lease_renew)
            if not self._hold_lease(account_key, now):
                continue  # another live server process works on this account's jobs
            self._resume(account_key)
            records = self.journal.list(account_key, states=NON_TERMINAL_STATES, order="oldest")
            for record in sorted(records, key=lambda r: self.timers.due_at(r.id)):
                work = work_for.get(record.state)
                if record.id in self._busy or work is None:
                    continue
                due = self.timers.due_at(record.id)
                if due > now:
                    next_due = min(next_due, due)
                    continue
                if self._asks_status(record):
                    allowed = slot.status_budget.allowed_at(now)
                    if allowed > now:  # the account's status budget is spent: the most overdue job goes first
                        next_due = min(next_due, allowed)
                        continue
                    slot.status_budget.spend(now)
                self._spawn(tg, work, slot, record)
            next_due = min(next_due, self._schedule_creates(tg, slot, records, now))
        return max(0.0, next_due - now)

    def _asks_status(self, record: JobRecord) -> bool:
        """Whether the work on this job starts with a status request (counted in the account's budget)."""
        return record.state is JobState.ACTIVE or (
            record.state is JobState.DOWNLOADING and record.id not in self.timers.results)

    def _hold_lease(self, account_key: str, now: float) -> bool:
        """Hold the account's lease, writing to the journal only once per renewal interval (not on every pass)."""
        renewed = self._lease_renewed_at.get(account_key)
        if account_key in self._resumed and renewed is not None and now - renewed < self.timings.lease_renew:
            return True
        if self.journal.hold_lease(account_key, self.owner, ttl=self.timings.lease_ttl):
            self._lease_renewed_at[account_key] = now
            return True
        if account_key in self._resumed:  # lost it (we stalled past the ttl): stop starting new work
            log.warning("another server process took over this account's jobs")
            self._resumed.discard(account_key)
        return False

    def _schedule_creates(self, tg: TaskGroup, slot: AccountSlot, records: list[JobRecord], now: float) -> float:
        queued = [r for r in records if r.state is JobState.QUEUED and r.id not in self._busy
                  and not (r.waits_for and self._follower_handled(r))]
        if not queued:
            return now + self.timings.idle_wake
        if slot.next_create_at > now:
            return slot.next_create_at
        in_flight = in_flight_count(records)
        pending_keys = {r.request_key for r in records if r.state in (JobState.SUBMITTING, JobState.UNCERTAIN)}
        for record in queued:
            if in_flight >= slot.limit:
                break
            if record.request_key in pending_keys:
                continue  # an identical request is being created: reuse its result once it has a hash
            if self._reuse_into(record) is not None:
                continue
            claimed = self.changes.update(record.id, expect=[JobState.QUEUED], state=JobState.SUBMITTING,
                                          submitted_at=self.clock(), error=None, upload="sending")
            if claimed is None:
                continue
            pending_keys.add(record.request_key)
            in_flight += 1
            self._spawn(tg, self.worker.create, slot, claimed)
        return now + self.timings.idle_wake

    def _follower_handled(self, record: JobRecord) -> bool:
        """A job waiting for an identical job into the same folder: True while it waits, or once it took that job's
        files or result (``_reuse_into``), or failed the same way (MVSep refused or failed the request itself);
        False when it is a plain queued job again (the job it waited for was cancelled or expired: create it)."""
        try:
            leader = self.journal.get(record.waits_for or "", record.account_key)
        except JobNotFound:
            leader = None
        if leader is not None and not leader.is_terminal:
            return True
        if leader is not None and leader.state is JobState.FAILED and not leader.recoverable:
            self.changes.update(record.id, expect=[JobState.QUEUED], state=JobState.FAILED, finished_at=self.clock(),
                                waits_for=None, error=leader.error)
            return True
        if self.changes.update(record.id, expect=[JobState.QUEUED], waits_for=None) is None:
            return True  # changed meanwhile (cancelled, say)
        return self._reuse_into(record) is not None

    def _spawn(self, tg: TaskGroup, work: Work, slot: AccountSlot, record: JobRecord) -> None:
        self._busy[record.id] = slot.account_key

        async def guarded() -> None:
            try:
                await work(slot, record)
            except Exception:  # one job's surprise must not stop the others
                log.exception("job %s: unexpected error in %s", record.id, getattr(work, "__name__", work))
                self.timers.later(record.id, self.timings.poll_interval_max)
            finally:
                self._busy.pop(record.id, None)
                self.changes.notify()

        tg.start_soon(guarded)

    # --- reuse ---------------------------------------------------------------------------------------------------

    def _reuse_into(self, record: JobRecord) -> JobRecord | None:
        """Point a queued job at an earlier identical job's files or MVSep result, if one is still there, or make it
        wait for an unfinished identical job into the same folder (whose files it then takes: one set of files)."""
        spec, now = record.spec, self.clock()
        files_from = reusable_files(self.journal, spec, record.request_key, exclude=record.id,
                                    rehash=self.timings.rehash_reused)
        if files_from is not None:
            self.journal.set_outputs(record.id, files_from.outputs)
            self.stats.reused_files += 1
            return self.changes.update(
                record.id, expect=[JobState.QUEUED], state=JobState.COMPLETED, reused_from=files_from.id,
                hash=files_from.hash, remote_hash=files_from.remote_hash, submitted_at=files_from.submitted_at,
                finished_at=now, mvsep_status="done", files_total=len(files_from.outputs),
                manifest_path=files_from.manifest_path)
        leader = leader_into_same_folder(self.journal, record)
        if leader is not None:
            return self.changes.update(record.id, expect=[JobState.QUEUED], waits_for=leader.id)
        source = self.journal.find_reusable(spec.account_key, record.request_key, now)
        if source is None or source.id == record.id:
            return None
        if source.state is JobState.FAILED and same_destination(source.spec, spec):
            kept = [o for o in source.outputs if output_unchanged(o)]  # saved before its save failed: not again
            if kept:
                self.journal.set_outputs(record.id, kept)
        self.stats.reused_results += 1
        return self.changes.update(record.id, expect=[JobState.QUEUED], state=JobState.ACTIVE, reused_from=source.id,
                                   hash=source.hash, remote_hash=source.remote_hash,
                                   submitted_at=source.submitted_at, mvsep_status=None)

    # --- the caller-facing API -----------------------------------------------------------------------------------

    async def submit(self, specs: builtins.list[JobSpec]) -> builtins.list[JobRecord]:
        """Record each job (``queued``, or reusing an identical earlier job) and return at once."""
        records = []
        for spec in specs:
            record = self.journal.add(spec, request_key=request_key_for(spec))
            records.append(self._reuse_into(record) or record)
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
            if record.is_terminal:
                continue
            if record.state is JobState.ACTIVE and record.id in self.timers.next_at:
                waits.append(max(0.0, self.timers.due_at(record.id) - now))
            elif record.state is not JobState.ACTIVE:
                waits.append(0.0)
        return min(waits) if waits else None

    def _progress(self, records: Iterable[JobRecord]) -> float:
        now = self.clock()
        pace = self.timers.pace
        return sum(job_fraction(r, now, pace.processing_s.get((r.account_key, r.spec.sep_type))) for r in records)

    def _settled(self, record: JobRecord, until: str) -> bool:
        if record.is_terminal:
            return True
        if until == "finished" or record.state is JobState.SUBMITTING:
            return False
        if record.state is JobState.QUEUED:
            if record.waits_for:
                return True  # the identical job it waits for is the one being submitted
            slot = self._accounts.get(record.account_key)
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
        slot = self._slot(account_key)
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

