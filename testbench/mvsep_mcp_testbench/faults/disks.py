"""Disks that cannot take the stems: full, a file-size limit, turned read-only, deleted. Credits are spent once.

Each case asks for one separation whose destination fails after the create, then (where the disk can be mended) the
same request again: the first answer must be one sentence naming the folder, with no retry (no stem fetched twice,
none fetched at all when the announced sizes show it cannot fit); the second creates nothing new and the stems
arrive whole (decoded to their end, ``checks.not_audio``).

- **full disk**: the output folder is a small tmpfs. Mounting one needs a mount namespace: the case runs in a child
  under ``unshare -rm`` (any user, where user namespaces are allowed) or ``unshare -m`` (root), mounting the tmpfs
  itself; it is then grown with ``remount`` for the second request. Where neither works (a container without those
  rights) the row says it did not run.
- **file-size limit**: the server runs as a stdio child with ``RLIMIT_FSIZE`` below a stem's size, so a write past
  the limit returns short and the next one fails with ``EFBIG``: the short-write path in a real process, with no
  privilege at all. The second request goes to a server started without the limit, on the same journal.
- **read-only folder**: the folder becomes read-only while the job waits in MVSep's queue (a tmpfs remounted
  read-only in the child's namespace; without one, and not root, ``chmod``), then writable again.
- **deleted folder**: the output folder is deleted while the job waits in MVSep's queue: it is made again and the
  job completes.
"""

from __future__ import annotations

import ctypes
import json
import os
import shutil
import stat
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import asdict
from pathlib import Path
from typing import Any

import anyio
from mvsep_mcp import system

from mvsep_mcp_testbench.faults import checks, knobs
from mvsep_mcp_testbench.faults.crash import SLOW_QUEUE
from mvsep_mcp_testbench.faults.harness import (
    MODEL,
    InProcessServer,
    fill_row,
    in_process_server,
    journal_jobs,
    make_songs,
    outcome_text,
    settings_for,
    stdio_texts,
    stem_bytes,
)
from mvsep_mcp_testbench.faults.stdio import params_for, stdio_server
from mvsep_mcp_testbench.sandbox import SANDBOX_PREMIUM_TOKEN, JobTiming, SandboxServer, SandboxState

TOKEN = SANDBOX_PREMIUM_TOKEN
CASES = ("full disk", "file-size limit", "read-only folder", "deleted folder")
_MS_RDONLY, _MS_REMOUNT = 1, 32  # mount(2) flags
_ROW_FILE = "row.json"
_CHILD = "MVSEP_FAULTS_NAMESPACE_CHILD"  # set in the child that runs a case in its own mount namespace
NAMESPACES = (["unshare", "-rm"], ["unshare", "-m"])  # a mount namespace: as any user (user namespaces), as root


async def run_disks(work: Path | None = None) -> list[checks.Row]:
    """One row per case, each in a fresh folder (and sandbox)."""
    if work is None:
        with tempfile.TemporaryDirectory(prefix="mvsep-disks-") as folder:
            try:
                return await run_disks(Path(folder))
            finally:
                writable_again(Path(folder))
    rows = []
    for case in CASES:
        rows.append(await run_disk_case(case, work / case.replace(" ", "-")))
    return rows


async def run_disk_case(case: str, work: Path) -> checks.Row:
    await anyio.Path(work).mkdir(parents=True, exist_ok=True)
    if case == "full disk":
        return await _in_namespace(case, work)
    if case == "read-only folder" and namespace_command() is not None:
        return await _in_namespace(case, work)
    return await _CASES[case](work)


# --- where a small file system can be mounted ------------------------------------------------------------------------

def namespace_command() -> list[str] | None:
    """How to start a child in its own mount namespace here, or None when no way works (no rights in a container)."""
    if system.current() != "linux" or shutil.which("unshare") is None:
        return None
    for command in NAMESPACES:
        try:
            subprocess.run([*command, "true"], check=True, capture_output=True, timeout=30)
        except (OSError, subprocess.SubprocessError):
            continue
        return command
    return None


def mount_tmpfs(target: Path, size: int, *, remount: bool = False, read_only: bool = False) -> None:
    """Mount (or remount) a tmpfs of ``size`` bytes at ``target`` (inside the child's mount namespace)."""
    libc = ctypes.CDLL(None, use_errno=True)
    flags = (_MS_REMOUNT if remount else 0) | (_MS_RDONLY if read_only else 0)
    if libc.mount(b"tmpfs", str(target).encode(), b"tmpfs", flags, f"size={size}".encode()) != 0:
        code = ctypes.get_errno()
        raise OSError(code, f"mount tmpfs at {target}: {os.strerror(code)}")


async def _in_namespace(case: str, work: Path) -> checks.Row:
    """Run the case in a child with its own mount namespace; its row comes back as JSON."""
    command = namespace_command()
    if command is None:
        return checks.Row("disk", _name(case), outcome="not run: no mount namespace here (unshare -rm and -m refused)")
    log = work / "child.log"
    with log.open("w", encoding="utf-8") as errors:
        done = await anyio.run_process([*command, sys.executable, "-m", "mvsep_mcp_testbench.faults.disks", case,
                                        str(work)], stdout=errors, stderr=errors, check=False)
    row_file = work / _ROW_FILE
    if done.returncode != 0 or not row_file.exists():
        row = checks.Row("disk", _name(case))
        row.add("crashes", [f"the case's child exited {done.returncode}: {log.read_text(errors='replace')[-400:]}"])
        return row
    return checks.Row(**json.loads(row_file.read_text(encoding="utf-8")))


def _child(case: str, work: Path) -> None:
    """In the namespace: run the case, write its row."""
    row = anyio.run(_CASES[case], work)
    (work / _ROW_FILE).write_text(json.dumps(asdict(row)), encoding="utf-8")


def _name(case: str) -> str:
    return {"full disk": f"full disk ({knobs.FAULTS_SMALL_DISK_BYTES // 1000} kB tmpfs)",
            "file-size limit": f"file-size limit ({knobs.FAULTS_FILE_SIZE_LIMIT_BYTES // 1000} kB, RLIMIT_FSIZE)",
            "read-only folder": "output folder turned read-only while queued",
            "deleted folder": "output folder deleted while queued"}[case]


# --- the cases -----------------------------------------------------------------------------------------------------

def _arguments(song: Path) -> dict[str, Any]:
    return {"inputs": [str(song)], "model": MODEL, "output_format": "flac"}


async def _separate(server: Any, song: Path) -> dict[str, Any]:
    """One separation to its end; the job as the last answer shows it."""
    out = await server.ok("separate_audio", _arguments(song))
    ids = [job["id"] for job in out["jobs"]]
    for _ in range(knobs.FAULTS_WAIT_CALLS):
        done = await server.ok("wait_for_jobs", {"job_ids": ids, "max_wait_s": 5})
        if done["all_finished"]:
            break
    job: dict[str, Any] = done["jobs"][0]
    return job


def _first_failed(row: checks.Row, job: dict[str, Any], words: str, fetched: int, stem_size: int) -> None:
    """The first request must fail at once with one sentence (``words`` in it), never fetching a stem twice."""
    error = str(job.get("error") or "")
    if job["state"] != "failed" or words not in error:
        row.add("lost", [f"the first request ended {job['state']}: {error[:160]!r}, not a sentence with {words!r}"])
    if "Errno" in error or "Traceback" in error:
        row.add("crashes", [f"a raw error reached the user: {error[:160]!r}"])
    if fetched > 2 * stem_size:  # two stems, each fetched at most once
        row.add("retried", [f"{fetched} bytes of stems fetched for one failing attempt"])


def _second_completed(row: checks.Row, job: dict[str, Any], creates: int) -> None:
    if job["state"] != "completed":
        row.add("lost", [f"the same request again ended {job['state']}: {str(job.get('error'))[:160]!r}"])
    if creates != 1:
        row.add("double", [f"{creates} creates for one song asked twice (the second should reuse the first)"])


async def _full_disk(work: Path) -> checks.Row:
    out = work / "out"
    out.mkdir(parents=True, exist_ok=True)
    mount_tmpfs(out, knobs.FAULTS_SMALL_DISK_BYTES)
    try:
        return await _mended(work, "full disk", "this job's files need about",
                             lambda: mount_tmpfs(out, knobs.FAULTS_LARGE_DISK_BYTES, remount=True),
                             breaks=None, none_fetched=True)
    finally:
        await anyio.run_process(["umount", "-l", str(out)], check=False)


async def _read_only(work: Path) -> checks.Row:
    out = work / "out"
    out.mkdir(parents=True, exist_ok=True)
    if os.environ.get(_CHILD) == "1":  # in the child's own mount namespace
        mount_tmpfs(out, knobs.FAULTS_LARGE_DISK_BYTES)
        return await _mended(work, "read-only folder", "is read-only",
                             lambda: mount_tmpfs(out, knobs.FAULTS_LARGE_DISK_BYTES, remount=True),
                             breaks=lambda: mount_tmpfs(out, knobs.FAULTS_LARGE_DISK_BYTES, remount=True,
                                                        read_only=True))
    if os.geteuid() == 0:
        return checks.Row("disk", _name("read-only folder"),
                          outcome="not run: root writes anywhere, and no mount namespace here to mount one read-only")
    return await _mended(work, "read-only folder", "may not write into the output folder",
                         lambda: out.chmod(stat.S_IRWXU), breaks=lambda: out.chmod(stat.S_IRUSR | stat.S_IXUSR))


async def _mended(work: Path, case: str, words: str, mend: Callable[[], None], *,
                  breaks: Callable[[], None] | None, none_fetched: bool = False) -> checks.Row:
    """The destination fails (at once, or by ``breaks()`` while the job waits in MVSep's queue); ``mend()``; the same
    request again."""
    started = time.monotonic()
    row = checks.Row("disk", _name(case), jobs=2)
    state = SandboxState(timing=SLOW_QUEUE if breaks is not None else JobTiming.fast())
    try:
        async with SandboxServer(state) as sandbox:
            settings = settings_for(work, sandbox.base_url, TOKEN)
            [song] = make_songs(work / "in", 1, prefix=f"Disk {case}", seconds=knobs.FAULTS_DISK_INPUT_S)
            async with in_process_server(settings) as server:
                if breaks is not None:
                    first = await _broken_while_queued(server, sandbox, song, breaks)
                else:
                    first = await _separate(server, song)
                served = stem_bytes(sandbox)
                _first_failed(row, first, words, served, _stem_size(sandbox))
                if none_fetched and served:
                    row.add("retried", [f"{served} bytes fetched into a folder the announced sizes showed too small"])
                mend()
                state.timing = JobTiming.fast()
                second = await _separate(server, song)
                _second_completed(row, second, state.traffic.creates())
            jobs = journal_jobs(settings, TOKEN)
            row.outcome = f"1st: {first['state']} ({_sentence(first, work)}); again: {second['state']}"
            fill_row(row, sandbox=sandbox, settings=settings, token=TOKEN, jobs=jobs, texts=server.texts(),
                     results=server.results, started=started)
    finally:
        state.close()
    return row


async def _broken_while_queued(server: InProcessServer, sandbox: SandboxServer, song: Path,
                               breaks: Callable[[], None]) -> dict[str, Any]:
    out = await server.ok("separate_audio", _arguments(song))
    ids = [job["id"] for job in out["jobs"]]
    await _until(lambda: _queued(sandbox))
    breaks()
    return (await server.wait_all(ids))["jobs"][0]  # type: ignore[no-any-return]


async def _until(moment: Callable[[], bool]) -> None:
    with anyio.fail_after(knobs.FAULTS_JOB_DEADLINE_S):
        while not moment():  # noqa: ASYNC110 - the sandbox's state has no event to wait on
            await anyio.sleep(0.02)


def _queued(sandbox: SandboxServer) -> bool:
    jobs = list(sandbox.state.jobs.values())
    return bool(jobs) and sandbox.state.status_of(jobs[0]) == "waiting"


def _stem_size(sandbox: SandboxServer) -> int:
    files = [p for p in sandbox.state.processed_dir.glob("*") if p.is_file()]
    return max((p.stat().st_size for p in files), default=0)


def _sentence(job: dict[str, Any], work: Path) -> str:
    """The job's sentence for the table, the case's own folder shortened to "…" (as the destinations group does)."""
    error = str(job.get("error") or "").replace(str(work), "…")
    return (error[:70] + "…") if len(error) > 70 else error or "no error"


async def _file_size_limit(work: Path) -> checks.Row:
    """The server as a stdio child under RLIMIT_FSIZE; then again without it, on the same journal."""
    started = time.monotonic()
    row = checks.Row("disk", _name("file-size limit"), jobs=2)
    state = SandboxState(timing=JobTiming.fast())
    try:
        async with SandboxServer(state) as sandbox:
            params = params_for(work, sandbox.base_url, TOKEN)
            limited = params.model_copy(update={"args": ["-c", _LIMITED.format(knobs.FAULTS_FILE_SIZE_LIMIT_BYTES),
                                                         *params.args[2:]]})
            [song] = make_songs(work / "in", 1, prefix="Disk limit", seconds=knobs.FAULTS_DISK_INPUT_S)
            stderr = work / "server-stderr.log"
            results: list[tuple[str, object]] = []
            async with stdio_server(limited, stderr) as first_server:
                first = await _separate(first_server, song)
                results += first_server.results
            size = _stem_size(sandbox)
            if size <= knobs.FAULTS_FILE_SIZE_LIMIT_BYTES:
                row.add("lost", [f"the stems ({size} bytes) fit under the limit: the case tests nothing"])
            _first_failed(row, first, "refuses files this large", stem_bytes(sandbox), size)
            async with stdio_server(params, stderr) as second_server:
                second = await _separate(second_server, song)
                results += second_server.results
            _second_completed(row, second, state.traffic.creates())
            settings = settings_for(work, sandbox.base_url, TOKEN)
            jobs = journal_jobs(settings, TOKEN)
            row.outcome = f"1st: {first['state']} ({_sentence(first, work)}); again: {second['state']}"
            texts = stdio_texts(results, stderr)
            fill_row(row, sandbox=sandbox, settings=settings, token=TOKEN, jobs=jobs, texts=texts, results=results,
                     started=started)
    finally:
        state.close()
    return row


# the server with a file-size limit (Python ignores SIGXFSZ: a write past it returns short, then fails with EFBIG)
_LIMITED = ("import resource, runpy, sys; resource.setrlimit(resource.RLIMIT_FSIZE, ({0}, {0})); "
            "sys.argv = ['mvsep-mcp', *sys.argv[1:]]; runpy.run_module('mvsep_mcp', run_name='__main__')")


async def _deleted(work: Path) -> checks.Row:
    started = time.monotonic()
    row = checks.Row("disk", _name("deleted folder"), jobs=1)
    state = SandboxState(timing=SLOW_QUEUE)
    try:
        async with SandboxServer(state) as sandbox:
            settings = settings_for(work, sandbox.base_url, TOKEN)
            settings.output_dir.mkdir(parents=True, exist_ok=True)
            [song] = make_songs(work / "in", 1, prefix="Disk deleted")
            async with in_process_server(settings) as server:
                job = await _broken_while_queued(server, sandbox, song,
                                                 lambda: shutil.rmtree(settings.output_dir))
            if job["state"] != "completed":
                row.add("lost", [f"the job ended {job['state']}: {str(job.get('error'))[:160]!r}"])
            jobs = journal_jobs(settings, TOKEN)
            row.outcome = f"deleted while queued; {outcome_text(jobs)}"
            fill_row(row, sandbox=sandbox, settings=settings, token=TOKEN, jobs=jobs, texts=server.texts(),
                     results=server.results, started=started)
    finally:
        state.close()
    return row


_CASES: dict[str, Callable[[Path], Awaitable[checks.Row]]] = {
    "full disk": _full_disk, "file-size limit": _file_size_limit, "read-only folder": _read_only,
    "deleted folder": _deleted,
}


def writable_again(work: Path) -> None:
    """Make the output folders a case left read-only writable again, so that its folder can be removed."""
    for folder in work.rglob("out"):
        if folder.is_dir():
            folder.chmod(stat.S_IRWXU)


if __name__ == "__main__":  # the child of _in_namespace
    os.environ[_CHILD] = "1"
    _child(sys.argv[1], Path(sys.argv[2]))
