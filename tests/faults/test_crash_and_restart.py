"""SIGKILL of the server (a stdio child, as hosts run it) at each phase of a job, and SIGTERM mid-download, then a
restart on the same data folder: the job completes, created once, with verified stems and no temporary file left;
the SIGTERM ends the server promptly with one line, and the restart resumes the stem with Range."""

from __future__ import annotations

from pathlib import Path

import pytest
from mvsep_mcp_testbench.faults.crash import PHASES, POINTS, CrashPoint, point_named, run_crash


def test_every_phase_has_a_kill_and_downloads_a_stop() -> None:
    assert [p.phase for p in POINTS if p.signal == "SIGKILL"] == list(PHASES)
    assert point_named("downloading").signal == "SIGKILL"
    assert point_named("SIGTERM while downloading").signal == "SIGTERM"


@pytest.mark.parametrize("point", POINTS, ids=[p.name for p in POINTS])
async def test_kill_or_stop_and_restart(point: CrashPoint, tmp_path: Path) -> None:
    row = await run_crash(point, tmp_path)
    assert row.ok, row.problems()
    assert row.creates == 1 and row.outcome.endswith("after a restart: 1 completed"), row.outcome
