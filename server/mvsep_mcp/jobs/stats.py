"""Counters of what the runner sent and fetched, read by tests, fault injection and benchmarks."""

from __future__ import annotations

from dataclasses import asdict, dataclass


@dataclass
class RunnerStats:
    creates_sent: int = 0  # POST /separation/create calls started (each may upload a file)
    polls: int = 0  # get / get-remote calls
    history_lookups: int = 0  # reconciliations of uncertain creates
    cancels_sent: int = 0
    downloads: int = 0  # result files committed
    bytes_downloaded: int = 0
    reused_results: int = 0  # jobs that reused an earlier job's MVSep hash (no upload)
    reused_files: int = 0  # jobs completed at once from an earlier job's files on disk

    def as_dict(self) -> dict[str, int]:
        return asdict(self)
