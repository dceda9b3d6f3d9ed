"""What a soak run shows: per block of requests (a table), and the targets as benchmark figures (value, reference,
ratio, target, pass, as the other figures of ``mvsep-mcp bench``).

Targets (issue 16): the last block no slower than the first (median latency beyond a job's own length within 0.3 s);
the server's memory after the first block (the warm-up) growing by at most 10 MB; open descriptors and threads flat
(the last block's highest no higher than the first's); the journal growing with the requests and no faster (the last
block's growth per request within 10 % of the first's: see ``JOURNAL_RATIO_MAX``). Status requests per request and
the log are shown as found.
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

from mvsep_mcp_testbench.bench.figures import Figure, Target, number
from mvsep_mcp_testbench.bench.soak import Request, Sample

LATENCY_SLACK_S = 0.3  # the last block's median latency may exceed the first's by this much
RSS_GROWTH_MAX_MB = 10.0
GROWTH_RATIO_MAX = 1.0  # descriptors and threads: the last block's highest no higher than the first's
# the journal's growth per request: the same rows per job, but its tables are keyed by random ids and hashes, whose
# B-tree pages fill less (towards about 70 %) as they split, so bytes per job on disk rise a few per cent at first
JOURNAL_RATIO_MAX = 1.1


@dataclass(frozen=True)
class Block:
    first: int  # request numbers, both included
    last: int
    requests: int
    measured: int  # requests with a latency (cancelled ones have none)
    median_extra_s: float | None
    worst_extra_s: float | None
    status_per_request: float
    rss_mb: float | None  # at the block's end
    fds_max: int | None  # the most seen after any request of the block
    threads_max: int | None
    journal_bytes: int  # at the block's end
    journal_growth_per_request: float
    log_bytes: int
    log_growth_per_request: float
    sandbox_day: float  # service days since the first request, at the block's last request
    kinds: dict[str, int]  # requests per kind (fresh, refetch, cancel) and outcome

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _most(values: Sequence[int | None]) -> int | None:
    known = [v for v in values if v is not None]
    return max(known) if known else None


def blocks(requests: Sequence[Request], size: int, baseline: Sample) -> list[Block]:
    out: list[Block] = []
    before = baseline
    for start in range(0, len(requests), size):
        part = requests[start:start + size]
        extras = [r.extra_s for r in part if r.extra_s is not None]
        end = part[-1].sample
        kinds: dict[str, int] = {}
        for r in part:
            key = r.kind if r.outcome in ("completed", "cancelled") else f"{r.kind} ({r.outcome.split(' ')[0]})"
            kinds[key] = kinds.get(key, 0) + 1
        out.append(Block(
            first=part[0].number, last=part[-1].number, requests=len(part), measured=len(extras),
            median_extra_s=statistics.median(extras) if extras else None,
            worst_extra_s=max(extras) if extras else None,
            status_per_request=sum(r.status_requests for r in part) / len(part),
            rss_mb=end.rss_mb, fds_max=_most([r.sample.fds for r in part]),
            threads_max=_most([r.sample.threads for r in part]),
            journal_bytes=end.journal_bytes,
            journal_growth_per_request=(end.journal_bytes - before.journal_bytes) / len(part),
            log_bytes=end.log_bytes, log_growth_per_request=(end.log_bytes - before.log_bytes) / len(part),
            sandbox_day=part[-1].sandbox_day, kinds=kinds,
        ))
        before = end
    return out


COLUMNS = ("requests", "service day", "median extra", "worst extra", "status req/request", "RSS", "fds", "threads",
           "journal", "journal/request", "log", "log/request")


def block_table(rows: Sequence[Block]) -> str:
    """A Markdown table, one row per block."""
    body = [(
        f"{b.first}–{b.last}", f"{b.sandbox_day:.1f}", number(b.median_extra_s, "s"), number(b.worst_extra_s, "s"),
        number(b.status_per_request), number(b.rss_mb, "MB"), str(b.fds_max), str(b.threads_max),
        f"{b.journal_bytes / 1024:.0f} KB", f"{b.journal_growth_per_request:.0f} B",
        f"{b.log_bytes / 1024:.0f} KB", f"{b.log_growth_per_request:.0f} B",
    ) for b in rows]
    widths = [max(len(c), *(len(r[i]) for r in body)) if body else len(c) for i, c in enumerate(COLUMNS)]

    def line(cells: Sequence[str]) -> str:
        return "| " + " | ".join(cell.ljust(w) for cell, w in zip(cells, widths, strict=True)) + " |"

    return "\n".join([line(COLUMNS), "|" + "|".join("-" * (w + 2) for w in widths) + "|", *(line(r) for r in body)])


def _float(value: int | float | None) -> float | None:
    return None if value is None else float(value)


def soak_figures(rows: Sequence[Block], days: float) -> list[Figure]:
    """The targets: the last block against the first."""
    first, last = rows[0], rows[-1]
    span = f"requests {first.first}–{first.last} against {last.first}–{last.last}"
    rss_growth = last.rss_mb - first.rss_mb if last.rss_mb is not None and first.rss_mb is not None else None
    return [
        Figure("soak_latency", "median latency beyond a job's length, last block", "s", last.median_extra_s,
               first.median_extra_s, "first block", Target.ref_plus(LATENCY_SLACK_S, "s"),
               note=f"{span}; from the service's end of the job to wait_for_jobs reporting the stems on disk (a result "
                    f"fetched again with no new job: from the call)"),
        Figure("soak_worst", "worst latency beyond a job's length, last block", "s", last.worst_extra_s,
               first.worst_extra_s, "first block", Target.none(),
               note="a dropped result asked for again waits for MVSep's 'not found' three times before a new job"),
        Figure("soak_status", "status requests per request, last block", "req", last.status_per_request,
               first.status_per_request, "first block", Target.none()),
        Figure("soak_rss", "memory growth after the first block", "MB", rss_growth, first.rss_mb,
               "RSS after the first block", Target.at_most(RSS_GROWTH_MAX_MB, "MB"),
               note=f"RSS {number(first.rss_mb, 'MB')} after request {first.last}, {number(last.rss_mb, 'MB')} "
                    f"after request {last.last}"),
        Figure("soak_fds", "open file descriptors, most in the last block", "fds", _float(last.fds_max),
               _float(first.fds_max), "most in the first block", Target.ratio_at_most(GROWTH_RATIO_MAX)),
        Figure("soak_threads", "threads, most in the last block", "threads", _float(last.threads_max),
               _float(first.threads_max), "most in the first block", Target.ratio_at_most(GROWTH_RATIO_MAX)),
        Figure("soak_journal", "journal growth per request, last block", "B", last.journal_growth_per_request,
               first.journal_growth_per_request, "first block", Target.ratio_at_most(JOURNAL_RATIO_MAX),
               note=f"{last.journal_bytes / 1024:.0f} KB after {last.last} requests (pages in use, the write-ahead "
                    f"log included); the same rows per job, in B-tree pages that fill less as they split"),
        Figure("soak_log", "log growth per request, last block", "B", last.log_growth_per_request,
               first.log_growth_per_request, "first block", Target.none()),
        Figure("soak_days", "service time covered", "days", last.sandbox_day, days, "the simulated week",
               Target.none(), note="the service's clock at the last request's start, from the first's"),
    ]
