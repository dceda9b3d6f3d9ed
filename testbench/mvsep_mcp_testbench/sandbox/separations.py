"""Sandbox separation jobs and their status, derived from the clock rather than from background threads.

A job's life is fixed at creation by its ``JobTiming``: ``waiting`` (``current_order`` falling to 1), then
``processing``; inputs of ``long_input_s`` or more go ``distributing`` (chunks finishing) and ``merging`` instead.
It is ``done`` once that time has passed *and* its audio has been rendered (the state starts rendering as soon as a
job is observed past ``waiting``), ``failed`` for undecodable input (or an injected failure), and gone
(``not_found``) after the retention time or a cancel.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mvsep_mcp_testbench.sandbox.algorithms import AlgorithmEntry

RUNNING_STATUSES = ("waiting", "processing", "distributing", "merging")


@dataclass(frozen=True)
class JobTiming:
    """Seconds per phase of every job created while this timing is set (the demo's pace by default)."""

    queue_s: float = 6.0
    queue_positions: int = 3  # current_order when a job is created; it falls to 1
    processing_s: float = 8.0
    long_input_s: float = 15 * 60.0  # inputs this long or longer are split over several GPUs
    distributing_s: float = 12.0
    merging_s: float = 3.0
    chunk_s: float = 300.0  # seconds of audio per chunk of a long input
    remote_download_s: float = 1.0  # a URL job stays `waiting` on get-remote at least this long
    quality_s: float = 5.0  # a quality-checker entry is processed after this long

    @classmethod
    def fast(cls) -> JobTiming:
        """Sub-second phases for tests; a 6-second input counts as long."""
        return cls(queue_s=0.3, queue_positions=3, processing_s=0.3, long_input_s=6.0, distributing_s=0.6,
                   merging_s=0.2, chunk_s=2.0, remote_download_s=0.1, quality_s=0.3)


@dataclass
class Phase:
    status: str  # waiting | processing | distributing | merging | done | failed | expired | cancelled
    current_order: int = 0
    finished_chunks: int = 0
    all_chunks: int = 0


@dataclass
class Job:
    id: int
    hash: str
    token: str
    algorithm: AlgorithmEntry
    options: dict[str, str]
    output_format: int
    input_path: Path | None
    input_name: str
    input_size: int
    duration_s: float | None
    created_at: float
    timing: JobTiming
    retention_s: float
    premium: bool
    credits: int
    is_demo: bool = False
    long_filenames: bool = False
    failure: str | None = None  # the input could not be decoded (known at creation), or a fail_job fault
    cancelled: bool = False
    render_state: str = "pending"  # pending | running | done | failed
    render_error: str | None = None
    files: list[Any] = field(default_factory=list)  # audio.RenderedStem
    files_deleted: bool = False
    reference_path: Path | None = None
    tags: dict[str, Any] = field(default_factory=dict)  # getID3 shape, read from the input at creation
    transcription: str | None = None

    @property
    def is_long(self) -> bool:
        return self.duration_s is not None and self.duration_s >= self.timing.long_input_s

    @property
    def all_chunks(self) -> int:
        if not self.is_long or self.duration_s is None:
            return 0
        return max(2, math.ceil(self.duration_s / self.timing.chunk_s))

    @property
    def run_s(self) -> float:
        return self.timing.distributing_s + self.timing.merging_s if self.is_long else self.timing.processing_s

    @property
    def done_at(self) -> float:
        return self.created_at + self.timing.queue_s + self.run_s

    @property
    def expires_at(self) -> float:
        return self.done_at + self.retention_s

    def phase(self, now: float) -> Phase:
        """The status the clock alone gives (rendering is overlaid by the state)."""
        if self.cancelled:
            return Phase("cancelled")
        if now >= self.expires_at:
            return Phase("expired")
        elapsed = now - self.created_at
        t = self.timing
        if elapsed < t.queue_s:
            left = (t.queue_s - elapsed) / t.queue_s if t.queue_s > 0 else 0.0
            return Phase("waiting", current_order=max(1, math.ceil(t.queue_positions * left)))
        if self.failure is not None:
            return Phase("failed")
        run = elapsed - t.queue_s
        if self.is_long:
            if run < t.distributing_s:
                done = math.floor(self.all_chunks * run / t.distributing_s) if t.distributing_s > 0 else 0
                return Phase("distributing", current_order=1, finished_chunks=min(done, self.all_chunks - 1),
                             all_chunks=self.all_chunks)
            if run < t.distributing_s + t.merging_s:
                return Phase("merging", finished_chunks=self.all_chunks, all_chunks=self.all_chunks)
            return Phase("done")
        if run < t.processing_s:
            return Phase("processing")
        return Phase("done")


@dataclass
class RemoteJob:
    """A job created from a URL: the sandbox first downloads the input, then creates the real job."""

    hash: str
    token: str
    url: str
    created_at: float
    request: dict[str, Any]  # what create_job needs once the file is here
    job_hash: str | None = None
    error: str | None = None
    downloaded: bool = False

    def status(self, now: float, min_wait_s: float) -> str:
        if self.error is not None:
            return "failed"
        if self.job_hash is not None and now - self.created_at >= min_wait_s:
            return "done"
        return "waiting"
