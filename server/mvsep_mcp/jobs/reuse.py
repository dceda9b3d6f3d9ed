"""Reusing an earlier identical job's files on disk: same request, same output root and template, files unchanged."""

from __future__ import annotations

import logging
import os
from pathlib import Path

from mvsep_mcp.jobs.journal import JobJournal
from mvsep_mcp.jobs.models import JobRecord, JobSpec, JobState
from mvsep_mcp.media.files import sha256_file
from mvsep_mcp.policy import REUSE_CANDIDATES

log = logging.getLogger(__name__)



def files_unchanged(record: JobRecord, *, rehash: bool = False) -> bool:
    """Every output of ``record`` still exists as recorded (and the manifest exists).

    "As recorded": the same size and modification time (``rehash``: the same SHA-256, which reads every byte);
    outputs recorded without a modification time are hashed.
    """
    if not record.outputs:
        return False
    if record.manifest_path and not os.path.isfile(record.manifest_path):
        return False
    for output in record.outputs:
        try:
            info = os.stat(output.path)
            if info.st_size != output.size:
                return False
            if (rehash or output.mtime_ns is None or info.st_mtime_ns != output.mtime_ns) and \
                    sha256_file(Path(output.path)) != output.sha256:
                return False
        except OSError:
            return False
    return True


def reusable_files(
    journal: JobJournal, spec: JobSpec, request_key: str, *, exclude: str | None = None, rehash: bool = False
) -> JobRecord | None:
    """The newest completed identical job whose stems are still on disk, unchanged, under the same root/template."""
    if request_key.startswith("unique:"):
        return None
    candidates = [
        r for r in journal.list(spec.account_key, states=[JobState.COMPLETED], request_key=request_key)
        if r.id != exclude and r.spec.output_root == spec.output_root and r.spec.name_template == spec.name_template
    ]
    for record in candidates[:REUSE_CANDIDATES]:
        if files_unchanged(record, rehash=rehash):
            return record
        log.debug("job %s: earlier files changed or gone, not reusing them", record.id)
    return None
