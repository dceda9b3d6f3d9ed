"""Every tool's arguments fuzzed with hypothesis (valid-looking and malformed): never a crash, never a token."""

from __future__ import annotations

from pathlib import Path

from mvsep_mcp.faults_report.fuzz import run_fuzz


async def test_fuzzed_arguments_never_crash_a_tool(tmp_path: Path) -> None:
    row = await run_fuzz(tmp_path)
    assert row.ok, row.problems()
    assert "over 24 tools" in row.name, row.name
