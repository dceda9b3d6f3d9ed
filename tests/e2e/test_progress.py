"""Progress that moves, as a host records it over stdio: one fraction per wait call that never falls, rising from the
upload through the queue and processing to the downloads, reaching the total when every job has ended, with a
message only when something changed."""

from __future__ import annotations

from pathlib import Path

from mvsep_mcp_testbench.sandbox import SANDBOX_PREMIUM_TOKEN

from .conftest import ServerEnv, make_input, run_server


async def test_a_recorded_batch_rises_monotonically(tmp_path: Path, server_env: ServerEnv) -> None:
    songs = [make_input(tmp_path / "in", "flac", title=f"Rising {i}", seconds=3.0, seed=i) for i in range(3)]
    calls: list[list[tuple[float, float | None, str | None]]] = []
    async with run_server(server_env.params(SANDBOX_PREMIUM_TOKEN), server_env.stderr_path) as session:
        started = await session.ok("separate_audio", {"inputs": [str(s) for s in songs], "model": "20"})
        ids = [j["id"] for j in started["jobs"]]
        for _ in range(30):
            seen: list[tuple[float, float | None, str | None]] = []

            async def record(progress: float, total: float | None, message: str | None,
                             seen: list[tuple[float, float | None, str | None]] = seen) -> None:
                seen.append((progress, total, message))

            waited = await session.client.call_tool("wait_for_jobs", {"job_ids": ids, "max_wait_s": 5},
                                                    progress_callback=record)
            calls.append(seen)
            if waited.structured_content["all_finished"]:
                break
    assert waited.structured_content["completed"] == 3
    values = [p for seen in calls for p, _, _ in seen]
    for seen in calls:
        progress = [p for p, _, _ in seen]
        assert progress == sorted(progress), seen  # never falls within a call
        assert all(total == 3 for _, total, _ in seen)
        for (p1, _, m1), (p2, _, m2) in zip(seen, seen[1:], strict=False):
            assert m1 != m2 or p2 > p1, seen  # a report only when something changed
    assert len(set(values)) >= 4, calls  # it moves, not 0 until the end
    assert 0 < min(values) < 3 and calls[-1][-1][0] == 3
