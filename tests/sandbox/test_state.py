"""The sandbox's clock: real time, or faster (``speed``), moved on at will; jobs follow it."""

from __future__ import annotations

import time

import pytest
from mvsep_mcp_testbench.sandbox.separations import Job, JobTiming
from mvsep_mcp_testbench.sandbox.state import Clock, SandboxState


def test_a_fast_clock_runs_speed_times_as_fast_and_never_jumps_when_the_speed_changes(
        monkeypatch: pytest.MonkeyPatch) -> None:
    real = [1000.0]
    monkeypatch.setattr(time, "time", lambda: real[0])
    clock = Clock(speed=720)
    start = clock.now()
    real[0] += 2.0
    assert clock.now() == start + 1440.0  # two real seconds: twenty-four sandbox minutes
    clock.set_speed(1.0)
    assert clock.now() == start + 1440.0
    real[0] += 2.0
    assert clock.now() == start + 1442.0
    clock.advance(hours=72)
    assert clock.now() == start + 1442.0 + 72 * 3600.0
    assert clock.speed == 1.0
    with pytest.raises(ValueError, match="positive"):
        clock.set_speed(0)


def test_jobs_and_their_retention_follow_the_fast_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    real = [5000.0]
    monkeypatch.setattr(time, "time", lambda: real[0])
    state = SandboxState(speed=3600.0, timing=JobTiming(queue_s=1800.0, processing_s=1800.0), retention_hours=72)
    algorithm = state.catalog.find(27)
    assert algorithm is not None
    try:
        job = Job(1, "h", "t", algorithm, {}, 0, None, "in.wav", 1, 10.0, state.now(), state.timing,
                  state.retention_hours * 3600.0, True, 0)
        assert job.phase(state.now()).status == "waiting"
        real[0] += 0.75  # 45 sandbox minutes: in the queue half an hour, then processing
        assert job.phase(state.now()).status == "processing"
        real[0] += 0.5
        assert job.phase(state.now()).status == "done"
        real[0] += 72.0  # 72 real seconds: 72 sandbox hours, the result is gone
        assert job.phase(state.now()).status == "expired"
    finally:
        state.close()
