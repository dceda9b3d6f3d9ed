"""The runner's scheduler: one loop that holds each attached account's lease and starts the work that is due.

On every change (or when the next poll / retry is due) it looks at the journal's unfinished jobs of each attached
account whose lease it holds and starts at most one piece of work per job (create, reconcile, poll or download: the
:class:`JobWorker`) as a child task. It claims queued jobs within the account's concurrency limit, points a queued
job at an earlier identical job's files or result instead of creating it (:meth:`Scheduler.reuse_into`), and resumes
what a previous run left. Everything is written to the journal first, so a new scheduler on the same journal picks
up where the last one stopped, and never creates a job twice.

:class:`mvsep_mcp.jobs.runner.JobRunner` is its public face; nothing else drives it.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import anyio
from anyio.abc import TaskGroup

from mvsep_mcp.jobs import chains, partials
from mvsep_mcp.jobs.changes import JobChanges
from mvsep_mcp.jobs.concurrency import AccountSlot, in_flight_count
from mvsep_mcp.jobs.errors import AccountNotAttached, JobError, JobNotFound, JournalUnavailable
from mvsep_mcp.jobs.models import NON_TERMINAL_STATES, JobRecord, JobState
from mvsep_mcp.jobs.pacing import StatusBudget, kind_of
from mvsep_mcp.jobs.ports import JobsClient
from mvsep_mcp.jobs.reuse import leader_into_same_folder, output_unchanged, reusable_files, same_destination
from mvsep_mcp.jobs.stats import RunnerStats
from mvsep_mcp.jobs.timers import JobTimers, RunnerTimings
from mvsep_mcp.jobs.worker import JobWorker
from mvsep_mcp.policy import PACE_EARLY_BUDGET_SHARE

log = logging.getLogger(__name__)

Work = Callable[[AccountSlot, JobRecord], Awaitable[None]]


class Scheduler:
    """Starts the work on the journal's jobs of every attached account, one piece per job at a time."""

    def __init__(self, changes: JobChanges, timers: JobTimers, worker: JobWorker, timings: RunnerTimings,
                 stats: RunnerStats, clock: Callable[[], float]) -> None:
        self.changes = changes
        self.journal = changes.journal
        self.timers = timers
        self.worker = worker
        self.timings = timings
        self.stats = stats
        self.clock = clock
        self.owner = uuid.uuid4().hex  # this scheduler's name in the journal's leases
        self.accounts: dict[str, AccountSlot] = {}
        self._resumed: set[str] = set()  # accounts whose lease we hold and whose leftovers we resumed
        self._lease_renewed_at: dict[str, float] = {}
        self._busy: dict[str, str] = {}  # job id -> account key, while work on the job is under way
        self._cancel_scope: anyio.CancelScope | None = None

    # --- accounts ------------------------------------------------------------------------------------------------

    def attach(self, account_key: str, client: JobsClient, limit: int) -> None:
        """Work ``account_key``'s jobs with ``client``, at most ``limit`` at once (once it holds the lease)."""
        previous = self.accounts.get(account_key)
        slot = AccountSlot(account_key, client, limit, backoff_initial=self.timings.create_backoff,
                           status_budget=StatusBudget(self.timings.status_rate))
        if previous is not None:
            slot.status_budget = previous.status_budget  # the same account: the same requests already sent
        self.accounts[account_key] = slot
        self.changes.notify()  # the loop resumes the account's jobs once it holds the account's lease

    def detach(self, account_key: str) -> bool:
        """Forget an account and give its lease up; ``False`` (nothing changed) while work on one of its jobs is
        under way."""
        if account_key in self._busy.values():
            return False
        self.accounts.pop(account_key, None)
        self._lease_renewed_at.pop(account_key, None)
        if account_key in self._resumed:
            self._resumed.discard(account_key)
            try:
                self.journal.release_lease(account_key, self.owner)
            except Exception as exc:  # the database away for a moment: the lease lapses by itself
                log.debug("could not release the lease of %s: %s", account_key, exc)
        return True

    def slot(self, account_key: str) -> AccountSlot:
        slot = self.accounts.get(account_key)
        if slot is None:
            raise AccountNotAttached()
        return slot

    # --- the loop ------------------------------------------------------------------------------------------------

    @property
    def running(self) -> bool:
        return self._cancel_scope is not None

    async def run(self, *, task_status: Any = anyio.TASK_STATUS_IGNORED) -> None:
        """Run until :meth:`stop` (or cancellation): resume, then schedule work on every change."""
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
        for account_key, slot in list(self.accounts.items()):
            next_due = min(next_due, now + self.timings.lease_renew)
            if not self._hold_lease(account_key, now):
                continue  # another live server process works on this account's jobs
            self._resume(account_key)
            records = chains.ready(self.changes, self.journal.list(account_key, states=NON_TERMINAL_STATES,
                                                                   order="oldest"), now)
            for record in sorted(records, key=lambda r: self.timers.due_at(r.id)):
                work = work_for.get(record.state)
                if record.id in self._busy or work is None:
                    continue
                due = self.timers.due_at(record.id)
                if due > now:
                    next_due = min(next_due, due)
                    continue
                if self._asks_status(record):
                    if self._skip_early_look(slot, record, now):
                        next_due = min(next_due, self.timers.due_at(record.id))
                        continue
                    allowed = slot.status_budget.allowed_at(now)
                    if allowed > now:  # the account's status budget is spent: the most overdue job goes first
                        next_due = min(next_due, allowed)
                        continue
                    slot.status_budget.spend(now)
                self._spawn(tg, work, slot, record)
            next_due = min(next_due, self._schedule_creates(tg, slot, records, now))
        return max(0.0, next_due - now)

    def _skip_early_look(self, slot: AccountSlot, record: JobRecord, now: float) -> bool:
        """An early look is the first poll to go when the account's status budget runs low (the job is then asked
        about at its expected end, and a later job of the kind is looked at early instead)."""
        budget = slot.status_budget
        if budget.spent(now) < budget.per_minute * PACE_EARLY_BUDGET_SHARE:
            return False
        delay = self.timers.pace.skip_early_look(record.id, kind_of(record), now)
        if delay is None:
            return False
        self.timers.later(record.id, delay)
        return True

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
            if self.reuse_into(record) is not None:
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
        files or result (:meth:`reuse_into`), or failed the same way (MVSep refused or failed the request itself);
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
        return self.reuse_into(record) is not None

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

    def reuse_into(self, record: JobRecord) -> JobRecord | None:
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
