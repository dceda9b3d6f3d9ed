"""Switching accounts strands nothing; 200 concurrent tool calls all answer without a crash or a double create."""

from __future__ import annotations

from pathlib import Path

from mvsep_mcp_testbench.faults import knobs
from mvsep_mcp_testbench.faults.account_switch import BATCH, run_switch
from mvsep_mcp_testbench.faults.load import SONGS, run_load


async def test_jobs_of_the_previous_account_finish_after_a_login(tmp_path: Path) -> None:
    row = await run_switch(tmp_path)
    assert row.ok, row.problems()
    assert row.creates == BATCH + 1 and row.outcome == f"A: {BATCH} completed; B: 1 completed"


async def test_concurrent_tool_calls(tmp_path: Path) -> None:
    row = await run_load(tmp_path)
    assert knobs.FAULTS_CONCURRENT_CALLS == 200
    assert row.ok, row.problems()
    assert row.outcome.startswith("200/200 ok"), row.outcome
    assert row.creates == SONGS  # each song asked for several times at once: one MVSep job per song
