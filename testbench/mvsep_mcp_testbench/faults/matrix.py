"""Every fault kind of the sandbox against a single job and a batch, through the real server in this process.

A case is a ``--faults`` text, a number of inputs and the end it allows: a transient fault must not cost a job (every
job completes), a permanent one ends the job(s) it hits with a sentence (``failed`` or ``expired``) and nothing else.
After the jobs end the suite keeps watching for a moment (``FAULTS_SETTLE_S``) for polls that should not come.
"""

from __future__ import annotations

import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import anyio
from mvsep_mcp.jobs.models import JobRecord

from mvsep_mcp_testbench.faults import checks, knobs
from mvsep_mcp_testbench.faults.harness import (
    MODEL,
    fill_row,
    in_process_server,
    journal_jobs,
    make_songs,
    outcome_text,
    settings_for,
)
from mvsep_mcp_testbench.sandbox import SANDBOX_PREMIUM_TOKEN, JobTiming, SandboxServer, SandboxState

BATCH = 3


@dataclass(frozen=True)
class FaultCase:
    kind: str  # the fault kind it exercises (fault_spec's KIND)
    spec: str  # the --faults text
    jobs: int = 1
    expect: dict[str, int] = field(default_factory=dict)  # final states; empty: every job completes
    note: str = ""  # what it shows, for the table

    @property
    def name(self) -> str:
        scope = "single" if self.jobs == 1 else f"batch of {self.jobs}"
        return f"{self.spec} ({scope})"

    def expected(self) -> dict[str, int]:
        return dict(self.expect) if self.expect else {"completed": self.jobs}


def _batch(kind: str, spec: str, expect: dict[str, int] | None = None, note: str = "") -> FaultCase:
    return FaultCase(kind, spec, BATCH, expect or {}, note)


CASES: tuple[FaultCase, ...] = (
    FaultCase("status", "get:status=502:count=2", note="nginx 502 page on two polls"),
    _batch("status", "create:status=500:body=json:handled", note="created and charged, answered 500"),
    FaultCase("status", "files:status=503:count=2", note="503 on the stem file"),
    FaultCase("rate_limit", "create:rate_limit=1", note="429 Retry-After 1 on the create"),
    _batch("rate_limit", "get:rate_limit=none:count=3", note="429 without Retry-After on polls"),
    FaultCase("slow", "get:slow=0.5:count=2", note="two polls answered late"),
    _batch("slow", "files:slow=0.3:count=all", note="every stem file late"),
    FaultCase("reset_mid", "create:reset_mid=0.3", note="upload reset at 30 %"),
    _batch("reset_mid", "download:reset_mid=0.5:count=2", note="downloads cut in half, resumed with Range"),
    FaultCase("drop", "create:drop", note="created, then no answer at all"),
    _batch("drop", "get:drop:count=2", note="polls without an answer"),
    FaultCase("truncated", "get:truncated=0.5", note="half a JSON answer"),
    _batch("truncated", "files:truncated=0.5:count=2", note="half a stem file, with a matching Content-Length"),
    FaultCase("malformed", "get:malformed:count=2", note="PHP warning before the JSON"),
    _batch("malformed", "create:malformed", note="created, answer unreadable"),
    FaultCase("unknown_status", "get:unknown_status=paused:count=3", note="a status nobody documented, then done"),
    _batch("unknown_status", "get:unknown_status=queued_v2:job=2:count=all", {"completed": 2, "failed": 1},
           note="one job reports an unknown status for good"),
    FaultCase("fail_job", "create:fail_job", expect={"failed": 1}, note="MVSep fails the job"),
    _batch("fail_job", "create:fail_job=Out of memory:job=2", {"completed": 2, "failed": 1}),
    FaultCase("not_found", "get:not_found:count=all", expect={"expired": 1}, note="status URL 404 for good"),
    FaultCase("not_found", "get:not_found=false:count=2", note="two not_found answers, then the job is there"),
    _batch("not_found", "get:not_found=410:job=1:count=all", {"completed": 2, "expired": 1}),
    FaultCase("vanish", "files:vanish:count=all", expect={"failed": 1}, note="the stem files are gone for good"),
    _batch("vanish", "files:vanish:count=2", note="two stem files gone once"),
    FaultCase("wrong_body", "files:wrong_body=json:count=all", expect={"failed": 1},
              note='HTTP 200 {"message":"Unauthenticated."} instead of every stem'),
    _batch("wrong_body", "files:wrong_body=html:count=2", note="an HTML page instead of two stems, once"),
    FaultCase("foreign_host", "files:foreign_host:count=all", expect={"failed": 1}, note="file URLs on localhost"),
    _batch("foreign_host", "files:foreign_host:count=1", note="one answer with file URLs on localhost"),
)


def case_named(name: str) -> FaultCase:
    for case in CASES:
        if case.name == name or case.spec == name:
            return case
    raise KeyError(name)


async def run_case(case: FaultCase, work: Path | None = None) -> checks.Row:
    """Run one case in a fresh sandbox and data folder; the row with its findings."""
    if work is None:
        with tempfile.TemporaryDirectory(prefix="mvsep-faults-") as folder:
            return await run_case(case, Path(folder))
    started = time.monotonic()
    token = SANDBOX_PREMIUM_TOKEN
    row = checks.Row("fault", case.name, jobs=case.jobs)
    state = SandboxState(timing=JobTiming.fast())
    try:
        async with SandboxServer(state, faults=case.spec, also_ipv6=_has_ipv6()) as sandbox:
            settings = settings_for(work, sandbox.base_url, token)
            songs = make_songs(work / "in", case.jobs, prefix=f"{case.kind} song")
            async with in_process_server(settings) as server:
                submitted = await server.call("separate_audio", {"inputs": [str(s) for s in songs], "model": MODEL,
                                                                 "output_format": "flac"})
                if submitted.is_error:
                    row.add("lost", [f"the separation was refused: {checks.result_text(submitted)[:200]}"])
                else:
                    ids = [job["id"] for job in submitted.structured_content["jobs"]]
                    await server.wait_all(ids)
                    await anyio.sleep(knobs.FAULTS_SETTLE_S)  # polls after the end would arrive now
            jobs = journal_jobs(settings, token)
            row.fired = state.faults.fired()
            row.outcome = f"{outcome_text(jobs)} (fault fired {row.fired}×)"
            row.add("lost", _lost(case, jobs))
            fill_row(row, sandbox=sandbox, settings=settings, token=token, jobs=jobs, texts=server.texts(),
                     results=server.results, started=started)
    finally:
        state.close()
    return row


def _lost(case: FaultCase, jobs: list[JobRecord]) -> list[str]:
    """Jobs that did not end the way the fault allows, or ended without a sentence saying why."""
    found = []
    counts: dict[str, int] = {}
    for job in jobs:
        counts[job.state.value] = counts.get(job.state.value, 0) + 1
        if not job.is_terminal:
            found.append(f"job {job.id} still {job.state.value} after {knobs.FAULTS_JOB_DEADLINE_S:g} s")
        elif job.state.value != "completed" and not job.error:
            found.append(f"job {job.id} ended {job.state.value} without a reason")
        elif job.state.value == "completed" and not job.outputs:
            found.append(f"job {job.id} completed without files")
    if len(jobs) != case.jobs:
        found.append(f"{len(jobs)} job(s) in the journal for {case.jobs} input(s)")
    if counts != case.expected() and not found:
        found.append(f"ended {counts}, expected {case.expected()}")
    return found


def _has_ipv6() -> bool:
    import socket

    try:
        with socket.socket(socket.AF_INET6, socket.SOCK_STREAM) as sock:
            sock.bind(("::1", 0))
        return True
    except OSError:
        return False
