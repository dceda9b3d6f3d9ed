"""Destinations that cannot take the files cost no credit: refused with a sentence before any create."""

from __future__ import annotations

import os
from pathlib import Path

from mvsep_mcp_testbench.faults.destinations import DESTINATIONS, run_destinations


async def test_no_credit_is_spent_on_a_destination_that_cannot_take_the_files(tmp_path: Path) -> None:
    rows = await run_destinations(tmp_path)
    assert [r.name for r in rows] == [d.name for d in DESTINATIONS]
    for row in rows:
        assert row.ok, row.problems()
        if row.name == "read-only output folder" and os.geteuid() == 0:
            continue  # root writes anywhere: the folder takes the files, and the job must then complete
        assert row.outcome.startswith("refused: ") and row.creates == 0, (row.name, row.outcome)
