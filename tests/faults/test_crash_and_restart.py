"""SIGKILL of the server (a stdio child, as hosts run it) at each phase of a job, then a restart on the same data
folder: the job completes, created once, with verified stems and no temporary file left."""

from __future__ import annotations

from pathlib import Path

import pytest
from mvsep_mcp.faults_report.crash import PHASES, point_named, run_crash


@pytest.mark.parametrize("phase", PHASES)
async def test_kill_and_restart(phase: str, tmp_path: Path) -> None:
    row = await run_crash(point_named(phase), tmp_path)
    assert row.ok, row.problems()
    assert row.creates == 1 and row.outcome.endswith("after a restart: 1 completed"), row.outcome
