"""Moving bytes through the MCP server: separate_audio against a curl upload, the identical request again, and
a job's stems downloaded again (fetch_job_results) against curl fetching them in parallel.

The input is one long WAV (``long_take_seconds``); its stems are WAV too, so the download is large.
"""

from __future__ import annotations

import shutil
import time
from pathlib import Path
from typing import Any

import anyio

from mvsep_mcp_testbench.bench.context import MODEL, Bench, median
from mvsep_mcp_testbench.bench.figures import Figure, Target
from mvsep_mcp_testbench.bench.mcp_server import McpServer
from mvsep_mcp_testbench.bench.proc import MB
from mvsep_mcp_testbench.bench.songs import song
from mvsep_mcp_testbench.bench.upload import PARKED
from mvsep_mcp_testbench.sandbox import JobTiming

CURL = "curl"
FORMAT = "wav"  # output_format of the product; the sandbox's code 1
FORMAT_CODE = "1"


def have_curl() -> bool:
    return shutil.which(CURL) is not None


async def _curl_upload(bench: Bench, token: str, path: Path) -> float:
    """Seconds for curl to create a job with ``path`` (the job is cancelled afterwards).

    ``Expect:`` turns off curl's ``Expect: 100-continue`` for large bodies, which costs about half a second against
    uvicorn and which neither httpx nor the product sends.
    """
    command = [CURL, "-sS", "-o", "/dev/null", "--fail-with-body", "-H", "Expect:", "-F", f"api_token={token}", "-F",
               f"sep_type={MODEL}", "-F", f"output_format={FORMAT_CODE}", "-F", f"audiofile=@{path}",
               f"{bench.service.base_url}/separation/create"]
    started = time.perf_counter()
    await anyio.run_process(command)
    seconds = time.perf_counter() - started
    bench.service.drop_jobs(token)
    return seconds


async def _curl_parallel(urls: list[str], folder: Path) -> float:
    """Seconds for one curl per URL, all at once, to fetch every file."""
    await anyio.Path(folder).mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    async with anyio.create_task_group() as tg:
        for i, url in enumerate(urls):
            tg.start_soon(anyio.run_process, [CURL, "-sS", "--fail", "-o", str(folder / f"{i}.bin"), url])
    seconds = time.perf_counter() - started
    shutil.rmtree(folder, ignore_errors=True)
    return seconds


async def measure(bench: Bench) -> None:
    p = bench.params
    if not have_curl():
        raise RuntimeError("curl is not installed (apt-get install curl): it is the reference of these figures")
    runs = p.separate_runs
    bench.say(f"separate_audio ({runs} run(s)), repeat and download with {p.long_take_seconds:g}-second WAVs")
    token = bench.service.account("files", premium=True)
    curl_token = bench.service.account("curl", premium=True, render=False)
    folder = bench.folder("inputs-files")
    takes = [song(folder, f"Long Take {i + 1}", seconds=p.long_take_seconds, fmt="wav", seed=500 + i)
             for i in range(runs)]
    warmup = song(folder, "Files Warmup", seconds=p.song_seconds, seed=499)
    take_mb = takes[0].stat().st_size / MB
    # processing long enough for the sandbox to render the stems (about 1 s per 100 s of audio)
    bench.service.set_timing(token, JobTiming(queue_s=0.5, queue_positions=1,
                                              processing_s=max(1.0, p.long_take_seconds / 60)))
    bench.service.set_timing(curl_token, PARKED)
    curl_s, separate_s, states = [], [], []
    first: dict[str, Any] = {}
    async with bench.server("files", token) as server:
        await server.call("separate_audio", {"inputs": [str(warmup)], "model": MODEL, "dry_run": True})
        for take in takes:
            curl_s.append(await _curl_upload(bench, curl_token, take))
            arguments: dict[str, Any] = {"inputs": [str(take)], "model": MODEL, "output_format": FORMAT}
            started = time.perf_counter()
            out = await server.call("separate_audio", arguments)
            separate_s.append(time.perf_counter() - started)
            job_id = out["jobs"][0]["id"]
            states.append(out["jobs"][0]["state"])
            [job] = await server.wait_all([job_id], timeout_s=600)
            first = first or {"arguments": arguments, "job": job}
        bench.add(Figure(
            "separate_audio", "separate_audio end to end", "s", median(separate_s), median(curl_s), "curl upload",
            Target.ratio_at_most(1.3),
            note=f"{take_mb:.0f} MB WAV, median of {runs}; the call returns once the job is created",
            details={"ours_s": separate_s, "curl_s": curl_s, "state_on_return": states},
        ))
        await _repeat(bench, server, first["arguments"], median(separate_s))
        await _download(bench, server, first["job"])


async def _repeat(bench: Bench, server: McpServer, arguments: dict[str, Any], first_s: float) -> None:
    since = time.time()
    started = time.perf_counter()
    out = await server.call("separate_audio", arguments)
    ids = [job["id"] for job in out["jobs"]]
    if any(job["state"] != "completed" for job in out["jobs"]):
        await server.wait_all(ids, timeout_s=600)
    seconds = time.perf_counter() - started
    uploaded = bench.service.upload_bytes(since)
    bench.add(Figure(
        "repeat", "identical request again", "ms", seconds * 1000, first_s * 1000, "first request",
        Target("≤ 50 ms and 0 bytes", lambda v, r: v <= 50.0), extra_check=uploaded == 0,
        note=f"{uploaded} bytes uploaded; until the job is completed",
        details={"bytes_uploaded": uploaded},
    ))


async def _download(bench: Bench, server: McpServer, job: dict[str, Any]) -> None:
    p = bench.params
    job_id = job["id"]
    urls = bench.service.stem_urls(job["hash"])
    total_mb = sum(item.size for item in bench.service.state.jobs[job["hash"]].files) / MB
    ours, curl = [], []
    for run in range(p.download_runs):
        curl.append(await _curl_parallel(urls, bench.root / f"curl-{run}"))
        target = bench.root / f"refetch-{run}"
        started = time.perf_counter()
        out = await server.call("fetch_job_results", {"job_id": job_id, "output_dir": str(target)})
        await server.wait_all([out["id"]], timeout_s=600)
        ours.append(time.perf_counter() - started)
        shutil.rmtree(target, ignore_errors=True)
    bench.add(Figure(
        "download", "download of a job's stems", "s", median(ours), median(curl), "parallel curl",
        Target.ratio_at_most(1.2),
        note=f"{len(urls)} stems, {total_mb:.0f} MB, fetch_job_results until completed; median of {p.download_runs}",
        details={"ours_s": ours, "curl_s": curl},
    ))
