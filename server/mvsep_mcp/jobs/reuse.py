"""Reusing an earlier identical job's files on disk: same request, same output root and template, files unchanged."""

from __future__ import annotations

import logging
import os
from pathlib import Path

from mvsep_mcp.jobs.journal import Journal
from mvsep_mcp.jobs.models import JobRecord, JobSpec, JobState
from mvsep_mcp.media.files import sha256_file
from mvsep_mcp.policy import REUSE_CANDIDATES

log = logging.getLogger(__name__)



def files_unchanged(record: JobRecord) -> bool:
    """Every output of ``record`` still exists with the size and SHA-256 recorded (and the manifest exists)."""
    if not record.outputs:
        return False
    if record.manifest_path and not os.path.isfile(record.manifest_path):
        return False
    for output in record.outputs:
        try:
            if os.path.getsize(output.path) != output.size or sha256_file(Path(output.path)) != output.sha256:
                return False
        except OSError:
            return False
    return True


def reusable_files(
    journal: Journal, spec: JobSpec, request_key: str, *, exclude: str | None = None
) -> JobRecord | None:
    """The newest completed identical job whose stems are still on disk, unchanged, under the same root/template."""
    if request_key.startswith("unique:"):
        return None
    candidates = [
        r for r in journal.list(spec.account_key, states=[JobState.COMPLETED], request_key=request_key)
        if r.id != exclude and r.spec.output_root == spec.output_root and r.spec.name_template == spec.name_template
    ]
    for record in candidates[:REUSE_CANDIDATES]:
        if files_unchanged(record):
            return record
        log.debug("job %s: earlier files changed or gone, not reusing them", record.id)
    return None
