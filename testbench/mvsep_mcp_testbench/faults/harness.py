"""The suite's plumbing: a sandbox on 127.0.0.1, the real MCP server in this process against it, inputs, evidence.

``InProcessServer`` is ``Client(create_server(settings))`` with the suite's small budgets, its log captured (through
the same redacting filter the product puts on every handler) and every tool result kept. ``evidence(...)`` gathers
what a run left behind (the journal's jobs, the files, the sandbox's counters) and fills a row's property columns.
"""

from __future__ import annotations

import io
import logging
import time
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import anyio
from mcp.client.client import Client
from mvsep_mcp.app import create_server
from mvsep_mcp.config import Settings, load_settings
from mvsep_mcp.jobs.journal import Journal
from mvsep_mcp.jobs.models import JobRecord
from mvsep_mcp.session import account_key_for

from mvsep_mcp_testbench.faults import checks, knobs
from mvsep_mcp_testbench.faults.budgets import fast_budgets
from mvsep_mcp_testbench.sandbox import SandboxServer
from mvsep_mcp_testbench.sandbox.samples import Song, make_audio

MODEL = "27"  # Demucs4 Vocals 2023: two stems, open to free accounts
WAIT_CALL_S = 5.0  # one wait_for_jobs call blocks at most this long in the suite
STEM_FILES = "/storage/processed/*"


def settings_for(work: Path, base_url: str, token: str | None, *, toolsets: str = "all",
                 output_dir: Path | None = None) -> Settings:
    """Settings as an MCP host would give them, everything under ``work`` (never this machine's own files)."""
    env = {
        "MVSEP_BASE_URL": base_url,
        "MVSEP_OUTPUT_DIR": str(output_dir or work / "out"),
        "MVSEP_DATA_DIR": str(work / "data"),
        "MVSEP_TOOLSETS": toolsets,
        "MVSEP_POLL_INTERVAL": str(knobs.FAULTS_POLL_INTERVAL_S),
        "MVSEP_CONFIG": str(work / "no-config.toml"),
        "MVSEP_CREDENTIALS": str(work / "credentials" / "credentials.json"),
        "MVSEP_AUTO_APPROVE_CREDITS": "1000000",  # automation: the sandbox's credits, spent unasked
        "MVSEP_STATUS_RATE": "100000",  # the sandbox on loopback, not mvsep.com: faults, not pacing, are under test
    }
    if token:
        env["MVSEP_API_TOKEN"] = token
    return load_settings({}, env)


def make_songs(folder: Path, count: int, *, prefix: str, seconds: float = 2.0, fmt: str = "flac") -> list[Path]:
    """``count`` real, tagged songs with distinct titles (so their stems never share a name)."""
    return [make_audio(folder, fmt, name=f"{prefix} {n + 1}", seconds=seconds, seed=11 + n,
                       song=Song(title=f"{prefix} {n + 1}", artist="Fault Suite"))
            for n in range(count)]


@dataclass
class InProcessServer:
    """A connected client to the real server in this process, keeping every result it got."""

    client: Client
    settings: Settings
    log: io.StringIO
    results: list[tuple[str, Any]] = field(default_factory=list)

    async def call(self, name: str, arguments: dict[str, Any] | None = None) -> Any:
        result = await self.client.call_tool(name, arguments or {})
        self.results.append((name, result))
        return result

    async def ok(self, name: str, arguments: dict[str, Any] | None = None) -> dict[str, Any]:
        """A call that must succeed: its structured content."""
        return checks.structured_or_fail(name, await self.call(name, arguments))

    async def wait_all(self, job_ids: list[str], deadline_s: float = knobs.FAULTS_JOB_DEADLINE_S) -> dict[str, Any]:
        """wait_for_jobs until every job ended or the deadline passed; the last answer."""
        end = anyio.current_time() + deadline_s
        while True:
            out = await self.ok("wait_for_jobs", {"job_ids": job_ids, "max_wait_s": WAIT_CALL_S})
            if out["all_finished"] or anyio.current_time() >= end:
                return out

    def texts(self) -> dict[str, str]:
        """Every result and the log, by where they came from (for the token check)."""
        texts = {f"result {n} of {name}": checks.result_text(r) for n, (name, r) in enumerate(self.results)}
        texts["the server's log"] = self.log.getvalue()
        return texts


@asynccontextmanager
async def in_process_server(settings: Settings) -> AsyncIterator[InProcessServer]:
    """The real server (``create_server``) in this process with the suite's budgets; its log captured at DEBUG."""
    buffer = io.StringIO()
    handler = logging.StreamHandler(buffer)
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    level = root.level
    root.addHandler(handler)  # before create_server: it puts its redacting filter on every handler there is
    root.setLevel(logging.DEBUG)
    try:
        with fast_budgets():
            server = create_server(settings)
            async with Client(server) as client:
                yield InProcessServer(client, settings, buffer)
    finally:
        root.removeHandler(handler)
        root.setLevel(level)


def stdio_texts(results: Sequence[tuple[str, Any]], stderr: Path) -> dict[str, str]:
    """Every result of servers run as stdio children, and their stderr, by where they came from (the token check)."""
    texts = {f"result {n} of {name}": checks.result_text(r) for n, (name, r) in enumerate(results)}
    texts["the server's stderr"] = stderr.read_text(encoding="utf-8", errors="replace")
    return texts


def journal_jobs(settings: Settings, token: str) -> list[JobRecord]:
    """Every job the journal holds for this token's account (read after the server stopped, or beside it)."""
    with Journal(settings.journal_path) as journal:
        return journal.list(account_key_for(token, settings.base_url), limit=10_000)


def stem_bytes(sandbox: SandboxServer) -> int:
    """Bytes of result files the sandbox served (what the downloads cost)."""
    return sum(r.bytes_out for r in sandbox.state.traffic.records(STEM_FILES))


def own_hosts(sandbox: SandboxServer) -> set[str]:
    """The Host headers of the configured base URL: the only site files may come from by default."""
    return {f"127.0.0.1:{sandbox.port}"}


def fill_row(row: checks.Row, *, sandbox: SandboxServer, settings: Settings, token: str, jobs: Sequence[JobRecord],
             texts: dict[str, str], results: Sequence[tuple[str, Any]], started: float) -> None:
    """The columns every row has: jobs, creates, bytes, and the properties that hold for any run."""
    traffic = sandbox.state.traffic
    row.jobs = max(row.jobs, len(jobs))
    row.creates = traffic.creates()
    row.bytes = stem_bytes(sandbox)
    hashes = {j.hash for j in jobs if j.hash}
    if row.creates > len(hashes):
        row.add("double", [f"{row.creates} creates for {len(hashes)} job hash(es)"])
    stems, manifests = checks.reported_files(jobs)
    row.add("non_audio", checks.not_audio(stems))
    row.add("non_audio", checks.not_audio(p for p in checks.manifest_stems(manifests) if p not in stems))
    row.add("leftovers", checks.stray_files(settings.output_dir, [*stems, *manifests]))
    row.add("leftovers", [f"job {j.id} still lists temporary files" for j in jobs if j.is_terminal and j.partials])
    row.add("foreign", checks.foreign_requests(traffic.hosts(), own_hosts(sandbox)))
    row.add("late_polls", checks.late_polls(traffic.records(checks.STATUS_PATH), jobs))
    row.add("leaks", checks.token_leaks(token, texts, [settings.data_dir, settings.output_dir]))
    row.add("crashes", checks.crashes(results))
    row.seconds = time.monotonic() - started


def outcome_text(jobs: Sequence[JobRecord]) -> str:
    """"2 completed, 1 failed" (states in a fixed order)."""
    counts: dict[str, int] = {}
    for job in jobs:
        counts[job.state.value] = counts.get(job.state.value, 0) + 1
    order = ("completed", "failed", "expired", "cancelled", "uncertain", "active", "downloading", "submitting",
             "queued")
    return ", ".join(f"{counts[s]} {s}" for s in order if s in counts) or "no jobs"
