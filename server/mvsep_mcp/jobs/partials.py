"""Temporary files of unfinished downloads: recorded in the journal, resumed after a restart, removed when done.

A download writes to a hidden ``.part`` file whose name is derived from the job and the stem, so a restarted server
finds it and resumes it with ``Range``. Its path is recorded in the job's ``partials`` before the first byte, so
nothing is forgotten: when the job ends (or its result is past MVSep's retention), the files are removed.
"""

from __future__ import annotations

import logging
from pathlib import Path

from mvsep_mcp.jobs.journal import JobJournal
from mvsep_mcp.jobs.models import JobRecord
from mvsep_mcp.media.files import is_temp_name
from mvsep_mcp.policy import RESULT_RETENTION_HOURS

log = logging.getLogger(__name__)


def note(journal: JobJournal, job_id: str, *paths: Path) -> None:
    """Record temporary files of a job before they are written."""
    wanted = [str(p) for p in paths]
    journal.update(job_id, change=lambda r: {"partials": r.partials + [p for p in wanted if p not in r.partials]})


def remove(journal: JobJournal, record: JobRecord, *paths: Path) -> None:
    """Delete temporary files (all of the job's when none are named) and forget them."""
    doomed = [str(p) for p in paths] if paths else list(record.partials)
    for path in doomed:
        file = Path(path)
        if is_temp_name(file.name):  # never anything but our own hidden .part files
            try:
                file.unlink(missing_ok=True)
            except OSError as exc:
                log.warning("job %s: cannot remove the temporary file %s (%s)", record.id, file, exc)
    journal.update(record.id, change=lambda r: {"partials": [p for p in r.partials if p not in doomed]})


def tidy(journal: JobJournal, account_key: str, now: float) -> int:
    """At start: remove the temporary files of ended jobs, and of jobs older than MVSep keeps results."""
    horizon = now - RESULT_RETENTION_HOURS * 3600
    removed = 0
    for record in journal.list(account_key):
        if record.partials and (record.is_terminal or record.created_at < horizon):
            removed += len(record.partials)
            remove(journal, record)
    return removed
