"""Every fault kind of the sandbox against a single job and a batch, through the real server: the properties of the
issue's "Done when" hold for each (``mvsep_mcp_testbench.faults.matrix`` has the cases; ``mvsep-mcp faults`` prints the
same rows as a table)."""

from __future__ import annotations

from pathlib import Path

import pytest
from mvsep_mcp_testbench.faults.matrix import CASES, FaultCase, run_case
from mvsep_mcp_testbench.sandbox.faults import FAULT_KINDS


def test_every_fault_kind_runs_against_a_single_job_and_a_batch() -> None:
    singles = {c.kind for c in CASES if c.jobs == 1}
    batches = {c.kind for c in CASES if c.jobs > 1}
    assert singles == batches == set(FAULT_KINDS)


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
async def test_fault(case: FaultCase, tmp_path: Path) -> None:
    row = await run_case(case, tmp_path)
    assert row.fired, f"the fault {case.spec} never fired: the case tests nothing"
    assert row.ok, row.problems()
