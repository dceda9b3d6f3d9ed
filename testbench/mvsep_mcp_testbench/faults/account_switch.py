"""Switching accounts mid-batch: jobs created under token A finish after the server switched to token B.

The server starts with account A and submits a batch; while those jobs are still in MVSep's queue, the ``login`` tool
(toolset ``auth``) signs in as B, and B submits a job of its own. With B current, A's jobs must still end completed
(read from the journal beside the server: B may not see them), each create made with its own account's token, and
the old client never closed under running work.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

import anyio
from mvsep_mcp.config import Settings
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
from mvsep_mcp_testbench.sandbox.accounts import SANDBOX_PASSWORD

TOKEN_B = "FaultSuiteSecond000000000000000002"
EMAIL_B = "second@sandbox.mvsep.test"
QUEUED = JobTiming(queue_s=1.5, queue_positions=3, processing_s=0.3, long_input_s=600.0, distributing_s=0.3,
                   merging_s=0.2, chunk_s=60.0, remote_download_s=0.1, quality_s=0.3)
CLOSED_CLIENT = "client has been closed"
BATCH = 2


async def run_switch(work: Path | None = None) -> checks.Row:
    if work is None:
        with tempfile.TemporaryDirectory(prefix="mvsep-switch-") as folder:
            return await run_switch(Path(folder))
    started = time.monotonic()
    token_a = SANDBOX_PREMIUM_TOKEN
    row = checks.Row("accounts", f"login as B while {BATCH} jobs of A run", jobs=BATCH + 1)
    state = SandboxState(timing=QUEUED)
    state.add_account(TOKEN_B, name="Second Account", email=EMAIL_B, password=SANDBOX_PASSWORD,
                      premium_minutes=100, premium_enabled=1)
    try:
        async with SandboxServer(state) as sandbox:
            settings = settings_for(work, sandbox.base_url, token_a, toolsets="catalog,separation,jobs,auth")
            songs = make_songs(work / "in", BATCH + 1, prefix="Switch song")
            async with in_process_server(settings) as server:
                a_out = await server.ok("separate_audio", {"inputs": [str(s) for s in songs[:BATCH]],
                                                           "model": MODEL, "output_format": "flac"})
                a_ids = [job["id"] for job in a_out["jobs"]]
                await server.ok("login", {"email": EMAIL_B, "password": SANDBOX_PASSWORD})
                b_out = await server.ok("separate_audio", {"inputs": [str(songs[BATCH])], "model": MODEL,
                                                           "output_format": "flac"})
                hidden = await server.call("wait_for_jobs", {"job_ids": a_ids, "max_wait_s": 0})
                if not hidden.is_error:
                    row.add("stranded", ["account B can see account A's jobs"])
                await server.wait_all([job["id"] for job in b_out["jobs"]])
                await _until_ended(settings, token_a)  # with B current
                await anyio.sleep(knobs.FAULTS_SETTLE_S)
            a_jobs = journal_jobs(settings, token_a)
            b_jobs = journal_jobs(settings, TOKEN_B)
            row.outcome = f"A: {outcome_text(a_jobs)}; B: {outcome_text(b_jobs)}"
            row.add("stranded", [f"job {j.id} of A ended {j.state.value}: {j.error}" for j in a_jobs
                                 if j.state.value != "completed"])
            row.add("lost", [f"job {j.id} of B ended {j.state.value}: {j.error}" for j in b_jobs
                             if j.state.value != "completed"])
            if CLOSED_CLIENT in server.log.getvalue():
                row.add("stranded", ["A's client was closed while its jobs ran"])
            creates_a, creates_b = state.traffic.creates(token_a), state.traffic.creates(TOKEN_B)
            if (creates_a, creates_b) != (BATCH, 1):
                row.add("double", [f"creates: {creates_a} with A's token, {creates_b} with B's (want {BATCH}, 1)"])
            texts = server.texts()
            fill_row(row, sandbox=sandbox, settings=settings, token=token_a, jobs=[*a_jobs, *b_jobs], texts=texts,
                     results=server.results, started=started)
            row.add("leaks", checks.token_leaks(TOKEN_B, texts, [settings.data_dir, settings.output_dir]))
    finally:
        state.close()
    return row


async def _until_ended(settings: Settings, token: str) -> list[JobRecord]:
    """Read the journal beside the running server until the account's jobs ended (or the deadline passed)."""
    end = time.monotonic() + knobs.FAULTS_JOB_DEADLINE_S
    while True:
        jobs = journal_jobs(settings, token)
        if all(j.is_terminal for j in jobs) or time.monotonic() > end:
            return jobs
        await anyio.sleep(0.1)
