"""The journal under strain: two server processes sharing it, and a damaged one at start.

- **two processes, one journal**: two stdio servers on one data folder (Claude Desktop and Claude Code on one
  machine) are asked for the same song at the same moment: one create, one set of files (no ``(2)`` copies), and
  both calls' jobs complete with those files.
- **damaged journal**: the journal file is overwritten before the server starts: the server starts anyway, its first
  tool answer says what happened, a separation completes, the damaged file is kept beside the fresh one, and
  ``mvsep-mcp doctor`` reports it.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import anyio
import anyio.to_thread
from mvsep_mcp.doctor import run_doctor

from mvsep_mcp_testbench.faults import checks
from mvsep_mcp_testbench.faults.harness import (
    MODEL,
    fill_row,
    journal_jobs,
    make_songs,
    outcome_text,
    settings_for,
    stdio_texts,
)
from mvsep_mcp_testbench.faults.stdio import StdioServer, params_for, stdio_server
from mvsep_mcp_testbench.sandbox import SANDBOX_PREMIUM_TOKEN, JobTiming, SandboxServer, SandboxState

TOKEN = SANDBOX_PREMIUM_TOKEN
WAIT_CALLS = 40
DAMAGE = b"this journal was overwritten halfway through a write\x00" * 200


async def _finish(server: StdioServer, job_ids: list[str]) -> list[dict[str, Any]]:
    for _ in range(WAIT_CALLS):
        out = await server.ok("wait_for_jobs", {"job_ids": job_ids, "max_wait_s": 5})
        if out["all_finished"]:
            break
    return list(out["jobs"])


async def run_two_processes(work: Path) -> checks.Row:
    started = time.monotonic()
    row = checks.Row("journal", "two processes, one journal: the same song at once", jobs=2)
    state = SandboxState(timing=JobTiming.fast())
    try:
        async with SandboxServer(state) as sandbox:
            params = params_for(work, sandbox.base_url, TOKEN)
            [song] = make_songs(work / "in", 1, prefix="Shared journal")
            stderr = work / "server-stderr.log"
            ended: list[dict[str, Any]] = []
            results: list[tuple[str, object]] = []
            async with stdio_server(params, stderr) as one, stdio_server(params, stderr) as two:
                async def ask(server: StdioServer) -> None:
                    out = await server.ok("separate_audio", {"inputs": [str(song)], "model": MODEL,
                                                             "output_format": "flac"})
                    ended.extend(await _finish(server, [job["id"] for job in out["jobs"]]))

                async with anyio.create_task_group() as tg:
                    tg.start_soon(ask, one)
                    tg.start_soon(ask, two)
                results += one.results + two.results
            settings = settings_for(work, sandbox.base_url, TOKEN)
            jobs = journal_jobs(settings, TOKEN)
            row.outcome = f"{outcome_text(jobs)}; {state.traffic.creates()} create(s)"
            row.add("lost", [f"job {j['id']} ended {j['state']}: {j.get('error')}" for j in ended
                             if j["state"] != "completed"])
            if state.traffic.creates() != 1:
                row.add("double", [f"{state.traffic.creates()} creates for one song asked twice"])
            copies = [p.name for p in settings.output_dir.rglob("*") if p.is_file() and " (2)" in p.name]
            row.add("double", [f"downloaded twice into one folder: {name}" for name in copies])
            texts = stdio_texts(results, stderr)
            fill_row(row, sandbox=sandbox, settings=settings, token=TOKEN, jobs=jobs, texts=texts, results=results,
                     started=started)
    finally:
        state.close()
    return row


async def run_damaged(work: Path) -> checks.Row:
    started = time.monotonic()
    row = checks.Row("journal", "damaged journal at start", jobs=1)
    state = SandboxState(timing=JobTiming.fast())
    try:
        async with SandboxServer(state) as sandbox:
            params = params_for(work, sandbox.base_url, TOKEN)
            settings = settings_for(work, sandbox.base_url, TOKEN)
            journal = settings.journal_path
            await anyio.Path(journal.parent).mkdir(parents=True, exist_ok=True)
            await anyio.Path(journal).write_bytes(DAMAGE)
            [song] = make_songs(work / "in", 1, prefix="Damaged journal")
            stderr = work / "server-stderr.log"
            async with stdio_server(params, stderr) as server:
                first = await server.call("list_jobs", {})
                said = "was damaged (file is not a database), so it was moved aside" in checks.result_text(first)
                out = await server.ok("separate_audio", {"inputs": [str(song)], "model": MODEL,
                                                         "output_format": "flac"})
                [job] = await _finish(server, [j["id"] for j in out["jobs"]])
                results = server.results
            kept = sorted(journal.parent.glob(f"{journal.stem}.damaged-*{journal.suffix}"))
            report: list[str] = []
            await anyio.to_thread.run_sync(lambda: run_doctor({}, dict(params.env or {}), write=report.append))
            doctor_line = next((line for line in report if " journal " in line[:20]), "")
            if first.is_error or not said:
                row.add("lost", [f"the first answer does not say the journal was damaged: "
                                 f"{checks.result_text(first)[:200]!r}"])
            if job["state"] != "completed":
                row.add("lost", [f"the separation after the damage ended {job['state']}: {job.get('error')}"])
            if not kept or await anyio.Path(kept[0]).read_bytes() != DAMAGE:
                row.add("lost", ["the damaged journal was not kept beside the fresh one"])
            if "moved aside" not in doctor_line:
                row.add("lost", [f"doctor does not report it: {doctor_line!r}"])
            jobs = journal_jobs(settings, TOKEN)
            kept_as = kept[0].name if kept else "NOTHING"
            row.outcome = (f"started; first answer {'says so' if said else 'SILENT'}; kept as {kept_as}; doctor "
                           f"{doctor_line[:6]}; then {outcome_text(jobs)}")
            texts = stdio_texts(results, stderr)
            texts["doctor"] = "\n".join(report)
            fill_row(row, sandbox=sandbox, settings=settings, token=TOKEN, jobs=jobs, texts=texts, results=results,
                     started=started)
    finally:
        state.close()
    return row
