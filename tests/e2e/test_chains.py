"""A two-step chain through the real server over stdio: one quote for both steps, two jobs, and a server killed
between the steps resumes the second step without a third create; its manifest names both models."""

from __future__ import annotations

import json
import os
import signal
from pathlib import Path

from mvsep_mcp_testbench.sandbox import SANDBOX_PREMIUM_TOKEN
from mvsep_mcp_testbench.sandbox.faults import FaultRule

from .conftest import (
    ServerEnv,
    all_exist,
    count_creates,
    make_input,
    run_server,
    start_sandbox,
    stop_sandbox,
    wait_until,
)

CHAIN = {"model": "27", "then": [{"from_stem": "Instrumental", "model": "20"}], "output_format": "flac"}


async def test_a_chain_killed_between_its_steps_resumes_without_a_third_create(tmp_path: Path) -> None:
    sandbox = start_sandbox()
    try:
        creates = count_creates(sandbox.state)
        # MVSep answers every create after the first with a 503 for now: the second step is due but not sent
        busy = FaultRule("/api/separation/create", kind="status", status=503, count=None, after=1)
        sandbox.state.faults.append(busy)
        env = ServerEnv(tmp_path, sandbox.base_url)
        song = make_input(tmp_path / "in", "flac", title="Chain Crash")
        params = env.params(SANDBOX_PREMIUM_TOKEN, auto_approve_credits="0")
        request = {"inputs": [str(song)], **CHAIN}

        async with run_server(params, env.stderr_path) as first:
            asked = await first.ok("separate_audio", request)
            assert asked["jobs"] == [] and creates.attempts == 0, "nothing may be sent before the user agrees"
            quote = asked["estimated_credits_total"]
            assert quote and "then Demucs4 HT" in asked["model"]
            started = await first.ok("separate_audio", {**request, "confirm_credits": quote})
            ids = [job["id"] for job in started["jobs"]]
            assert len(ids) == 2
            for _ in range(200):
                waited = await first.ok("wait_for_jobs", {"job_ids": ids, "max_wait_s": 0.2})
                step_one, step_two = waited["jobs"]
                if step_one["state"] == "completed" and busy.fired >= 1 and step_two["state"] == "queued":
                    break  # refused and back in the queue: between the steps
            assert step_one["state"] == "completed" and step_two["state"] == "queued", waited
            assert not step_two.get("outputs"), "the second step cannot have files yet"
            os.kill(first.process.pid, signal.SIGKILL)  # a crash, not a clean shutdown
            await wait_until(lambda: first.process.returncode is not None, "the killed server to exit")

        sandbox.state.faults.clear()
        async with run_server(params, env.stderr_path) as second:
            done = await second.wait_all(ids)

        step_one, step_two = done["jobs"]
        assert step_one["state"] == step_two["state"] == "completed", done
        assert creates.attempts == 2, f"a step was created twice: {creates}"
        assert len(sandbox.state.jobs_of(SANDBOX_PREMIUM_TOKEN)) == 2
        assert all_exist(o["path"] for o in step_two["outputs"])
        manifest = json.loads(Path(step_two["manifest_path"]).read_text(encoding="utf-8"))
        assert [step["model"] for step in manifest["job"]["chain"]] == [
            "Demucs4 Vocals 2023 (vocals, instrum)", "Demucs4 HT (vocals, drums, bass, other)"]
        assert [step["job_id"] for step in manifest["job"]["chain"]] == ids
    finally:
        stop_sandbox(sandbox)
