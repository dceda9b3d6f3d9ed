"""Every tool's arguments fuzzed with hypothesis (valid-looking and malformed): never a crash, never a token."""

from __future__ import annotations

from pathlib import Path

from mvsep_mcp_testbench.faults.fuzz import run_fuzz
from mvsep_mcp_tools import TOOLSETS

from tests.tools.test_tools_list import tool_list


async def test_fuzzed_arguments_never_crash_a_tool(tmp_path: Path) -> None:
    row = await run_fuzz(tmp_path / "fuzz")
    assert row.ok, row.problems()
    every_tool = await tool_list(tmp_path / "list", ",".join(TOOLSETS))
    assert f"over {len(every_tool)} tools" in row.name, row.name
