"""The runner's four kinds of work on one job: create, reconcile, poll and download.

``JobWork`` is a mixin of ``JobRunner`` (which owns the scheduler, the tables named below and the journal); each
method is one child task started by the scheduler, writes what it learnt to the journal and sets when the job is
due again. None of them raises for MVSep's answers.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import anyio
import anyio.to_thread

from mvsep_mcp.jobs import creating, downloads
from mvsep_mcp.jobs.concurrency import AccountSlot, in_flight_count
from mvsep_mcp.jobs.errors import JobError
from mvsep_mcp.jobs.journal import Journal
from mvsep_mcp.jobs.models import NON_TERMINAL_STATES, JobRecord, JobState
from mvsep_mcp.jobs.polling import expired_message, interpret
from mvsep_mcp.jobs.reconcile import find_in_history
from mvsep_mcp.jobs.stats import RunnerStats
from mvsep_mcp.media.errors import MediaError
from mvsep_mcp.mvsep import errors as mvsep_errors
from mvsep_mcp.policy import DOWNLOAD_MAX_ATTEMPTS, RECONCILE_ATTEMPTS

log = logging.getLogger(__name__)


class JobWork:
    """Create / reconcile / poll / download one job (mixed into ``JobRunner``)."""

    journal: Journal
    stats: RunnerStats
    clock: Callable[[], float]
    poll_interval: float
    poll_interval_max: float
    unknown_status_max: float
    reconcile_slack: float
    _reconcile_retry: float
    _download_retry: float
    _interval: dict[str, float]
    _unknown_since: dict[str, float]
    _failures: dict[str, int]
    _results: dict[str, Any]
    _next_at: dict[str, float]
    _download_slots: anyio.Semaphore | None

    def _update(self, job_id: str, *, expect: Any = None, **fields: Any) -> JobRecord | None:
        raise NotImplementedError

    def _notify(self) -> None:
        raise NotImplementedError

    def _later(self, job_id: str, delay: float) -> None:
        raise NotImplementedError

    def _forget(self, job_id: str) -> None:
        raise NotImplementedError

    # --- work: create --------------------------------------------------------------------------------------------

    async def _create(self, slot: AccountSlot, record: JobRecord) -> None:
        self.stats.creates_sent += 1
        outcome = await creating.send_create(slot.client, record)
        now = self.clock()
        if outcome.kind == "created":
            slot.create_succeeded()
            self._update(record.id, expect=[JobState.SUBMITTING], **outcome.fields)
            return
        if outcome.kind == "uncertain":
            self._update(record.id, expect=[JobState.SUBMITTING], state=JobState.UNCERTAIN)
            self._later(record.id, self._reconcile_retry)
            return
        if outcome.kind == "limit":
            others = [r for r in self.journal.list(slot.account_key, states=NON_TERMINAL_STATES) if r.id != record.id]
            in_flight = in_flight_count(others)
            if in_flight > 0:
                log.info("MVSep refused a create with %d job(s) in flight: limiting this account to %d",
                         in_flight, in_flight)
                slot.lower_limit(in_flight)
                self._update(record.id, expect=[JobState.SUBMITTING], state=JobState.QUEUED, submitted_at=None)
                return
            self._update(record.id, expect=[JobState.SUBMITTING], state=JobState.FAILED, finished_at=now,
                         error=outcome.error, message=outcome.message)
            return
        if outcome.kind == "retry":
            slot.defer_creates(now, outcome.retry_after)
            self._update(record.id, expect=[JobState.SUBMITTING], state=JobState.QUEUED, submitted_at=None,
                         message=outcome.message)
            return
        self._update(record.id, expect=[JobState.SUBMITTING], state=JobState.FAILED, finished_at=now,
                     error=outcome.error, message=outcome.message)

    # --- work: reconcile -----------------------------------------------------------------------------------------

    async def _reconcile(self, slot: AccountSlot, record: JobRecord) -> None:
        taken = {h for r in self.journal.list(slot.account_key) if r.id != record.id
                 for h in (r.hash, r.remote_hash) if h}
        self.stats.history_lookups += 1
        try:
            found = await find_in_history(slot.client, record, taken, slack=self.reconcile_slack)
        except mvsep_errors.MVSepError as exc:
            log.info("job %s: history lookup failed (%s); trying again later", record.id, exc)
            self._later(record.id, self._reconcile_retry)
            return
        if found is not None:
            log.info("job %s: found in MVSep's history, adopting it", record.id)
            key = "remote_hash" if record.spec.kind == "url" else "hash"
            self._failures.pop(record.id, None)
            self._update(record.id, expect=[JobState.UNCERTAIN], state=JobState.ACTIVE, **{key: found})
            return
        attempts = self._failures.get(record.id, 0) + 1
        self._failures[record.id] = attempts
        if attempts < RECONCILE_ATTEMPTS:
            self._later(record.id, self._reconcile_retry)
            return
        self._forget(record.id)
        self._update(record.id, expect=[JobState.UNCERTAIN], state=JobState.FAILED, finished_at=self.clock(),
                     error=creating.unreconciled_message(record))

    # --- work: poll ----------------------------------------------------------------------------------------------

    async def _poll(self, slot: AccountSlot, record: JobRecord) -> None:
        client = slot.client
        interval = self._interval.get(record.id, self.poll_interval)
        try:
            if record.hash is None and record.remote_hash:
                self.stats.polls += 1
                result = await client.get_remote_separation(record.remote_hash)
                if result.status == "done" and result.data.hash:
                    self._update(record.id, expect=[JobState.ACTIVE], hash=result.data.hash, mvsep_status="processing")
                    self._next_at.pop(record.id, None)
                    return
                if result.status == "done":
                    self._update(record.id, expect=[JobState.ACTIVE], state=JobState.FAILED, finished_at=self.clock(),
                                 error="MVSep finished fetching the URL but gave no job to follow; submit it again.")
                    return
            else:
                self.stats.polls += 1
                result = await client.get_separation(record.hash)
        except mvsep_errors.MVSepError as exc:
            log.info("job %s: poll failed (%s); trying again later", record.id, exc)
            retry_after = getattr(exc, "retry_after", None)
            self._later(record.id, max(interval, float(retry_after or 0)))
            return
        now = self.clock()
        status = str(result.status or "").lower()
        known = status in {"waiting", "processing", "distributing", "merging", "done", "failed", "error", "not_found"}
        if known:
            self._unknown_since.pop(record.id, None)
        unknown_for = 0.0 if known else now - self._unknown_since.setdefault(record.id, now)
        outcome = interpret(record, result, interval=interval, base_interval=self.poll_interval,
                            max_interval=self.poll_interval_max, unknown_for=unknown_for,
                            unknown_max=self.unknown_status_max)
        fields = dict(outcome.fields)
        if fields.get("state") in (JobState.FAILED, JobState.EXPIRED):
            fields["finished_at"] = now
        if status == "not_found":
            self._mark_result_gone(record)
        updated = self._update(record.id, expect=[JobState.ACTIVE], **fields)
        if updated is None:
            return
        if outcome.done:
            self._results[record.id] = result
            self._next_at.pop(record.id, None)
        elif outcome.next_interval is not None:
            self._interval[record.id] = outcome.next_interval
            self._later(record.id, outcome.next_interval)
        else:
            self._forget(record.id)

    def _mark_result_gone(self, record: JobRecord) -> None:
        """MVSep no longer has this hash: no job of the account may reuse it again."""
        job_hash = record.hash or record.remote_hash
        if not job_hash:
            return
        for other in self.journal.list(record.account_key, hash=record.hash) if record.hash else [record]:
            if not other.result_gone:
                self.journal.update(other.id, result_gone=True)

    # --- work: download ------------------------------------------------------------------------------------------

    async def _download(self, slot: AccountSlot, record: JobRecord) -> None:
        result = self._results.get(record.id)
        if result is None:  # resumed after a restart: ask for the file list again
            try:
                self.stats.polls += 1
                result = await slot.client.get_separation(record.hash)
            except mvsep_errors.MVSepError as exc:
                log.info("job %s: cannot fetch the file list (%s); trying again later", record.id, exc)
                self._later(record.id, self._download_retry)
                return
            if result.status == "not_found":
                self._forget(record.id)
                self._update(record.id, expect=[JobState.DOWNLOADING], state=JobState.EXPIRED,
                             finished_at=self.clock(), error=expired_message(record))
                return
            if result.status != "done":
                self._update(record.id, expect=[JobState.DOWNLOADING], state=JobState.ACTIVE,
                             mvsep_status=result.status)
                return
            self._results[record.id] = result
        tags = await anyio.to_thread.run_sync(downloads.song_tags, record, result.data.tags)
        tasks = downloads.plan_files(record, list(result.data.files))
        errors: list[BaseException] = []

        async def fetch(task: downloads.FileTask) -> None:
            assert self._download_slots is not None
            async with self._download_slots:
                try:
                    output = await downloads.fetch_one(slot.client, record, task, tags, on_bytes=self._count_bytes)
                except Exception as exc:
                    errors.append(exc)
                    return
            self.stats.downloads += 1
            self.journal.record_output(record.id, output)
            self._notify()

        async with anyio.create_task_group() as files_tg:
            for task in tasks:
                files_tg.start_soon(fetch, task)
        if errors:
            attempts = self._failures.get(record.id, 0) + 1
            self._failures[record.id] = attempts
            log.warning("job %s: %d download(s) failed (attempt %d): %s", record.id, len(errors), attempts, errors[0])
            if attempts >= DOWNLOAD_MAX_ATTEMPTS or isinstance(errors[0], JobError | MediaError | ValueError):
                self._forget(record.id)
                self._update(record.id, expect=[JobState.DOWNLOADING], state=JobState.FAILED,
                             finished_at=self.clock(), error=creating.download_failed_message(record, errors[0]))
            else:
                self._later(record.id, self._download_retry)
            return
        current = self.journal.get(record.id)
        try:
            manifest_path = await anyio.to_thread.run_sync(downloads.write_job_manifest, current, result.data, tags)
        except Exception as exc:
            log.warning("job %s: could not write the manifest (%s)", record.id, exc)
            manifest_path = None
        self._forget(record.id)
        self._update(record.id, expect=[JobState.DOWNLOADING], state=JobState.COMPLETED, finished_at=self.clock(),
                     manifest_path=str(manifest_path) if manifest_path else None)

    def _count_bytes(self, size: int) -> None:
        self.stats.bytes_downloaded += size
