"""Many tool calls at once against one server: every call answers, nothing crashes, nothing is created twice.

``FAULTS_CONCURRENT_CALLS`` calls go out together: catalogue and account reads, job lists and waits, dry runs, and
real separations of a few songs, each song asked for several times at once (identical requests share one MVSep job,
so the creates must not exceed the number of songs). Then every job must complete like any other.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path
from typing import Any

import anyio

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

SONGS = 8
SAME_SONG_CALLS = 3  # each song is asked for this many times at once
NO_RATE_LIMIT = 100_000  # the suite's calls are many, and MVSep's 429s have rows of their own


def call_mix(songs: list[Path], total: int) -> list[tuple[str, dict[str, Any]]]:
    """``total`` calls: the separations first (each song several times), then reads and dry runs in turn."""
    calls: list[tuple[str, dict[str, Any]]] = []
    for _ in range(SAME_SONG_CALLS):
        calls += [("separate_audio", {"inputs": [str(s)], "model": MODEL, "output_format": "flac"}) for s in songs]
    reads: list[tuple[str, dict[str, Any]]] = [
        ("search_models", {"stem": "vocals", "limit": 3}),
        ("get_model", {"model": MODEL}),
        ("list_jobs", {}),
        ("account_info", {}),
        ("wait_for_jobs", {"max_wait_s": 1}),
        ("separate_audio", {"inputs": [str(songs[0])], "model": MODEL, "dry_run": True}),
        ("mvsep_queue", {}),
        ("separation_history", {"limit": 5}),
    ]
    n = 0
    while len(calls) < total:
        calls.append(reads[n % len(reads)])
        n += 1
    return calls[:total]


async def run_load(work: Path | None = None, total: int = knobs.FAULTS_CONCURRENT_CALLS) -> checks.Row:
    if work is None:
        with tempfile.TemporaryDirectory(prefix="mvsep-load-") as folder:
            return await run_load(Path(folder), total)
    started = time.monotonic()
    token = SANDBOX_PREMIUM_TOKEN
    row = checks.Row("concurrency", f"{total} concurrent tool calls", jobs=SONGS * SAME_SONG_CALLS)
    state = SandboxState(timing=JobTiming.fast(), rate_limit=NO_RATE_LIMIT)
    try:
        async with SandboxServer(state) as sandbox:
            settings = settings_for(work, sandbox.base_url, token)
            songs = make_songs(work / "in", SONGS, prefix="Load song")
            calls = call_mix(songs, total)
            answers: list[Any] = [None] * len(calls)
            async with in_process_server(settings) as server:

                async def one(n: int, name: str, arguments: dict[str, Any]) -> None:
                    try:
                        answers[n] = await server.call(name, arguments)
                    except Exception as exc:  # a protocol-level failure is a finding, not the end of the run
                        answers[n] = exc

                async with anyio.create_task_group() as tg:
                    for n, (name, arguments) in enumerate(calls):
                        tg.start_soon(one, n, name, arguments)
                ids = sorted({job["id"] for a in answers if _ok(a) for job in a.structured_content.get("jobs", [])
                              if isinstance(job, dict) and "id" in job and not a.structured_content.get("dry_run")})
                await server.wait_all(ids)
                await anyio.sleep(knobs.FAULTS_SETTLE_S)
            jobs = journal_jobs(settings, token)
            unanswered = [f"{calls[n][0]}: {_why(a)}" for n, a in enumerate(answers) if not _answered(a)]
            refused = [f"{calls[n][0]} refused under load: {_why(a)}" for n, a in enumerate(answers)
                       if _answered(a) and a.is_error]
            row.outcome = f"{len(calls) - len(unanswered) - len(refused)}/{len(calls)} ok; jobs: {outcome_text(jobs)}"
            row.add("crashes", unanswered)
            row.add("lost", refused)
            row.add("lost", [f"job {j.id} ended {j.state.value}: {j.error}" for j in jobs
                             if j.state.value != "completed"])
            fill_row(row, sandbox=sandbox, settings=settings, token=token, jobs=jobs, texts=server.texts(),
                     results=server.results, started=started)
            if row.creates > SONGS:
                row.add("double", [f"{row.creates} creates for {SONGS} different songs"])
    finally:
        state.close()
    return row


def _answered(answer: Any) -> bool:
    return answer is not None and not isinstance(answer, Exception)


def _ok(answer: Any) -> bool:
    return _answered(answer) and not answer.is_error


def _why(answer: Any) -> str:
    if answer is None:
        return "no answer"
    if isinstance(answer, Exception):
        return f"exception {type(answer).__name__}: {answer}"
    return checks.result_text(answer)[:200]
