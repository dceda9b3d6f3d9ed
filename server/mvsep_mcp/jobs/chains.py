"""Chains of models in one request: a later step waits for the step before, then separates that step's stem.

Every step of a chain is recorded with the request (so the journal knows the whole chain before anything is spent);
a later step stays ``queued`` with nothing to send (:attr:`ChainLink.waiting`) while the step before is unfinished.
The scheduler passes each account's unfinished jobs through :func:`ready` on every pass:

- a waiting step whose step before is still unfinished is held back (the scheduler does not see it);
- once the step before has completed, the step gets that job's stem on disk as the file it uploads (nothing is
  downloaded again) and is created like any queued job, exactly once, also after a restart between the steps;
- once the step before has ended otherwise (failed, cancelled, expired), or completed without the stem, or the stem's
  file is gone, the step ends too, with a sentence saying why: nothing is sent and nothing is spent on it.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from mvsep_mcp.jobs.changes import JobChanges
from mvsep_mcp.jobs.models import ChainLink, JobRecord, JobState, OutputFile
from mvsep_mcp.media.errors import MediaError
from mvsep_mcp.media.manifest import read_manifest

log = logging.getLogger(__name__)


def ready(changes: JobChanges, records: list[JobRecord], now: float) -> list[JobRecord]:
    """``records`` (an account's unfinished jobs) as the scheduler should see them at ``now``: waiting chain steps
    whose step before is unfinished left out, the others released (given their stem) or ended."""
    unfinished = {r.id for r in records}
    seen: list[JobRecord] = []
    for record in records:
        link = record.spec.chain
        if record.state is not JobState.QUEUED or link is None or not link.waiting:
            seen.append(record)
        elif link.after not in unfinished:
            released = release(changes, record, now)
            if released is not None and not released.is_terminal:
                seen.append(released)
    return seen


def release(changes: JobChanges, record: JobRecord, now: float) -> JobRecord | None:
    """A waiting step whose step before has ended: ready to create with that step's stem, or ended with a reason.
    ``None`` when the job changed meanwhile (another replica released or cancelled it)."""
    link = record.spec.chain
    assert link is not None and link.after is not None
    before = changes.journal.get(link.after)
    from_stem = link.steps[-1].from_stem or ""
    step = f"Step {len(link.steps)} of the chain ({link.steps[-1].model})"
    if before.state is not JobState.COMPLETED:
        state = JobState.CANCELLED if before.state is JobState.CANCELLED else JobState.FAILED
        why = f"the step before (job {before.id}) ended {before.state.value}"
        return _end(changes, record, now, state, f"{step} was not sent because {why}; nothing was spent on it.")
    stem = stem_of(before.outputs, from_stem)
    if stem is None:
        made = ", ".join(o.stem for o in before.outputs) or "no stems"
        return _end(changes, record, now, JobState.FAILED,
                    f"{step} was not sent: the step before (job {before.id}) made {made}, not {from_stem}; nothing "
                    f"was spent on it. Separate the stem you want with separate_audio.")
    if not os.path.isfile(stem.path):
        return _end(changes, record, now, JobState.FAILED,
                    f"{step} was not sent: the {stem.stem} stem of the step before ({stem.path}) is gone; nothing was "
                    f"spent on it. Restore the file, or run the chain again.")
    taken = [*(before.spec.chain.taken if before.spec.chain else []), *(o.stem for o in before.outputs)]
    spec = record.spec.model_copy(update={"chain": link.model_copy(update={"upload_path": stem.path,
                                                                           "taken": taken}),
                                          "input_tags": record.spec.input_tags or song_tags_of(before)})
    log.info("job %s: the step before (job %s) completed; separating its %s stem", record.id, before.id, stem.stem)
    return changes.update(record.id, expect=[JobState.QUEUED], spec=spec)


def stem_of(outputs: list[OutputFile], label: str) -> OutputFile | None:
    """The output whose stem label is ``label`` (case and spacing aside)."""
    wanted = " ".join(label.split()).casefold()
    return next((o for o in outputs if " ".join(o.stem.split()).casefold() == wanted), None)


def song_tags_of(before: JobRecord) -> dict[str, Any]:
    """The song's tags as the step before's manifest recorded them (for a URL song, whose tags only MVSep read)."""
    if before.spec.input_tags or not before.manifest_path:
        return dict(before.spec.input_tags)
    try:
        tags = read_manifest(Path(before.manifest_path)).input.tags
    except (MediaError, OSError) as exc:
        log.info("job %s: cannot read the song's tags from its manifest (%s)", before.id, exc)
        return {}
    return {key: value for key, value in tags.items() if key != "cover"}


def _end(changes: JobChanges, record: JobRecord, now: float, state: JobState, why: str) -> JobRecord | None:
    return changes.update(record.id, expect=[JobState.QUEUED], state=state, error=why, finished_at=now)


def earlier_steps(get: Callable[[str], JobRecord], record: JobRecord) -> list[JobRecord]:
    """The jobs of the steps before ``record`` in its chain, in order (none outside a chain); ``get`` reads a job."""
    chain = record.spec.chain
    return [get(step.job_id) for step in chain.steps[:-1] if step.job_id] if chain is not None else []


def is_waiting(record: JobRecord) -> bool:
    """Whether ``record`` is a chain step still waiting for the step before."""
    link: ChainLink | None = record.spec.chain
    return record.state is JobState.QUEUED and link is not None and link.waiting
