"""Two replicas of the real server (``mvsep-mcp serve --transport http``, two OS processes) on loopback, sharing one
PostgreSQL journal, one output folder and one sandbox account: a job started through replica A finishes through
replica B after A is killed mid-job, created once; while both live, every job is created and downloaded once.

The account's lease decides which replica works its jobs; the other only records and reports. A killed replica's
lease lapses after ``MVSEP_LEASE_TTL`` (short here), on the database's clock.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import anyio
import httpx
import psycopg
import pytest
from mcp.client.client import Client
from mvsep_mcp_testbench.sandbox import SANDBOX_PREMIUM_TOKEN, JobTiming, SandboxServer

from tests.postgres import free_port
from tests.programs import posix_only

from .conftest import (
    POLL_INTERVAL,
    REPO_ROOT,
    Session,
    all_exist,
    files_under,
    make_input,
    start_sandbox,
    stop_sandbox,
    wait_until,
)

MODEL = "27"  # Demucs4 Vocals 2023: two stems
TAKEOVER_TTL_S = "2"  # a killed replica's jobs are taken over this soon (the default is 30 s)
READY_TIMEOUT_S = 60.0

# The job waits in MVSep's queue for a few seconds: long enough to kill the replica working on it meanwhile.
SLOW_QUEUE = JobTiming(queue_s=4.0, queue_positions=3, processing_s=0.5, long_input_s=600.0, distributing_s=0.5,
                       merging_s=0.2, chunk_s=60.0, remote_download_s=0.1, quality_s=0.3)


@dataclass
class Replica:
    name: str
    process: subprocess.Popen[bytes]
    port: int
    log: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/mcp"

    def log_tail(self) -> str:
        return self.log.read_text(errors="replace")[-3000:] if self.log.exists() else ""


class Replicas:
    """Starts replicas of one deployment (same database, output folder, account); kills them all at the end."""

    def __init__(self, root: Path, base_url: str, database_url: str) -> None:
        self.root, self.base_url, self.database_url = root, base_url, database_url
        self.started: list[Replica] = []

    def start(self, name: str, lease_ttl: str = "30") -> Replica:
        home = self.root / name / "home"
        home.mkdir(parents=True, exist_ok=True)
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "MVSEP_API_TOKEN": SANDBOX_PREMIUM_TOKEN,
            "MVSEP_BASE_URL": self.base_url,
            "MVSEP_DATABASE_URL": self.database_url,
            "MVSEP_LEASE_TTL": lease_ttl,
            "MVSEP_OUTPUT_DIR": str(self.root / "out"),  # shared, as a volume both replicas mount
            "MVSEP_DATA_DIR": str(self.root / name / "data"),  # caches stay per replica
            "MVSEP_TOOLSETS": "all",
            "MVSEP_POLL_INTERVAL": POLL_INTERVAL,
            "MVSEP_STATUS_RATE": "100000",
            "MVSEP_AUTO_APPROVE_CREDITS": "1000000",  # an automation host: the sandbox's credits, spent unasked
            "MVSEP_CONFIG": str(self.root / "no-such-config.toml"),
            "HOME": str(home),
            "XDG_CONFIG_HOME": str(home / ".config"),
            "XDG_DATA_HOME": str(home / ".local" / "share"),
            "PYTHONUNBUFFERED": "1",
        }
        port = free_port()
        log = self.root / f"{name}.log"
        with log.open("ab") as errlog:
            process = subprocess.Popen(
                [sys.executable, "-m", "mvsep_mcp", "--log-level", "INFO", "serve", "--transport", "http",
                 "--host", "127.0.0.1", "--port", str(port)],
                env=env, cwd=REPO_ROOT, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=errlog)
        replica = Replica(name, process, port, log)
        self.started.append(replica)
        return replica

    async def ready(self, replica: Replica) -> None:
        """Wait until the replica answers HTTP at all (any status: it is up)."""
        async with httpx.AsyncClient() as http:
            for _ in range(int(READY_TIMEOUT_S / 0.1)):
                if replica.process.poll() is not None:
                    raise AssertionError(f"replica {replica.name} exited: {replica.log_tail()}")
                try:
                    await http.get(replica.url, timeout=1.0)
                    return
                except httpx.TransportError:
                    await anyio.sleep(0.1)
        raise AssertionError(f"replica {replica.name} never answered: {replica.log_tail()}")

    def stop_all(self) -> None:
        for replica in self.started:
            if replica.process.poll() is None:
                replica.process.kill()
            replica.process.wait(timeout=30)


@pytest.fixture
def sandbox() -> Iterator[SandboxServer]:
    server = start_sandbox(SLOW_QUEUE)
    try:
        yield server
    finally:
        stop_sandbox(server)


@pytest.fixture
def replicas(tmp_path: Path, sandbox: SandboxServer, postgres_url: str) -> Iterator[Replicas]:
    group = Replicas(tmp_path, sandbox.base_url, postgres_url)
    try:
        yield group
    finally:
        group.stop_all()


@asynccontextmanager
async def connect(replica: Replica) -> AsyncIterator[Session]:
    async with Client(replica.url) as client:
        yield Session(client)


def lease_holder_pid(database_url: str) -> int | None:
    """The pid of the process holding the (one) account's lease, while it runs (the database's clock)."""
    with psycopg.connect(database_url) as conn:
        row = conn.execute("SELECT pid FROM leases WHERE expires_at > now()").fetchone()
    return int(row[0]) if row else None


async def wait_for_holder(database_url: str, replica: Replica) -> None:
    await wait_until(lambda: lease_holder_pid(database_url) == replica.process.pid,
                     f"replica {replica.name} to hold the account's lease", timeout_s=READY_TIMEOUT_S)


def downloads_per_file(sandbox: SandboxServer) -> Counter[str]:
    return Counter(r.path for r in sandbox.state.traffic.records("/storage/*", method="GET"))


@posix_only("a crash is SIGKILL, and the other replica finds the dead holder with os.kill(pid, 0)")
async def test_a_job_started_on_a_killed_replica_finishes_on_the_other(
        tmp_path: Path, sandbox: SandboxServer, replicas: Replicas, postgres_url: str) -> None:
    a = replicas.start("a", lease_ttl=TAKEOVER_TTL_S)
    await replicas.ready(a)
    await wait_for_holder(postgres_url, a)  # A works the account's jobs
    b = replicas.start("b", lease_ttl=TAKEOVER_TTL_S)
    await replicas.ready(b)
    song = make_input(tmp_path / "in", "flac", title="Hand Over")

    async with connect(a) as on_a:
        submitted = await on_a.ok("separate_audio", {"inputs": [str(song)], "model": MODEL, "output_format": "flac"})
    job_id = submitted["jobs"][0]["id"]

    async with connect(b) as on_b:
        job: dict[str, Any] = {}
        for _ in range(200):  # B sees the job A created in the shared journal
            job = (await on_b.ok("wait_for_jobs", {"job_ids": [job_id], "max_wait_s": 0.2}))["jobs"][0]
            if job["state"] == "active" and job["hash"]:
                break
        assert job["state"] == "active" and job["hash"], f"the job never reached MVSep: {job}"
        remote = sandbox.state.jobs_of(SANDBOX_PREMIUM_TOKEN)
        assert sandbox.state.status_of(remote[0]) in ("waiting", "processing")  # mid-job

        os.kill(a.process.pid, signal.SIGKILL)  # a crash: no lease released, no row tidied
        await anyio.to_thread.run_sync(a.process.wait)
        await wait_for_holder(postgres_url, b)  # once A's lease lapsed, B took the account over
        done = await on_b.wait_all([job_id])

    [job] = done["jobs"]
    assert job["state"] == "completed", (job, b.log_tail())
    assert job["outputs"] and all_exist(o["path"] for o in job["outputs"])  # 0 lost
    assert sandbox.state.traffic.creates(SANDBOX_PREMIUM_TOKEN) == 1  # 0 double creates
    assert len(sandbox.state.jobs_of(SANDBOX_PREMIUM_TOKEN)) == 1
    assert all(n == 1 for n in downloads_per_file(sandbox).values()), downloads_per_file(sandbox)
    stems = [p for p in files_under(tmp_path / "out") if p.suffix == ".flac"]
    assert len(stems) == len(job["outputs"]) and not [p for p in stems if "(2)" in p.name]
    password = urlsplit(postgres_url).password or ""
    logs = a.log.read_text(errors="replace") + b.log.read_text(errors="replace")
    assert "journal" in logs and password not in logs and SANDBOX_PREMIUM_TOKEN not in logs


async def test_two_live_replicas_never_create_or_download_a_job_twice(
        tmp_path: Path, sandbox: SandboxServer, replicas: Replicas, postgres_url: str) -> None:
    a, b = replicas.start("a"), replicas.start("b")
    await replicas.ready(a)
    await replicas.ready(b)
    songs = [make_input(tmp_path / "in", "flac", title=f"Shared {n}", seed=30 + n, seconds=1.5) for n in range(6)]
    async with connect(a) as on_a, connect(b) as on_b:
        holder = None
        ids: list[str] = []
        for n, song in enumerate(songs):  # submitted through both, alternately
            replica = on_a if n % 2 == 0 else on_b
            out = await replica.ok("separate_audio", {"inputs": [str(song)], "model": MODEL, "output_format": "mp3"})
            ids += [j["id"] for j in out["jobs"]]
            holder = holder or lease_holder_pid(postgres_url)
        done_a = await on_a.wait_all(ids)
        done_b = await on_b.ok("wait_for_jobs", {"job_ids": ids, "max_wait_s": 1})  # B sees the same ends
    assert holder in (a.process.pid, b.process.pid)
    assert lease_holder_pid(postgres_url) == holder  # one replica worked the account throughout
    assert a.process.poll() is None and b.process.poll() is None
    assert [j["state"] for j in done_a["jobs"]] == ["completed"] * len(songs), done_a
    assert [j["state"] for j in done_b["jobs"]] == ["completed"] * len(songs)
    assert sandbox.state.traffic.creates(SANDBOX_PREMIUM_TOKEN) == len(songs)  # each job created once
    downloads = downloads_per_file(sandbox)
    assert sum(len(j["outputs"]) for j in done_a["jobs"]) == len(downloads) and set(downloads.values()) == {1}
    stems = [p for p in files_under(tmp_path / "out") if p.suffix == ".mp3"]
    assert len(stems) == len(downloads) and not [p for p in stems if "(2)" in p.name]
