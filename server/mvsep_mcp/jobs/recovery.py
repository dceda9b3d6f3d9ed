"""Getting a job's result again without paying again: what a failure's sentence tells the user to do.

While MVSep keeps a result (about ``RESULT_RETENTION_HOURS``), the same request again (the same input, model, options
and format) does not create a new job: the runner follows the earlier job's hash and downloads its files (see
``Scheduler.reuse_into``: a completed job whose files are gone, or a job that failed only on this side, marked
``recoverable``). So a sentence names the tool that started the job, which the client has, since it started the job
with it; never a tool of a toolset the client may not have switched on.
"""

from __future__ import annotations

from mvsep_mcp.jobs.models import JobKind, JobRecord
from mvsep_mcp.policy import RESULT_RETENTION_HOURS

# the tool that starts each kind of job (mvsep_mcp_tools: separation and studio; checked by tests/tools)
STARTED_BY: dict[JobKind, str] = {"file": "separate_audio", "url": "separate_audio", "matchering": "master_audio",
                                  "text": "generate_from_text"}


def again_text(record: JobRecord) -> str:
    """"call separate_audio again with the same request: …" for ``record``'s kind of job."""
    tool = STARTED_BY.get(record.spec.kind, "the tool that started it")
    return (f"call {tool} again with the same request (same input, model, options and format): MVSep keeps the result "
            f"about {RESULT_RETENTION_HOURS} hours and it is downloaded again without a new job or credits")
