"""A server that has run a while is as quick as a fresh one (issue 16): over streamable HTTP, with the product's own
polling policy and status budget, ten 2-second jobs in a row, then an identical request 20 s after its stems were
deleted (the earlier MVSep result is fetched again: it must teach nothing about how long a job takes), then a fresh
job, which takes at most twice the first one plus a second.

The 20 s are real seconds: the server measures time with its own clock, so that is what the property is about.
The stand-in is the benchmark's sandbox (jobs are rendered as soon as they start, as MVSep finishes a job whether or
not anybody asks).
"""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path
from typing import Any

import anyio
import pytest
from mcp.client.client import Client
from mvsep_mcp_testbench.bench.service import BenchService
from mvsep_mcp_testbench.sandbox import JobTiming

from tests.http_server import serving_http

from .conftest import ServerEnv, make_input, text_of

MODEL = "27"  # Demucs4 Vocals 2023: two stems, open to every account
JOB = JobTiming(queue_s=0.5, queue_positions=1, processing_s=1.5)  # a 2-second job
IN_A_ROW = 10
LATER_S = 20.0


async def _run(client: Client, song: Path) -> tuple[float, dict[str, Any]]:
    """Seconds from separate_audio until wait_for_jobs reports the job completed; the job."""
    started = time.monotonic()
    made = await client.call_tool("separate_audio", {"inputs": [str(song)], "model": MODEL})
    assert not made.is_error, text_of(made)
    ids = [job["id"] for job in made.structured_content["jobs"]]
    for _ in range(20):
        waited = await client.call_tool("wait_for_jobs", {"job_ids": ids, "max_wait_s": 30})
        out = waited.structured_content
        if out["all_finished"]:
            [job] = out["jobs"]
            assert job["state"] == "completed", text_of(waited)
            return time.monotonic() - started, job
    raise AssertionError(f"job {ids} did not finish")


@pytest.mark.timeout(300)
async def test_a_refetched_old_result_does_not_slow_the_next_job(tmp_path: Path) -> None:
    with BenchService(tmp_path / "service") as service:
        token = service.account("pacing", premium=True)
        service.set_timing(token, JOB)
        env_of = ServerEnv(tmp_path / "server", service.base_url)
        # the product's own polling and status budget, not the fast ones the other end-to-end tests use
        params = env_of.params(token, poll_interval=str(5.0), status_rate=str(30))
        env = {"PATH": os.environ.get("PATH", ""), **(params.env or {})}
        songs = [make_input(tmp_path / "in", "flac", title=f"Pace {i:02d}", seed=100 + i, seconds=2.0)
                 for i in range(IN_A_ROW + 1)]
        with serving_http(env, tmp_path / "http-server.log") as url:
            async with Client(url, mode="legacy") as client:
                dry = await client.call_tool("separate_audio", {"inputs": [str(songs[0])], "model": MODEL,
                                                                "dry_run": True})
                assert not dry.is_error, text_of(dry)  # the catalogue and the account, fetched once
                times = []
                for song in songs[:IN_A_ROW]:
                    seconds, last = await _run(client, song)
                    times.append(seconds)
                for output in last["outputs"]:
                    Path(output["path"]).unlink()
                shutil.rmtree(Path(last["outputs"][0]["path"]).parent, ignore_errors=True)
                await anyio.sleep(LATER_S)
                _, again = await _run(client, songs[IN_A_ROW - 1])  # identical request: MVSep's result fetched again
                assert again["id"] != last["id"] and all(Path(o["path"]).is_file() for o in again["outputs"])
                fresh, _ = await _run(client, songs[IN_A_ROW])
    assert service.state.traffic.creates(token) == IN_A_ROW + 1  # the identical request created nothing
    assert fresh <= 2 * times[0] + 1.0, f"fresh job {fresh:.1f} s after jobs of {[round(t, 1) for t in times]} s"
    assert max(times) <= 2 * times[0] + 1.0, f"jobs in a row slowed down: {[round(t, 1) for t in times]} s"
