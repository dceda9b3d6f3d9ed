"""Batches on a free account never exceed its one-job limit; a server killed mid-job resumes it after a restart
without creating it twice."""

from __future__ import annotations

import os
import signal
import threading
from pathlib import Path
from typing import Any

import anyio
from mvsep_mcp_testbench.sandbox import SANDBOX_FREE_TOKEN, SANDBOX_PREMIUM_TOKEN, JobTiming, SandboxServer
from mvsep_mcp_testbench.sandbox.faults import FaultRule

from tests.programs import posix_only

from .conftest import (
    ServerEnv,
    all_exist,
    count_creates,
    files_under,
    make_input,
    run_server,
    start_sandbox,
    stop_sandbox,
    wait_until,
)

MODEL = "27"  # Demucs4 Vocals 2023: two stems, open to free accounts


async def test_free_account_batch_runs_one_job_at_a_time(sandbox: SandboxServer, server_env: ServerEnv) -> None:
    creates = count_creates(sandbox.state)
    songs = [make_input(server_env.root / "in", "flac", title=f"Batch Song {n}", seed=11 + n, seconds=2.0)
             for n in range(3)]
    async with run_server(server_env.params(SANDBOX_FREE_TOKEN), server_env.stderr_path) as session:
        submitted = await session.ok("separate_audio", {"inputs": [str(s) for s in songs], "model": MODEL,
                                                        "output_format": "mp3"})
        ids = [job["id"] for job in submitted["jobs"]]
        assert len(ids) == 3
        done = await session.wait_all(ids)

    assert done["completed"] == 3, done
    assert all(job["state"] == "completed" for job in done["jobs"])
    for job in done["jobs"]:
        assert job["outputs"] and all_exist(o["path"] for o in job["outputs"])
    assert creates.refused == [], f"the sandbox refused creates: {creates.refused}"
    assert creates.attempts == 3, creates
    assert creates.in_flight_at_attempt == [0, 0, 0], f"a create was sent while a job was in flight: {creates}"
    assert len(sandbox.state.jobs_of(SANDBOX_FREE_TOKEN)) == 3


# The job waits in MVSep's queue for a few seconds: long enough to kill the server while it is there.
SLOW_QUEUE = JobTiming(queue_s=4.0, queue_positions=3, processing_s=0.5, long_input_s=600.0, distributing_s=0.5,
                       merging_s=0.2, chunk_s=60.0, remote_download_s=0.1, quality_s=0.3)


@posix_only("a crash is SIGKILL, and the restart finds the dead holder with os.kill(pid, 0)")
async def test_killed_server_resumes_the_job_without_creating_it_twice(tmp_path: Path) -> None:
    sandbox = start_sandbox(SLOW_QUEUE)
    try:
        creates = count_creates(sandbox.state)
        env = ServerEnv(tmp_path, sandbox.base_url)
        song = make_input(tmp_path / "in", "flac", title="Crash Course")
        params = env.params(SANDBOX_PREMIUM_TOKEN)

        async with run_server(params, env.stderr_path) as first:
            assert first.process is not None
            submitted = await first.ok("separate_audio", {"inputs": [str(song)], "model": MODEL,
                                                          "output_format": "flac"})
            job_id = submitted["jobs"][0]["id"]
            job = submitted["jobs"][0]
            for _ in range(100):
                if job["hash"] and job["state"] == "active":
                    break
                waited = await first.ok("wait_for_jobs", {"job_ids": [job_id], "max_wait_s": 0.2})
                job = waited["jobs"][0]
            assert job["hash"] and job["state"] == "active", f"the job never reached MVSep: {job}"
            remote = sandbox.state.jobs_of(SANDBOX_PREMIUM_TOKEN)
            assert len(remote) == 1 and sandbox.state.status_of(remote[0]) == "waiting"
            os.kill(first.process.pid, signal.SIGKILL)  # a crash, not a clean shutdown
            await wait_until(lambda: first.process.returncode is not None, "the killed server to exit")
            assert first.process.returncode == -signal.SIGKILL
            assert not files_under(env.output_dir), "files were saved before the crash"

        async with run_server(params, env.stderr_path) as second:
            done = await second.wait_all([job_id])

        job = done["jobs"][0]
        assert job["state"] == "completed", job
        assert job["outputs"] and all_exist(o["path"] for o in job["outputs"])
        assert all(Path(o["path"]).is_relative_to(env.output_dir) for o in job["outputs"])
        assert job["manifest_path"] and all_exist([job["manifest_path"]])
        assert creates.attempts == 1, f"the restart created the job again: {creates}"
        assert len(sandbox.state.jobs_of(SANDBOX_PREMIUM_TOKEN)) == 1
    finally:
        stop_sandbox(sandbox)


@posix_only("a crash is SIGKILL, and the restart finds the dead holder with os.kill(pid, 0)")
async def test_server_killed_while_its_create_is_in_flight_adopts_the_job_after_restart(tmp_path: Path) -> None:
    """The worst moment for a crash: the upload has reached MVSep but the answer (the hash) has not come back. After a
    restart the job must be found (history), not created again, and finish with its stems on disk."""
    sandbox = start_sandbox()
    entered, release = threading.Event(), threading.Event()
    original_create = sandbox.state.create_job

    def slow_create_job(*args: Any, **kwargs: Any) -> Any:
        entered.set()
        release.wait(timeout=30)
        return original_create(*args, **kwargs)

    sandbox.state.create_job = slow_create_job  # type: ignore[method-assign]
    try:
        creates = count_creates(sandbox.state)
        env = ServerEnv(tmp_path, sandbox.base_url)
        song = make_input(tmp_path / "in", "flac", title="Lost Answer")
        params = env.params(SANDBOX_PREMIUM_TOKEN)

        async with run_server(params, env.stderr_path) as first:
            assert first.process is not None
            outcome: list[Any] = []

            async def submit() -> None:
                try:
                    outcome.append(await first.call("separate_audio", {"inputs": [str(song)], "model": MODEL,
                                                                       "output_format": "flac"}))
                except Exception as exc:  # the server dies under the call
                    outcome.append(exc)

            async with anyio.create_task_group() as tg:
                tg.start_soon(submit)
                await wait_until(entered.is_set, "the create to reach the sandbox", timeout_s=20)
                os.kill(first.process.pid, signal.SIGKILL)
                await wait_until(lambda: first.process.returncode is not None, "the killed server to exit")
                with anyio.move_on_after(10):
                    await wait_until(lambda: bool(outcome), "the interrupted call to end")
                tg.cancel_scope.cancel()
            assert first.process.returncode == -signal.SIGKILL

        release.set()  # MVSep now finishes the create its client never heard back from
        await wait_until(lambda: bool(sandbox.state.jobs_of(SANDBOX_PREMIUM_TOKEN)), "the late create to finish")

        async with run_server(params, env.stderr_path) as second:
            listed = await second.ok("list_jobs", {})
            assert len(listed["jobs"]) == 1, listed
            job_id = listed["jobs"][0]["id"]
            done = await second.wait_all([job_id])

        job = done["jobs"][0]
        assert job["state"] == "completed", job
        assert job["hash"] == sandbox.state.jobs_of(SANDBOX_PREMIUM_TOKEN)[0].hash
        assert job["outputs"] and all_exist(o["path"] for o in job["outputs"])
        assert creates.attempts == 1, f"the restart created the job again: {creates}"
        assert len(sandbox.state.jobs_of(SANDBOX_PREMIUM_TOKEN)) == 1
    finally:
        release.set()
        stop_sandbox(sandbox)


@posix_only("a crash is SIGKILL, and the restart finds the dead holder with os.kill(pid, 0)")
async def test_server_killed_while_downloading_finishes_after_restart_without_partial_files(tmp_path: Path) -> None:
    sandbox = start_sandbox()
    # every result file is served slowly, so the server is caught in the middle of its downloads
    sandbox.state.faults.append(FaultRule("/storage/*", kind="slow", delay_s=0.6, count=None))
    try:
        creates = count_creates(sandbox.state)
        env = ServerEnv(tmp_path, sandbox.base_url)
        song = make_input(tmp_path / "in", "flac", title="Half Way")
        params = env.params(SANDBOX_PREMIUM_TOKEN)

        async with run_server(params, env.stderr_path) as first:
            assert first.process is not None
            submitted = await first.ok("separate_audio", {"inputs": [str(song)], "model": MODEL,
                                                          "output_format": "flac"})
            job_id = submitted["jobs"][0]["id"]
            job = submitted["jobs"][0]
            for _ in range(200):
                if job["state"] == "downloading":
                    break
                assert not job["state"] == "completed", "the downloads were not slowed down"
                waited = await first.ok("wait_for_jobs", {"job_ids": [job_id], "max_wait_s": 0.05})
                job = waited["jobs"][0]
            assert job["state"] == "downloading", job
            os.kill(first.process.pid, signal.SIGKILL)
            await wait_until(lambda: first.process.returncode is not None, "the killed server to exit")

        sandbox.state.faults.clear()
        async with run_server(params, env.stderr_path) as second:
            done = await second.wait_all([job_id])

        job = done["jobs"][0]
        assert job["state"] == "completed", job
        stems = {Path(o["path"]) for o in job["outputs"]}
        assert len(stems) == 2 and all_exist(stems)
        written = files_under(env.output_dir)
        assert written == stems | {Path(job["manifest_path"])}, (
            f"left behind after the crash and resume: {sorted(str(p) for p in written - stems)}")
        assert creates.attempts == 1
    finally:
        stop_sandbox(sandbox)
