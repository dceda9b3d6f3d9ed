"""Disks that cannot take the stems (full, a file-size limit, turned read-only, deleted): one sentence and no retry,
then the same request again creates nothing and the stems arrive (``mvsep_mcp_testbench.faults.disks``)."""

from __future__ import annotations

from pathlib import Path

import pytest
from mvsep_mcp_testbench.faults.disks import CASES, namespace_command, run_disk_case, writable_again


@pytest.mark.parametrize("case", CASES)
async def test_disk(case: str, tmp_path: Path) -> None:
    try:
        row = await run_disk_case(case, tmp_path)
    finally:
        writable_again(tmp_path)
    assert row.ok, row.problems()
    if row.outcome.startswith("not run: "):
        assert case in ("full disk", "read-only folder") and namespace_command() is None, row.outcome
        pytest.skip(row.outcome)
    assert row.creates == 1, row.outcome
    if case != "deleted folder":
        assert row.outcome.startswith("1st: failed (") and row.outcome.endswith("again: completed"), row.outcome
