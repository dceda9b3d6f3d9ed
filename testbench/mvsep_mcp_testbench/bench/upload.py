"""Upload through ``MVSepClient`` against a bare ``httpx`` upload of the same file, and the client's memory growth.

Each upload runs in a process of its own (``upload_probe``), alternately raw and client, so that each memory
figure is that process's alone; the file is a large sparse WAV (silence), deleted afterwards, and the jobs it creates
are cancelled at once (the sandbox deletes their copies).
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

import anyio

from mvsep_mcp_testbench.bench.context import MODEL, Bench, median
from mvsep_mcp_testbench.bench.figures import Figure, Target
from mvsep_mcp_testbench.bench.proc import MB
from mvsep_mcp_testbench.bench.songs import sparse_wav
from mvsep_mcp_testbench.sandbox import JobTiming

PARKED = JobTiming(queue_s=3600.0, queue_positions=1)  # the upload jobs never leave the queue (never rendered)


async def _probe(bench: Bench, mode: str, token: str, path: Path) -> dict[str, Any]:
    env = {**os.environ, "MVSEP_BENCH_TOKEN": token}
    command = [sys.executable, "-m", "mvsep_mcp_testbench.bench.upload_probe", mode, bench.service.base_url,
               str(path), MODEL]
    done = await anyio.run_process(command, env=env, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"upload probe ({mode}) failed: {done.stderr.decode(errors='replace')[-800:]}")
    result: dict[str, Any] = json.loads(done.stdout.decode().strip().splitlines()[-1])
    bench.service.drop_jobs(token)
    return result


async def measure(bench: Bench) -> None:
    size = bench.params.upload_mb * MB
    runs = bench.params.upload_runs
    bench.say(f"upload of a {bench.params.upload_mb} MB file, {runs} run(s) each, raw httpx and client")
    token = bench.service.account("upload", premium=True, render=False)
    path = sparse_wav(bench.folder("upload") / "large upload.wav", size)
    raw: list[dict[str, Any]] = []
    client: list[dict[str, Any]] = []
    bench.service.set_timing(token, PARKED)
    try:
        for _ in range(runs):
            raw.append(await _probe(bench, "raw", token, path))
            client.append(await _probe(bench, "client", token, path))
    finally:
        path.unlink(missing_ok=True)
    file_mb = size / MB
    client_speed = median([file_mb / r["seconds"] for r in client])
    raw_speed = median([file_mb / r["seconds"] for r in raw])
    bench.add(Figure(
        "upload_speed", "upload through the client", "MB/s", client_speed, raw_speed, "raw httpx",
        Target.ratio_at_least(0.9), note=f"{file_mb:.0f} MB WAV, median of {runs}",
        details={"client_s": [r["seconds"] for r in client], "raw_s": [r["seconds"] for r in raw]},
    ))
    growth = median([max(0.0, r["rss_max_mb"] - r["rss_before_mb"]) for r in client])
    raw_growth = median([max(0.0, r["rss_max_mb"] - r["rss_before_mb"]) for r in raw])
    bench.add(Figure(
        "upload_memory", "client memory growth during the upload", "MB", growth, file_mb, "file size",
        Target.ratio_at_most(0.05), note=f"raw httpx grew {raw_growth:.1f} MB for the same file",
        details={"client": client, "raw": raw},
    ))
