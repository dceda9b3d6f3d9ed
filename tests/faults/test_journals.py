"""The journal under strain (``mvsep_mcp_testbench.faults.journals``): two server processes asked for the same song at
once create it once into one set of files; a damaged journal does not stop the server, which says so."""

from __future__ import annotations

from pathlib import Path

from mvsep_mcp_testbench.faults.journals import run_damaged, run_two_processes


async def test_two_processes_on_one_journal(tmp_path: Path) -> None:
    row = await run_two_processes(tmp_path)
    assert row.ok, row.problems()
    assert row.creates == 1 and row.outcome.startswith("2 completed"), row.outcome


async def test_a_damaged_journal(tmp_path: Path) -> None:
    row = await run_damaged(tmp_path)
    assert row.ok, row.problems()
    assert row.outcome.startswith("started; first answer says so; kept as journal.damaged-"), row.outcome
