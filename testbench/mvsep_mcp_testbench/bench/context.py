"""What every scenario of a run shares: the service, a work folder, the run's sizes, and progress output."""

from __future__ import annotations

import statistics
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from mvsep_mcp_testbench.bench.figures import Figure
from mvsep_mcp_testbench.bench.mcp_server import McpServer
from mvsep_mcp_testbench.bench.service import BenchService

MODEL = "20"  # Demucs4 HT: four stems, free and premium accounts alike


@dataclass(frozen=True)
class Params:
    """Sizes of one run. ``full()`` follows the issue's figures; ``quick()`` is a smoke run of about a minute."""

    mode: str
    cold_start_runs: int = 5
    upload_mb: int = 512
    upload_runs: int = 2
    short_job_runs: int = 2
    short_queue_s: float = 0.5
    short_processing_s: float = 1.5
    long_job_s: float = 150.0
    batch_queue_s: float = 1.0
    batch_processing_s: float = 2.0
    batch_free_files: int = 12
    batch_premium_small: int = 12
    batch_premium_large: int = 40
    song_seconds: float = 3.0  # each batch input
    long_take_seconds: float = 600.0  # the input of the separate_audio, repeat and download figures
    separate_runs: int = 2
    download_runs: int = 2
    verify_seconds: float = 240.0  # the stems whose whole-audio check is timed: a four-minute song

    @classmethod
    def full(cls) -> Params:
        return cls("full")

    @classmethod
    def quick(cls) -> Params:
        return cls("quick", cold_start_runs=2, upload_mb=48, upload_runs=1, short_job_runs=1, long_job_s=20.0,
                   batch_free_files=2, batch_premium_small=3, batch_premium_large=6, long_take_seconds=30.0,
                   separate_runs=1, download_runs=1, verify_seconds=30.0)

    @property
    def batch_job_s(self) -> float:
        return self.batch_queue_s + self.batch_processing_s

    @property
    def short_job_s(self) -> float:
        return self.short_queue_s + self.short_processing_s


@dataclass
class Bench:
    service: BenchService
    root: Path
    params: Params
    figures: list[Figure] = field(default_factory=list)

    def say(self, text: str) -> None:
        sys.stderr.write(f"bench: {text}\n")
        sys.stderr.flush()

    def add(self, figure: Figure) -> Figure:
        self.figures.append(figure)
        self.say(f"  {figure.name}: {figure.value if figure.value is None else round(figure.value, 3)} {figure.unit}")
        return figure

    def folder(self, name: str) -> Path:
        path = self.root / name
        path.mkdir(parents=True, exist_ok=True)
        return path

    def server(self, label: str, token: str, *, toolsets: str | None = "all") -> McpServer:
        return McpServer.product(self.root / f"server-{label}", self.service.base_url, token, toolsets=toolsets)


def median(values: Sequence[float]) -> float:
    return float(statistics.median(values))
