"""Reusing an earlier identical job's files on disk: same request, same output root and template, files unchanged.

One result, one set of files: a job whose identical request is still unfinished and writes into the same folder
waits for it (:func:`leader_into_same_folder`) and then takes its files, instead of downloading them a second time
beside them as ``(2)`` copies; the journal, shared by every server process, decides which job leads.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

from mvsep_mcp.jobs.journal import JobJournal
from mvsep_mcp.jobs.models import NON_TERMINAL_STATES, JobRecord, JobSpec, JobState, OutputFile
from mvsep_mcp.media.files import sha256_file
from mvsep_mcp.policy import REUSE_CANDIDATES

log = logging.getLogger(__name__)


def same_destination(a: JobSpec, b: JobSpec) -> bool:
    """Whether two jobs' files go to the same names: the same output root and naming template."""
    return a.output_root == b.output_root and a.name_template == b.name_template


def output_unchanged(output: OutputFile, *, rehash: bool = False) -> bool:
    """The file still exists as recorded: the same size and modification time (``rehash``: the same SHA-256, which
    reads every byte); an output recorded without a modification time is hashed."""
    try:
        info = os.stat(output.path)
        if info.st_size != output.size:
            return False
        return not ((rehash or output.mtime_ns is None or info.st_mtime_ns != output.mtime_ns)
                    and sha256_file(Path(output.path)) != output.sha256)
    except OSError:
        return False


def files_unchanged(record: JobRecord, *, rehash: bool = False) -> bool:
    """Every output of ``record`` still exists as recorded (:func:`output_unchanged`), and the manifest exists."""
    if not record.outputs:
        return False
    if record.manifest_path and not os.path.isfile(record.manifest_path):
        return False
    return all(output_unchanged(o, rehash=rehash) for o in record.outputs)


def leader_into_same_folder(journal: JobJournal, record: JobRecord) -> JobRecord | None:
    """The oldest unfinished identical job created before ``record`` whose files go where ``record``'s would: the
    job ``record`` waits for (every process sharing the journal picks the same one, by the journal's order)."""
    if record.request_key.startswith("unique:"):
        return None
    for other in journal.list(record.account_key, states=NON_TERMINAL_STATES, request_key=record.request_key,
                              order="oldest"):
        if other.id == record.id:
            return None  # every job after it is newer
        if same_destination(other.spec, record.spec):
            return other
    return None


def reusable_files(
    journal: JobJournal, spec: JobSpec, request_key: str, *, exclude: str | None = None, rehash: bool = False
) -> JobRecord | None:
    """The newest completed identical job whose stems are still on disk, unchanged, under the same root/template."""
    if request_key.startswith("unique:"):
        return None
    candidates = [
        r for r in journal.list(spec.account_key, states=[JobState.COMPLETED], request_key=request_key)
        if r.id != exclude and same_destination(r.spec, spec)
    ]
    for record in candidates[:REUSE_CANDIDATES]:
        if files_unchanged(record, rehash=rehash):
            return record
        log.debug("job %s: earlier files changed or gone, not reusing them", record.id)
    return None
