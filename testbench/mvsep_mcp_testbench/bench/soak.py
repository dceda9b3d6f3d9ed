"""``mvsep-mcp bench --soak``: one server process, hundreds of separation requests over a simulated week.

What a fresh process hides shows here: a schedule that drifts, memory, descriptors or threads that leak, a journal
that grows faster than the jobs. One ``mvsep-mcp serve`` (stdio, as a desktop host runs it, the product's own
polling policy and status budget) gets one request after the other: fresh jobs whose length varies ±30 % around
``job_s``; in between, identical requests for earlier results whose stems were deleted (MVSep still has the recent
ones and has dropped those older than its 72 hours), cancellations while a job waits in MVSep's queue, a switch to
another account and later back (the ``login`` tool), and a restart of the service while a job runs.

Time. The service's clock runs ``speed`` times as fast as real time (at 60, a job of 2 real seconds is 2 sandbox
minutes, about what MVSep takes), and between two requests it is moved on so that request *i* of *N* starts
*(i-1)/(N-1)* of ``days`` after the first: the idle hours of a week of use are skipped, the jobs themselves run at
their own pace. The server's own clock is real: it sees jobs of about 2 s, a few seconds apart, and results that
MVSep has dropped.

Each request is measured from the ``separate_audio`` call to the ``wait_for_jobs`` answer that reports the stems on
disk. Its latency beyond the job's own length runs from the moment the service finished the job; for a result fetched
again with no new job, from the call. Every request also records the status requests it cost and the server's memory,
descriptors, threads, journal and log size right after it (``soak_report`` turns them into blocks and targets).
"""

from __future__ import annotations

import random
import shutil
import sqlite3
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import anyio
import anyio.to_thread

from mvsep_mcp_testbench.bench import proc
from mvsep_mcp_testbench.bench.context import MODEL
from mvsep_mcp_testbench.bench.mcp_server import McpServer, ToolFailed
from mvsep_mcp_testbench.bench.service import BenchService
from mvsep_mcp_testbench.bench.songs import song
from mvsep_mcp_testbench.sandbox import JobTiming

DAY_S = 86400.0
ACCOUNTS = ("soak-a", "soak-b")  # the server starts with the first; switches to the second and back
PASSWORD = "password123"  # the sandbox's default for a new account
WAIT_TIMEOUT_S = 300.0
CANCEL_QUEUE_S = 30.0  # a job meant to be cancelled waits this long (real seconds) in the service's queue


@dataclass(frozen=True)
class SoakParams:
    """Sizes of one soak. ``full()`` follows the issue (at least 300 requests, blocks of 100, a week); ``quick()`` is
    a smoke run of about two minutes whose numbers are not meant to be compared."""

    mode: str
    requests: int = 300
    block: int = 100
    job_s: float = 2.0  # a fresh job's length at the service, in real seconds…
    spread: float = 0.3  # …varying this much either way
    queue_share: float = 0.25  # of which it waits in the queue this share, then processes
    speed: float = 60.0  # the service's clock, times real time
    days: float = 7.0  # the requests are spread over this much service time
    refetch_every: int = 15  # every so many requests is an identical request for an earlier result
    cancel_every: int = 25  # every so many requests is cancelled while it waits in the queue
    song_seconds: float = 2.0
    restart_pause_s: float = 2.0  # the service is away this long when it restarts
    seed: int = 16

    @classmethod
    def full(cls) -> SoakParams:
        return cls("soak")

    @classmethod
    def quick(cls) -> SoakParams:
        return cls("soak-quick", requests=24, block=8, refetch_every=5, cancel_every=7)

    def kind_of(self, number: int) -> str:
        if number % self.cancel_every == 0:
            return "cancel"
        if number % self.refetch_every == 0:
            return "refetch"
        return "fresh"

    @property
    def switches(self) -> tuple[int, int]:
        """The requests before which the server switches account (to the second, then back)."""
        return self.requests // 3 + 1, 2 * self.requests // 3 + 1

    @property
    def restart_at(self) -> int:
        """The request during which the service restarts: the first fresh job from half way on."""
        number = self.requests // 2
        while self.kind_of(number) != "fresh":
            number += 1
        return number


@dataclass
class Sample:
    """The server process and its files at one moment."""

    rss_mb: float | None
    fds: int | None
    threads: int | None
    journal_bytes: int
    log_bytes: int


@dataclass
class Request:
    number: int
    kind: str  # fresh | refetch | cancel
    account: str
    outcome: str  # completed | cancelled | reused (a refetch served with no new job) | failed
    started: float  # time.time()
    ended: float
    length_s: float | None  # the job's own length at the service (None: no job ran for it)
    extra_s: float | None  # latency beyond that length (None: cancelled or failed)
    status_requests: int
    sandbox_day: float  # service days since the first request, when it started
    sample: Sample
    note: str = ""
    # where a new job's latency went: its first status request, in seconds after the create, and the first after the
    # service finished it, in seconds after that (the rest is the download and the answer)
    first_poll_s: float | None = None
    done_poll_s: float | None = None


@dataclass
class Soak:
    """One soak run: the service, the server under test, and what was measured."""

    service: BenchService
    root: Path
    params: SoakParams
    say: Callable[[str], None]
    requests: list[Request] = field(default_factory=list)
    baseline: Sample | None = None  # after the warm-up, before the first request
    server: McpServer | None = None
    _rng: random.Random = field(init=False)
    _done: dict[str, list[Path]] = field(default_factory=dict)  # account -> inputs of its completed jobs
    _sandbox_start: float = 0.0

    def __post_init__(self) -> None:
        self._rng = random.Random(self.params.seed)
        self._tokens = {label: self.service.account(label, premium=True) for label in ACCOUNTS}
        self._account = ACCOUNTS[0]
        base = JobTiming(queue_s=self._queue_s(self.params.job_s), queue_positions=1,
                         processing_s=self._run_s(self.params.job_s))
        for token in self._tokens.values():  # a job created again for a dropped result: an average one
            self.service.set_timing(token, base)

    def _queue_s(self, length: float) -> float:
        return length * self.params.queue_share * self.params.speed

    def _run_s(self, length: float) -> float:
        return length * (1 - self.params.queue_share) * self.params.speed

    @property
    def folder(self) -> Path:
        path = self.root / "soak-inputs"
        path.mkdir(parents=True, exist_ok=True)
        return path

    # --- the run ---------------------------------------------------------------------------------------------------

    async def run(self) -> None:
        server = McpServer.product(self.root / "server-soak", self.service.base_url, self._tokens[self._account],
                                   toolsets="all,auth")  # auth: the login tool switches the account
        self._sandbox_start = self.service.state.now()
        async with server:
            self.server = server
            first = song(self.folder, "Soak Warmup", seconds=self.params.song_seconds, seed=999)
            await server.call("separate_audio", {"inputs": [str(first)], "model": MODEL, "dry_run": True})
            self.baseline = self.sample()
            for number in range(1, self.params.requests + 1):
                self._keep_the_calendar(number)
                if number in self.params.switches:
                    await self._switch_account()
                request = await self._one(number)
                self.requests.append(request)
                if number % self.params.block == 0 or number == self.params.requests:
                    self.say(f"soak: {number} requests, day {request.sandbox_day:.1f}, RSS "
                             f"{request.sample.rss_mb or 0:.1f} MB, {request.sample.fds} fds, "
                             f"{request.sample.threads} threads")
            self.server = None

    def _keep_the_calendar(self, number: int) -> None:
        """Move the service's clock on to where request ``number`` belongs in the week (nothing runs meanwhile)."""
        due = self._sandbox_start + (number - 1) / max(1, self.params.requests - 1) * self.params.days * DAY_S
        now = self.service.state.now()
        if due > now:
            self.service.state.clock.advance(seconds=due - now)

    async def _switch_account(self) -> None:
        self._account = ACCOUNTS[1] if self._account == ACCOUNTS[0] else ACCOUNTS[0]
        assert self.server is not None
        await self.server.call("login", {"email": f"{self._account}@bench.mvsep.test", "password": PASSWORD})
        self.say(f"soak: switched to account {self._account}")

    async def _one(self, number: int) -> Request:
        kind = self.params.kind_of(number)
        if kind == "refetch" and not self._done.get(self._account):
            kind = "fresh"
        day = (self.service.state.now() - self._sandbox_start) / DAY_S
        token = self._tokens[self._account]
        if kind == "cancel":
            self.service.plan_timing(token, JobTiming(queue_s=CANCEL_QUEUE_S * self.params.speed, queue_positions=1,
                                                      processing_s=self._run_s(self.params.job_s)))
            return await self._cancel(number, day, self._new_input(number))
        if kind == "refetch":
            return await self._measure(number, "refetch", day, self._pick_old(number))
        length = self.params.job_s * self._rng.uniform(1 - self.params.spread, 1 + self.params.spread)
        self.service.plan_timing(token, JobTiming(queue_s=self._queue_s(length), queue_positions=1,
                                                  processing_s=self._run_s(length)))
        return await self._measure(number, "fresh", day, self._new_input(number),
                                   restart=number == self.params.restart_at)

    def _new_input(self, number: int) -> Path:
        return song(self.folder, f"Soak {number:03d}", seconds=self.params.song_seconds, seed=1000 + number)

    def _pick_old(self, number: int) -> Path:
        """An earlier input of the current account: alternately a recent one (MVSep still has its result) and the
        oldest (by the week's second half, one MVSep has dropped)."""
        done = self._done[self._account]
        recent = number // self.params.refetch_every % 2 == 1
        return done[-min(len(done), 5)] if recent else done.pop(0)

    async def _measure(self, number: int, kind: str, day: float, track: Path, *, restart: bool = False) -> Request:
        assert self.server is not None
        started = time.time()
        outcome, note, job = "completed", "", None
        try:
            ids = await self.server.separate([track], model=MODEL)
            if restart:
                note = f"service restarted during this job ({self.params.restart_pause_s:g} s away)"
                async with anyio.create_task_group() as tg:
                    tg.start_soon(anyio.to_thread.run_sync, self.service.restart, self.params.restart_pause_s)
                    [job] = await self.server.wait_all(ids, WAIT_TIMEOUT_S)
            else:
                [job] = await self.server.wait_all(ids, WAIT_TIMEOUT_S)
        except ToolFailed as exc:
            outcome, note = "failed", str(exc)[:200]
        ended = time.time()
        length, extra = None, None
        polls: tuple[float | None, float | None] = (None, None)
        if job is not None:
            length, extra, reused = self._latency(job, started, ended)
            outcome = "reused" if reused else outcome
            if not reused:
                polls = self._polls(str(job["hash"]), ended - extra)
            self._done.setdefault(self._account, []).append(track)
            self._delete_stems(job)
        return Request(number, kind, self._account, outcome, started, ended, length, extra,
                       self.service.status_requests(started, ended), day, self.sample(), note, *polls)

    async def _cancel(self, number: int, day: float, track: Path) -> Request:
        assert self.server is not None
        started = time.time()
        ids = await self.server.separate([track], model=MODEL)
        try:
            out = await self.server.call("cancel_job", {"job_id": ids[0]})
            outcome = "cancelled" if out.get("state") == "cancelled" else f"not cancelled ({out.get('state')})"
        except ToolFailed as exc:
            outcome = f"not cancelled ({str(exc)[:120]})"
        if outcome != "cancelled":
            await self.server.wait_all(ids, WAIT_TIMEOUT_S)
        ended = time.time()
        return Request(number, "cancel", self._account, outcome, started, ended, None, None,
                       self.service.status_requests(started, ended), day, self.sample())

    def _latency(self, job: dict[str, Any], started: float, ended: float) -> tuple[float | None, float, bool]:
        """(the job's own length, the latency beyond it, whether no new job ran) for a completed request."""
        state = self.service.state
        job_hash = job.get("hash")
        created = state.created_real.get(job_hash) if job_hash else None
        if job_hash is None or created is None or created < started:
            return None, ended - started, True  # MVSep's earlier result, fetched again
        sandbox_job = state.jobs[job_hash]
        length = (sandbox_job.timing.queue_s + sandbox_job.run_s) / self.params.speed
        finished = self.service.done_at.get(job_hash, created + length)
        return length, ended - finished, False

    def _polls(self, job_hash: str, finished: float) -> tuple[float | None, float | None]:
        """The job's first status request after its create, and the first after ``finished`` after that."""
        times = self.service.status_request_times_of(job_hash)
        created = self.service.state.created_real[job_hash]
        later = [t for t in times if t >= finished]
        return (times[0] - created if times else None), (later[0] - finished if later else None)

    def _delete_stems(self, job: dict[str, Any]) -> None:
        """The user moves the stems away (so an identical request later finds no files to reuse)."""
        folders = set()
        for output in job.get("outputs", []):
            path = Path(output.get("path") or "")
            if path.is_file():
                folders.add(path.parent)
                path.unlink()
        for folder in folders:
            shutil.rmtree(folder, ignore_errors=True)

    # --- the server process ----------------------------------------------------------------------------------------

    def sample(self) -> Sample:
        server = self.server
        assert server is not None
        pid = server.pid
        log = server.root / "server-stderr.log"
        return Sample(
            rss_mb=proc.rss_mb(pid) if pid else None,
            fds=proc.fd_count(pid) if pid else None,
            threads=proc.thread_count(pid) if pid else None,
            journal_bytes=journal_bytes(server.root / "data" / "journal.sqlite3"),
            log_bytes=log.stat().st_size if log.exists() else 0,
        )


def journal_bytes(path: Path) -> int:
    """The journal's size as the database sees it (pages in use, the write-ahead log included), read-only: the file
    sizes alone would follow the write-ahead log's checkpoints rather than the journal."""
    if not path.exists():
        return 0
    db = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=10)
    try:
        pages = db.execute("PRAGMA page_count").fetchone()[0]
        size = db.execute("PRAGMA page_size").fetchone()[0]
        free = db.execute("PRAGMA freelist_count").fetchone()[0]
        return int((pages - free) * size)
    finally:
        db.close()
