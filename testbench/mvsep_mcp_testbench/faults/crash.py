"""SIGKILL of the server at each phase of a job, then a restart on the same data folder that must finish it.

Each phase is caught from the outside, by what the sandbox sees or what lies in the output folder, never by a hook in
the product:

- uploading: a ~26 MB upload to a create held back by a ``slow`` fault (the sandbox reads nothing for a while, so the
  upload stalls once the socket buffers are full): the kill lands with the last bytes not yet sent;
- waiting: the job sits in MVSep's queue and the server has polled it;
- downloading: a stem was cut off half way (``reset_mid``) and the resume with ``Range`` is pending: a ``.part`` file
  with half the stem is on disk;
- tagging: the hidden temporary file of a verified stem being tagged exists (big WAV stems make that last long
  enough to see; the folder is watched every few milliseconds).

After the restart the job must complete: 0 lost, 0 double creates, stems verified audio, no ``.part`` left, no file
no job reports.

And one graceful stop: SIGTERM while a 26 MB stem is part way down (its ``.part`` file growing). The server must be
gone within ``FAULTS_STOP_S`` with one log line saying so, its session closed (the journal's WAL folded back), and
the restart must fetch only the rest of the stem (``Range``), not all of it again.
"""

from __future__ import annotations

import os
import re
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

import anyio
from mvsep_mcp.media.files import final_name_from_temp, is_temp_name, temp_path_for

from mvsep_mcp_testbench.faults import checks, knobs
from mvsep_mcp_testbench.faults.harness import (
    MODEL,
    fill_row,
    journal_jobs,
    make_songs,
    outcome_text,
    settings_for,
    stdio_texts,
    stem_bytes,
)
from mvsep_mcp_testbench.faults.stdio import StdioServer, params_for, stdio_server
from mvsep_mcp_testbench.sandbox import SANDBOX_PREMIUM_TOKEN, JobTiming, SandboxServer, SandboxState

WATCH_STEP_S = 0.002  # how often the suite looks for the moment to kill
WATCH_LIMIT_S = 60.0
CATCH_ATTEMPTS = 3
WAIT_CALLS = 40
# the job waits in MVSep's queue long enough to kill the server while it is there
SLOW_QUEUE = JobTiming(queue_s=3.0, queue_positions=3, processing_s=0.3, long_input_s=600.0, distributing_s=0.3,
                       merging_s=0.2, chunk_s=60.0, remote_download_s=0.1, quality_s=0.3)
PHASES = ("uploading", "waiting", "downloading", "tagging")


@dataclass(frozen=True)
class CrashPoint:
    phase: str
    faults: str = ""
    timing: JobTiming | None = None
    input_seconds: float = 2.0
    input_format: str = "flac"
    output_format: str = "flac"
    moment: str = ""  # what was going on when the kill came
    signal: str = "SIGKILL"  # SIGKILL: a crash; SIGTERM: a stop the server must make gracefully

    @property
    def name(self) -> str:
        return f"{self.signal} while {self.phase}"


POINTS = (
    CrashPoint("uploading", "create:slow=5", input_seconds=knobs.FAULTS_KILL_INPUT_SECONDS, input_format="wav",
               moment="a 26 MB upload stalled part way"),
    CrashPoint("waiting", timing=SLOW_QUEUE, moment="the job in MVSep's queue"),
    CrashPoint("downloading", "download:reset_mid=0.5", moment="a stem half on disk, its resume pending"),
    CrashPoint("tagging", input_seconds=knobs.FAULTS_KILL_INPUT_SECONDS, input_format="wav", output_format="wav",
               moment="a verified 26 MB stem being tagged"),
    CrashPoint("downloading", input_seconds=knobs.FAULTS_KILL_INPUT_SECONDS, input_format="wav",
               output_format="wav", moment="a 26 MB stem part way down", signal="SIGTERM"),
)
STOP_LINE = "stopping on SIGTERM: unfinished jobs stay in the journal"


def point_named(name: str) -> CrashPoint:
    """A point by its name (``"SIGTERM while downloading"``) or, for a SIGKILL, its phase."""
    return next(p for p in POINTS if name in (p.name, p.phase if p.signal == "SIGKILL" else None))


async def run_crash(point: CrashPoint, work: Path | None = None) -> checks.Row:
    """Kill at the point's moment and restart. A moment is short (tagging lasts a few tens of milliseconds): when the
    watch missed it, the run is repeated in a fresh folder, up to ``CATCH_ATTEMPTS`` times."""
    if work is None:
        with tempfile.TemporaryDirectory(prefix="mvsep-crash-") as folder:
            return await run_crash(point, Path(folder))
    for attempt in range(1, CATCH_ATTEMPTS + 1):
        row, caught = await _attempt(point, work / f"attempt-{attempt}")
        if caught:
            return row
    row.add("lost", [f"the {point.phase} phase was never seen in {CATCH_ATTEMPTS} runs, so the {point.signal} came at "
                     "another moment"])
    return row


async def _attempt(point: CrashPoint, work: Path) -> tuple[checks.Row, bool]:
    started = time.monotonic()
    token = SANDBOX_PREMIUM_TOKEN
    row = checks.Row("crash", point.name, jobs=1)
    state = SandboxState(timing=point.timing or JobTiming.fast())
    try:
        async with SandboxServer(state, faults=point.faults or None) as sandbox:
            params = params_for(work, sandbox.base_url, token)
            stderr = work / "server-stderr.log"
            [song] = make_songs(work / "in", 1, prefix=f"Crash {point.phase}", seconds=point.input_seconds,
                                fmt=point.input_format)
            results: list[tuple[str, object]] = []
            async with stdio_server(params, stderr) as first:
                submitted: list[str] = []
                async with anyio.create_task_group() as tg:
                    tg.start_soon(_submit, first, song, point, submitted)  # it does not return before the create
                    trigger = _mid_stream if point.signal == "SIGTERM" else _TRIGGERS[point.phase]
                    caught = await _watch(trigger(sandbox, work / "out", submitted))
                    if point.signal == "SIGTERM":
                        took = await first.terminate()
                        served = stem_bytes(sandbox)
                    else:
                        await first.kill()
                    tg.cancel_scope.cancel()
                results += first.results
            async with stdio_server(params, stderr) as second:
                listed = await second.ok("list_jobs", {})
                await _wait(second, [job["id"] for job in listed["jobs"]])
                results += second.results
            settings = settings_for(work, sandbox.base_url, token)  # the same folders the child used
            jobs = journal_jobs(settings, token)
            verb = "stopped" if point.signal == "SIGTERM" else "killed"
            row.outcome = f"{verb} with {point.moment}; after a restart: {outcome_text(jobs)}"
            if point.signal == "SIGTERM":
                _stopped_well(row, took, stderr, settings.journal_path, served, stem_bytes(sandbox), sandbox)
            row.add("lost", [f"job {j.id} ended {j.state.value}: {j.error}" for j in jobs
                             if j.state.value != "completed"])
            texts = stdio_texts(results, stderr)
            fill_row(row, sandbox=sandbox, settings=settings, token=token, jobs=jobs, texts=texts, results=results,
                     started=started)
    finally:
        state.close()
    return row, caught


async def _submit(server: StdioServer, song: Path, point: CrashPoint, submitted: list[str]) -> None:
    """Start the job; its id lands in ``submitted`` (the call may die with the server first)."""
    try:
        out = await server.ok("separate_audio", {"inputs": [str(song)], "model": MODEL,
                                                  "output_format": point.output_format})
    except Exception:  # the server was killed under the call
        return
    submitted.append(str(out["jobs"][0]["id"]))


async def _wait(server: StdioServer, job_ids: list[str]) -> None:
    for _ in range(WAIT_CALLS):
        out = await server.ok("wait_for_jobs", {"job_ids": job_ids, "max_wait_s": 10})
        if out["all_finished"]:
            return


async def _watch(moment: Callable[[], Awaitable[bool]]) -> bool:
    """Look for the moment every few milliseconds; False when it never came."""
    end = time.monotonic() + WATCH_LIMIT_S
    while time.monotonic() < end:
        if await moment():
            return True
        await anyio.sleep(WATCH_STEP_S)
    return False


def _stopped_well(row: checks.Row, took: float | None, stderr: Path, journal: Path, before: int, after: int,
                  sandbox: SandboxServer) -> None:
    """SIGTERM: gone promptly, one line, the session closed; the restart fetched the rest of the stem, not all."""
    if took is None or took > knobs.FAULTS_STOP_S:
        row.add("stop", [f"still running {knobs.FAULTS_STOP_S:g} s after SIGTERM" if took is None
                         else f"gone {took:.1f} s after SIGTERM"])
    lines = stderr.read_text(encoding="utf-8", errors="replace").count(STOP_LINE)
    if lines != 1:
        row.add("stop", [f"{lines} lines saying the server stops on SIGTERM (one expected)"])
    if Path(f"{journal}-wal").exists():
        row.add("stop", ["the journal was not closed (its WAL is still beside it)"])
    stems = [p.stat().st_size for p in sandbox.state.processed_dir.glob("*") if p.is_file()]
    if after - before >= sum(stems):
        row.add("retried", [f"the restart fetched {after - before} bytes of {sum(stems)}: not resumed with Range"])


# --- the moments ----------------------------------------------------------------------------------------------------

def _mid_stream(sandbox: SandboxServer, out: Path, submitted: list[str]) -> Moment:
    """A stem's temporary file part way: some bytes on disk, more on the way."""
    async def moment() -> bool:
        stems = [p.stat().st_size for p in sandbox.state.processed_dir.glob("*") if p.is_file()]
        return bool(stems) and any(0 < p.stat().st_size < min(stems) // 2 for p in _temp_files(out))

    return moment


Moment = Callable[[], Awaitable[bool]]


def _uploading(sandbox: SandboxServer, out: Path, submitted: list[str]) -> Moment:
    async def moment() -> bool:
        if not sandbox.state.traffic.records("/api/separation/create"):
            return False
        await anyio.sleep(0.5)  # the upload fills the socket buffers and stalls while the sandbox waits
        return True

    return moment


def _waiting(sandbox: SandboxServer, out: Path, submitted: list[str]) -> Moment:
    async def moment() -> bool:
        jobs = list(sandbox.state.jobs.values())
        polled = sandbox.state.traffic.records(checks.STATUS_PATH)
        return bool(jobs and polled) and sandbox.state.status_of(jobs[0]) == "waiting"

    return moment


def _downloading(sandbox: SandboxServer, out: Path, submitted: list[str]) -> Moment:
    async def moment() -> bool:
        if not sandbox.state.faults.fired("reset_mid"):
            return False
        return any(p.stat().st_size > 0 for p in _temp_files(out))

    return moment


def _tagging(sandbox: SandboxServer, out: Path, submitted: list[str]) -> Moment:
    async def moment() -> bool:
        return bool(submitted) and any(_is_tagging(p, submitted[0]) for p in _temp_files(out))

    return moment


_TRIGGERS: dict[str, Callable[[SandboxServer, Path, list[str]], Moment]] = {
    "uploading": _uploading, "waiting": _waiting, "downloading": _downloading, "tagging": _tagging,
}
_STEM_IN_NAME = re.compile(r"\(([^()]+)\)\.\w+$")


def _temp_files(out: Path) -> list[Path]:
    found = []
    for folder, _dirs, names in os.walk(out):
        found += [Path(folder) / n for n in names if is_temp_name(n)]
    return found


def _is_tagging(path: Path, job_id: str) -> bool:
    """Whether a temporary file is the one a verified stem is tagged in (its name derives from job, file and stem)."""
    final = final_name_from_temp(path.name)
    stem = _STEM_IN_NAME.search(final or "")
    if final is None or stem is None:
        return False
    return any(temp_path_for(path.parent / final, f"{job_id}/{index}/{stem.group(1)}/tagging").name == path.name
               for index in range(8))
