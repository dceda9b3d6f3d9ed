"""The abuse suite: each of the six weaknesses once found in hosted mode, tried against the real server in a child
process at smaller sizes than the report's (the bounds are the same: memory within the limit plus 5 MB, nobody
locked out, a bounded number of MVSep requests and descriptors, no ticket or blanked string in the log, no forged
line)."""

from __future__ import annotations

from pathlib import Path

import pytest
from mvsep_mcp import policy
from mvsep_mcp_testbench.faults.abuse import MB, ROWS, Sizes, run_abuse

pytestmark = pytest.mark.timeout(300)
SIZES = Sizes(link_body=30 * MB, mcp_body=60 * MB, sessions=300, header_tokens=300, tickets=5)


async def test_every_abuse_does_no_harm(tmp_path: Path) -> None:
    rows = await run_abuse(SIZES, work=tmp_path)
    assert [r.name.split(":")[0] for r in rows] == ["link page", "/mcp", "sessions", "X-MVSep-Token", "log", "log"]
    assert len(rows) == len(ROWS)
    for row in rows:
        assert row.ok, row.problems()
    by_name = {r.name.split(":")[0] + str(n): r.outcome for n, r in enumerate(rows)}
    assert by_name["link page0"].startswith("answers 413/413/413/413")
    assert f"the key holds {policy.SESSIONS_PER_USER} " in by_name["sessions2"]
    assert f"; {policy.HEADER_TOKENS_PER_USER} MVSep requests" in by_name["X-MVSep-Token3"]
    assert "0 in the log, 0 still valid" in by_name["log4"]
    assert "0 forged lines, 0 lines with escapes" in by_name["log5"]
