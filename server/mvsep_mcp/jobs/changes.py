"""The journal as the runner writes it: every change wakes the scheduler and every waiting call at once."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

import anyio

from mvsep_mcp.jobs.journal import JobJournal
from mvsep_mcp.jobs.models import JobRecord, JobState


class JobChanges:
    """Writes to the journal that announce themselves. Take :meth:`event` before looking, then wait on it."""

    def __init__(self, journal: JobJournal) -> None:
        self.journal = journal
        self._event: anyio.Event | None = None

    def event(self) -> anyio.Event:
        """Set at the next change (take it before reading the journal, so no change is missed)."""
        if self._event is None:
            self._event = anyio.Event()
        return self._event

    def notify(self) -> None:
        """Something changed: wake everyone waiting on the current event."""
        if self._event is not None:
            self._event.set()
        self._event = None

    def update(
        self,
        job_id: str,
        *,
        expect: Iterable[JobState] | None = None,
        change: Callable[[JobRecord], Mapping[str, Any]] | None = None,
        **fields: Any,
    ) -> JobRecord | None:
        """``Journal.update`` and, when it changed the row, a notification."""
        record = self.journal.update(job_id, expect=expect, change=change, **fields)
        if record is not None:
            self.notify()
        return record
