"""Jobs through the MCP server: a short job, a long job, batches, and the status requests they cost.

Every scenario has its own sandbox account and its own server process (so requests and memory are per account and
per process). Times run from the ``separate_audio`` call to the moment ``wait_for_jobs`` reports every job
completed (stems downloaded, tagged, manifest written). The service's side comes from the sandbox: the job timing it
was given, and when each job was first done there (``BenchService.done_at``).
"""

from __future__ import annotations

import math
import time
from pathlib import Path

import anyio
from mvsep_mcp.policy import ACCOUNT_STATUS_REQUESTS_PER_MINUTE

from mvsep_mcp_testbench.bench.baseline import long_job_split, todays_status_requests
from mvsep_mcp_testbench.bench.context import MODEL, Bench, median
from mvsep_mcp_testbench.bench.figures import Figure, Target
from mvsep_mcp_testbench.bench.mcp_server import McpServer
from mvsep_mcp_testbench.bench.songs import song, songs
from mvsep_mcp_testbench.sandbox import JobTiming

WINDOW_S = 60.0
TEN_MINUTES_S = 600.0


async def _warm_up(server: McpServer, sample: Path) -> None:
    """A dry run: the catalogue and the account are fetched once, as in any session's first call."""
    await server.call("separate_audio", {"inputs": [str(sample)], "model": MODEL, "dry_run": True})


async def _run_jobs(server: McpServer, inputs: list[Path], timeout_s: float) -> float:
    """Seconds from the separate_audio call until every job is completed."""
    started = time.perf_counter()
    ids = await server.separate(inputs, model=MODEL)
    await server.wait_all(ids, timeout_s)
    return time.perf_counter() - started


# --- short job --------------------------------------------------------------------------------------------------------


async def short_job(bench: Bench) -> None:
    p = bench.params
    bench.say(f"short job ({p.short_job_s:g} s at the service), {p.short_job_runs} run(s)")
    token = bench.service.account("short", premium=True)
    folder = bench.folder("inputs-short")
    timing = JobTiming(queue_s=p.short_queue_s, queue_positions=1, processing_s=p.short_processing_s)
    seconds = []
    async with bench.server("short", token) as server:
        await _warm_up(server, song(folder, "Short Warmup", seconds=p.song_seconds, seed=900))
        bench.service.set_timing(token, timing)
        for i in range(p.short_job_runs):
            track = song(folder, f"Short Job {i + 1}", seconds=p.song_seconds, seed=901 + i)
            seconds.append(await _run_jobs(server, [track], timeout_s=120))
    bench.add(Figure(
        "short_job", "short job, create → stems on disk", "s", median(seconds), p.short_job_s, "job time",
        Target.ref_plus(1.5, "s"), note=f"median of {p.short_job_runs}; job time = {p.short_queue_s:g} s queued + "
                                        f"{p.short_processing_s:g} s processing",
        details={"runs_s": seconds},
    ))


# --- long job (runs alongside the batches) ----------------------------------------------------------------------------


async def long_job(bench: Bench) -> None:
    p = bench.params
    queue_s, run_s = long_job_split(p.long_job_s)
    bench.say(f"long job ({p.long_job_s:g} s at the service) started, alongside the batches")
    token = bench.service.account("long", premium=True)
    folder = bench.folder("inputs-long")
    timing = JobTiming(queue_s=queue_s, queue_positions=max(2, int(p.long_job_s // 15)), processing_s=run_s)
    async with bench.server("long", token) as server:
        await _warm_up(server, song(folder, "Long Warmup", seconds=p.song_seconds, seed=800))
        bench.service.set_timing(token, timing)
        ids = await server.separate([song(folder, "Long Job", seconds=p.song_seconds, seed=801)], model=MODEL)
        await server.wait_all(ids, timeout_s=p.long_job_s + 300)
        on_disk = time.time()
    jobs = bench.service.jobs_of(token)
    done_at = bench.service.done_at.get(jobs[0].hash) if jobs else None
    bench.add(Figure(
        "long_job_end", "long job's end → stems on disk", "s", on_disk - done_at if done_at else None,
        p.long_job_s, "job time", Target.at_most(5.0, "s"),
        note=f"{queue_s:g} s queued + {run_s:g} s processing; from the service's finish to the completed job",
    ))
    requests = len(bench.service.status_request_times(token))
    today = todays_status_requests(queue_s, run_s)
    ten_q, ten_run = long_job_split(TEN_MINUTES_S)
    bench.add(Figure(
        "status_long_job", f"status requests for a {p.long_job_s:g}-second job", "req", float(requests),
        float(today), "today's schedule", Target.ratio_at_most(1.0),
        note=(f"measured; today's count is computed from the polling constants before issue 10 (bench/baseline.py); "
              f"for a 10-minute job ({ten_q:g} s queued) today sends {todays_status_requests(ten_q, ten_run)}: run "
              f"with --long-job-s 600 to measure that one"),
    ))


# --- batches --------------------------------------------------------------------------------------------------------


async def _batch(bench: Bench, server: McpServer, label: str, key: str, files: list[Path], premium: bool) -> None:
    p = bench.params
    concurrency = bench.service.concurrency(premium)
    ideal = math.ceil(len(files) / concurrency) * p.batch_job_s
    seconds = await _run_jobs(server, files, timeout_s=ideal * 10 + 300)
    bench.add(Figure(
        key, f"batch, {label}, {len(files)} files × {p.batch_job_s:g} s", "s", seconds, ideal, "ideal",
        Target.ratio_at_most(1.25),
        note=f"ideal = ⌈files / {concurrency} in flight⌉ × job time (a slot holds one job at a time)",
    ))


async def batches(bench: Bench) -> None:
    """Free and premium batches, the long job alongside; then the status rate and the premium server's memory."""
    p = bench.params
    timing = JobTiming(queue_s=p.batch_queue_s, queue_positions=2, processing_s=p.batch_processing_s)
    folder = bench.folder("inputs-batch")
    free_token = bench.service.account("free batch", premium=False)
    premium_token = bench.service.account("premium batch", premium=True)
    bench.service.set_timing(free_token, timing)
    bench.service.set_timing(premium_token, timing)
    free_files = songs(folder, "Free Song", p.batch_free_files, seconds=p.song_seconds, first_seed=100)
    small = songs(folder, "Premium Song", p.batch_premium_small, seconds=p.song_seconds, first_seed=200)
    large = songs(folder, "Premium Big Song", p.batch_premium_large, seconds=p.song_seconds, first_seed=300)
    async with anyio.create_task_group() as tg:
        tg.start_soon(long_job, bench)
        bench.say(f"free batch of {len(free_files)}")
        async with bench.server("free", free_token) as server:
            await _warm_up(server, free_files[0])
            await _batch(bench, server, "free account", "batch_free", free_files, premium=False)
        bench.say(f"premium batches of {len(small)} and {len(large)}")
        async with bench.server("premium", premium_token) as server:
            await _warm_up(server, small[0])
            before = server.rss_mb()
            await _batch(bench, server, "premium", "batch_premium_small", small, premium=True)
            after_small = server.rss_mb()
            await _batch(bench, server, "premium", "batch_premium_large", large, premium=True)
            await anyio.sleep(0.5)
            after_large = server.rss_mb()
        bench.say("waiting for the long job")
    growth = after_large - before if after_large is not None and before is not None else None
    bench.add(Figure(
        "rss_growth_batch", f"memory growth after a {len(large)}-file batch", "MB", growth, before,
        "RSS before the batches", Target.at_most(10.0, "MB"),
        note=(f"server RSS {before or 0:.0f} MB after a dry run, {after_small or 0:.0f} MB after the "
              f"{len(small)}-file batch, {after_large or 0:.0f} MB after the {len(large)}-file batch"),
    ))
    status_rate(bench)


def _max_per_window(times: list[float]) -> int:
    best, first = 0, 0
    for last, t in enumerate(times):
        while t - times[first] >= WINDOW_S:
            first += 1
        best = max(best, last - first + 1)
    return best


def status_rate(bench: Bench) -> None:
    """The most status requests any account sent within one minute, over the whole run so far."""
    worst, worst_label = 0, "none"
    per_account = {}
    for token, label in bench.service.labels.items():
        count = _max_per_window(bench.service.status_request_times(token))
        per_account[label] = count
        if count > worst:
            worst, worst_label = count, label
    bench.add(Figure(
        "status_rate", "status requests per account per minute", "req/min", float(worst),
        float(ACCOUNT_STATUS_REQUESTS_PER_MINUTE), "policy rate", Target.ratio_at_most(1.0),
        note=f"most in any 60-second window, worst account: {worst_label}; runs shorter than a minute count whole",
        details={"per_account": per_account},
    ))
