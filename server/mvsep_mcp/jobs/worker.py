"""The runner's four kinds of work on one job: create, reconcile, poll and download.

Each method is one child task started by the scheduler: it talks to MVSep through the account's client, writes what it
learnt to the journal (through :class:`JobChanges`, which wakes everyone) and sets when the job is due again in
:class:`JobTimers`. None of them raises for MVSep's answers.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import anyio
import anyio.to_thread

from mvsep_mcp.jobs import chains, creating, disk, downloads, partials
from mvsep_mcp.jobs.changes import JobChanges
from mvsep_mcp.jobs.concurrency import AccountSlot, in_flight_count
from mvsep_mcp.jobs.errors import CannotSave
from mvsep_mcp.jobs.models import NON_TERMINAL_STATES, JobRecord, JobState
from mvsep_mcp.jobs.pacing import kind_of
from mvsep_mcp.jobs.polling import expired_message, interpret
from mvsep_mcp.jobs.ports import SessionsAfterJob
from mvsep_mcp.jobs.reconcile import find_in_history
from mvsep_mcp.jobs.stats import RunnerStats
from mvsep_mcp.jobs.timers import JobTimers, RunnerTimings
from mvsep_mcp.memory import release_free_memory
from mvsep_mcp.mvsep import errors as mvsep_errors
from mvsep_mcp.mvsep.models import KNOWN_STATUSES, RUNNING_STATUSES, SeparationResult
from mvsep_mcp.policy import DOWNLOAD_MAX_ATTEMPTS, RECONCILE_ATTEMPTS

GONE_HTTP_STATUSES = frozenset({404, 410})  # a status address that answers these no longer knows the job



log = logging.getLogger(__name__)


class JobWorker:
    """Create / reconcile / poll / download one job at a time (many run at once as separate tasks)."""

    def __init__(
        self,
        changes: JobChanges,
        timers: JobTimers,
        timings: RunnerTimings,
        stats: RunnerStats,
        clock: Callable[[], float],
        *,
        sessions_after_job: SessionsAfterJob,
    ) -> None:
        """``sessions_after_job`` writes the DAW session files a request asked for once its job's files are saved."""
        self.changes = changes
        self.journal = changes.journal
        self.timers = timers
        self.timings = timings
        self.stats = stats
        self.clock = clock
        self.sessions_after_job = sessions_after_job
        self._download_slots = anyio.Semaphore(max(1, timings.download_concurrency))
        self._jobs_downloading = 0

    # --- create --------------------------------------------------------------------------------------------------

    async def create(self, slot: AccountSlot, record: JobRecord) -> None:
        self.stats.creates_sent += 1

        def body_sent() -> None:  # before the last bytes go out: a restart then knows MVSep may have it all
            self.journal.update(record.id, expect=[JobState.SUBMITTING], upload="sent")

        outcome = await creating.send_create(slot.client, record, on_body_sent=body_sent)
        update, now = self.changes.update, self.clock()
        if outcome.kind == "created":
            slot.create_succeeded()
            update(record.id, expect=[JobState.SUBMITTING], **outcome.fields)
            # the job exists on MVSep from the create's answer on (the upload before it is not the job's length)
            self.timers.later(record.id, self.timers.pace.first_delay(record.id, kind_of(record), now,
                                                                      self.timings.poll_limits))
        elif outcome.kind == "uncertain":
            update(record.id, expect=[JobState.SUBMITTING], state=JobState.UNCERTAIN, **outcome.fields)
            self.timers.later(record.id, self.timings.reconcile_retry)
        elif outcome.kind == "limit" and (in_flight := self._in_flight_besides(slot, record)) > 0:
            log.info("MVSep refused a create with %d job(s) in flight: limiting this account to %d",
                     in_flight, in_flight)
            slot.lower_limit(in_flight)
            update(record.id, expect=[JobState.SUBMITTING], state=JobState.QUEUED, submitted_at=None)
        elif outcome.kind == "retry":
            slot.defer_creates(now, outcome.retry_after)
            update(record.id, expect=[JobState.SUBMITTING], state=JobState.QUEUED, submitted_at=None,
                   message=outcome.message)
        else:  # failed, or a refusal with nothing else in flight: permanent
            update(record.id, expect=[JobState.SUBMITTING], state=JobState.FAILED, finished_at=now,
                   error=outcome.error, message=outcome.message)

    def _in_flight_besides(self, slot: AccountSlot, record: JobRecord) -> int:
        others = [r for r in self.journal.list(slot.account_key, states=NON_TERMINAL_STATES) if r.id != record.id]
        return in_flight_count(others)

    # --- reconcile -----------------------------------------------------------------------------------------------

    async def reconcile(self, slot: AccountSlot, record: JobRecord) -> None:
        taken = {h for r in self.journal.list(slot.account_key) if r.id != record.id
                 for h in (r.hash, r.remote_hash) if h}
        self.stats.history_lookups += 1
        try:
            found = await find_in_history(slot.client, record, taken, slack=self.timings.reconcile_slack)
        except mvsep_errors.MVSepError as exc:
            log.info("job %s: history lookup failed (%s); trying again later", record.id, exc)
            self.timers.later(record.id, self.timings.reconcile_retry)
            return
        if found is not None:
            log.info("job %s: found in MVSep's history, adopting it", record.id)
            hashes: dict[str, Any] = {"remote_hash": found} if record.spec.kind == "url" else {"hash": found}
            self.timers.failures.pop(record.id, None)
            self.changes.update(record.id, expect=[JobState.UNCERTAIN], state=JobState.ACTIVE, **hashes)
            return
        if self.timers.failed_once_more(record.id) < RECONCILE_ATTEMPTS:
            self.timers.later(record.id, self.timings.reconcile_retry)
            return
        self.timers.forget(record.id)
        if record.upload == "cut_off":  # MVSep never read the whole request, and its history has no such job
            log.info("job %s: MVSep cut the upload off and has no such job: sending it again", record.id)
            self.changes.update(record.id, expect=[JobState.UNCERTAIN], state=JobState.QUEUED, submitted_at=None,
                                upload=None)
            return
        self.changes.update(record.id, expect=[JobState.UNCERTAIN], state=JobState.FAILED, finished_at=self.clock(),
                            error=creating.unreconciled_message(record))

    # --- poll ----------------------------------------------------------------------------------------------------

    async def poll(self, slot: AccountSlot, record: JobRecord) -> None:
        client = slot.client
        interval = self.timers.pace.job(record.id).interval or self.timings.poll_interval
        try:
            self.stats.polls += 1
            if record.hash is None and record.remote_hash:
                result = await client.get_remote_separation(record.remote_hash)
                if result.status == "done":
                    self._adopt_remote(record, result)
                    return
            else:
                result = await client.get_separation(record.hash or "")
        except mvsep_errors.APIError as exc:
            if exc.status_code not in GONE_HTTP_STATUSES:
                self._poll_failed(record, exc, interval)
                return
            result = SeparationResult(status="not_found")  # the status address itself is gone
        except mvsep_errors.MVSepError as exc:
            self._poll_failed(record, exc, interval)
            return
        self.timers.failing_since.pop(record.id, None)
        now = self.clock()
        status = result.status
        if status == "not_found" and not self._gone_confirmed(record):
            return
        self.timers.gone_seen.pop(record.id, None)
        if status in KNOWN_STATUSES:
            self.timers.unknown_since.pop(record.id, None)
            unknown_for = 0.0
        else:
            unknown_for = now - self.timers.unknown_since.setdefault(record.id, now)
        outcome = interpret(record, result, unknown_for=unknown_for, unknown_max=self.timings.unknown_status_max)
        data = result.data
        for other, delay in self.timers.pace.saw(record.id, kind_of(record), status, data.current_order, now,
                                                 record.submitted_at).items():
            self.timers.later(other, delay)  # jobs that waited to learn how long this kind of job takes
        fields = dict(outcome.fields)
        if fields.get("state") in (JobState.FAILED, JobState.EXPIRED):
            fields["finished_at"] = now
        if status == "waiting" and record.queue_entry is None and result.data.current_order:
            fields["queue_entry"] = result.data.current_order  # progress through the queue is measured from here
        if status in RUNNING_STATUSES and status != "waiting" and record.running_since is None:
            fields["running_since"] = now
        if status == "not_found":
            self._mark_result_gone(record)
        if self.changes.update(record.id, expect=[JobState.ACTIVE], **fields) is None:
            self.timers.forget(record.id)  # the job changed meanwhile (cancelled, say): this answer is stale
            return
        if outcome.done:
            self.timers.results[record.id] = result
            self.timers.next_at.pop(record.id, None)
        elif outcome.keep_polling:
            chunks = (data.finished_chunks or 0, data.all_chunks or 0) if status == "distributing" else None
            delay = (self.timers.pace.next_delay(record.id, kind_of(record), status, data.current_order, chunks, now,
                                                 self.timings.poll_limits)
                     if status in KNOWN_STATUSES else self.timings.poll_interval)
            self.timers.later(record.id, delay)
        else:
            self.timers.forget(record.id)

    def _gone_confirmed(self, record: JobRecord) -> bool:
        """MVSep says it does not know the job: believe it only after a few answers in a row, a moment apart."""
        seen = self.timers.gone_seen.get(record.id, 0) + 1
        self.timers.gone_seen[record.id] = seen
        if seen >= self.timings.gone_confirmations:
            return True
        self.timers.later(record.id, self.timings.gone_recheck)
        return False

    def _poll_failed(self, record: JobRecord, exc: mvsep_errors.MVSepError, interval: float) -> None:
        """No usable answer: ask again later, within a budget; past it the job ends (it may still finish on MVSep)."""
        now = self.clock()
        since = self.timers.failing_since.setdefault(record.id, now)
        if now - since >= self.timings.poll_failure_budget:
            self.timers.forget(record.id)
            self.changes.update(record.id, expect=[JobState.ACTIVE], state=JobState.FAILED, finished_at=now,
                                recoverable=True,  # it may still finish on MVSep: the same request follows it again
                                error=creating.unanswered_polls_message(record, exc, now - since))
            return
        log.info("job %s: poll failed (%s); trying again later", record.id, exc)
        retry_after = getattr(exc, "retry_after", None)
        self.timers.later(record.id, max(interval, float(retry_after or 0)))

    def _adopt_remote(self, record: JobRecord, result: SeparationResult) -> None:
        """A URL job's download on MVSep finished: follow the separation it started, or fail without one."""
        if result.data.hash:
            self.changes.update(record.id, expect=[JobState.ACTIVE], hash=result.data.hash, mvsep_status="processing")
            self.timers.next_at.pop(record.id, None)
        else:
            self.changes.update(record.id, expect=[JobState.ACTIVE], state=JobState.FAILED, finished_at=self.clock(),
                                error="MVSep finished fetching the URL but gave no job to follow; submit it again.")

    def _mark_result_gone(self, record: JobRecord) -> None:
        """MVSep no longer has this hash: no job of the account may reuse it again."""
        if not (record.hash or record.remote_hash):
            return
        for other in self.journal.list(record.account_key, hash=record.hash) if record.hash else [record]:
            if not other.result_gone:
                self.journal.update(other.id, result_gone=True)

    # --- download ------------------------------------------------------------------------------------------------

    async def download(self, slot: AccountSlot, record: JobRecord) -> None:
        """Fetch, finish and commit a completed job's files, then its manifest and sessions.

        When the last job downloading ends, the allocator gives the memory the file work used back to the system.
        """
        self._jobs_downloading += 1
        try:
            await self._download(slot, record)
        finally:
            self._jobs_downloading -= 1
            if self._jobs_downloading == 0:
                with anyio.CancelScope(shield=True):
                    await anyio.to_thread.run_sync(release_free_memory)

    async def _download(self, slot: AccountSlot, record: JobRecord) -> None:
        result = self.timers.results.get(record.id) or await self._refetch_file_list(slot, record)
        if result is None:
            return
        tags = await anyio.to_thread.run_sync(downloads.song_tags, record, result.data.tags)
        facts = await anyio.to_thread.run_sync(downloads.input_stream_facts, record)
        tasks = downloads.plan_files(record, list(result.data.files))
        need = disk.needed_bytes(t.announced_size for t in tasks)
        no_room = await anyio.to_thread.run_sync(disk.room_problem, record, need)
        if no_room is not None:  # nothing is fetched that the folder cannot hold
            self._download_failed(record, [no_room], need)
            return
        errors: list[BaseException] = []

        async def fetch(task: downloads.FileTask) -> None:
            temps: list[downloads.TempFiles] = []

            def remember(files: downloads.TempFiles) -> None:
                temps.append(files)
                partials.note(self.journal, record.id, files.download, files.tagging)

            async with self._download_slots:
                try:
                    output = await downloads.fetch_one(slot.client, record, task, tags, on_bytes=self._count_bytes,
                                                       on_temp_files=remember, input_facts=facts)
                except Exception as exc:
                    errors.append(exc)
                    return
            self.stats.downloads += 1
            self.journal.record_output(record.id, output)
            for files in temps:  # committed: the temporary names are gone
                partials.remove(self.journal, record, files.download, files.tagging)
            self.changes.notify()

        async with anyio.create_task_group() as files_tg:
            for task in tasks:
                files_tg.start_soon(fetch, task)
        if errors:
            self._download_failed(record, errors, need)
            return
        current = self.journal.get(record.id)
        if current.partials:
            partials.remove(self.journal, current)
        try:
            manifest_path = await anyio.to_thread.run_sync(downloads.write_job_manifest, current, result.data, tags,
                                                           facts)
        except Exception as exc:  # the job's save failed (its stems stay recorded: a retry writes only the manifest)
            self._download_failed(record, [exc], need)
            return
        manifest = str(manifest_path)
        sessions = await self._write_sessions(current.model_copy(update={"state": JobState.COMPLETED,
                                                                         "manifest_path": manifest}))
        self.timers.forget(record.id)
        self.changes.update(record.id, expect=[JobState.DOWNLOADING], state=JobState.COMPLETED,
                            finished_at=self.clock(), manifest_path=manifest, sessions=sessions)

    async def _write_sessions(self, done: JobRecord) -> list[str]:
        """The DAW session files the request asked for, beside the stems (a failure leaves the stems as they are)."""
        if not done.spec.daw_session:
            return []
        earlier = chains.earlier_steps(self.journal.get, done)  # a chain's steps before: their stems too
        return await anyio.to_thread.run_sync(self.sessions_after_job, done, earlier)

    async def _refetch_file_list(self, slot: AccountSlot, record: JobRecord) -> SeparationResult | None:
        """After a restart the file list is asked for again; None when the job is not (or no longer) downloadable."""
        try:
            self.stats.polls += 1
            result = await slot.client.get_separation(record.hash or "")
        except mvsep_errors.MVSepError as exc:
            log.info("job %s: cannot fetch the file list (%s); trying again later", record.id, exc)
            self.timers.later(record.id, self.timings.download_retry)
            return None
        if result.status == "not_found":
            self.timers.forget(record.id)
            self.changes.update(record.id, expect=[JobState.DOWNLOADING], state=JobState.EXPIRED,
                                finished_at=self.clock(), error=expired_message(record))
            return None
        if result.status != "done":
            self.changes.update(record.id, expect=[JobState.DOWNLOADING], state=JobState.ACTIVE,
                                mvsep_status=result.status)
            return None
        self.timers.results[record.id] = result
        return result

    def _download_failed(self, record: JobRecord, errors: list[BaseException], need: int | None) -> None:
        """A failed file is tried again (with a fresh file list from MVSep) a bounded number of times; a failure
        that trying again cannot fix (a disk that refused the bytes, a folder that cannot take the file) ends the job
        at once, with one sentence (``need``: the bytes the job's files were announced at, for a full disk). A job
        whose result MVSep still holds is left ``recoverable``: the same request again fetches it without a create."""
        attempts = self.timers.failed_once_more(record.id)
        log.warning("job %s: %d download(s) failed (attempt %d): %s", record.id, len(errors), attempts, errors[0])
        self.timers.results.pop(record.id, None)  # ask MVSep again next time: file URLs may have changed
        permanent = [e for e in errors if downloads.is_permanent(e)]
        if attempts < DOWNLOAD_MAX_ATTEMPTS and not permanent:
            self.timers.later(record.id, self.timings.download_retry)
            return
        reason = (permanent or errors)[0]
        self.timers.forget(record.id)
        current = self.journal.get(record.id)
        if current.partials:  # first: the room they take is free again when the sentence says what is free
            partials.remove(self.journal, current)
        recoverable = all(downloads.keeps_result(e) for e in errors)
        said = reason if isinstance(reason, CannotSave) else disk.save_problem(reason, record, need)
        self.changes.update(record.id, expect=[JobState.DOWNLOADING], state=JobState.FAILED, finished_at=self.clock(),
                            recoverable=recoverable,
                            error=said.message if said is not None else
                            creating.download_failed_message(record, reason, recoverable=recoverable))

    def _count_bytes(self, size: int) -> None:
        self.stats.bytes_downloaded += size
