"""The table of ``mvsep-mcp faults`` and the command itself (one quick group)."""

from __future__ import annotations

import pytest
from mvsep_mcp import cli
from mvsep_mcp_testbench.faults.checks import PROPERTIES, Row
from mvsep_mcp_testbench.faults.report import GROUPS, format_table, summary


def test_the_table_has_a_column_per_property_and_counts_findings() -> None:
    good = Row("fault", "get:status=502:count=2 (single)", jobs=1, creates=1, bytes=300_000, outcome="1 completed")
    bad = Row("crash", "SIGKILL while tagging", jobs=1, creates=2, outcome="killed | tagging")
    bad.add("double", ["2 creates for 1 job hash(es)"])
    table = format_table([good, bad]).splitlines()
    assert len(table) == 4 and all(line.count("|") == 20 for line in table)
    assert table[2].endswith("| 0 | 0 | 0 | 0 | 0 | 0 | 0 | 0 | 0 | 0 | 0 | 0 | 0 |") and "300 kB" in table[2]
    assert "| killed / tagging |" in table[3] and "| 0 | 1 | 0 |" in table[3]
    assert summary([good, bad], 3).startswith("2 rows in 3 s: 1 row(s) with findings. Totals: 0 jobs lost")
    with pytest.raises(KeyError):
        good.add("nonsense", ["x"])
    assert len(PROPERTIES) == 13


def test_the_command_prints_the_table(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["faults", "--only", "destinations"]) == 0
    out, err = capsys.readouterr()
    assert out.startswith("| group | fault / crash point | jobs | creates | bytes | outcome | lost |")
    assert "| destination | output folder is / | 1 | 0 |" in out
    assert "every property holds" in out
    assert "ok " in err  # progress, one line per row


def test_an_unknown_group_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["faults", "--only", "faults,nope"]) == 2
    assert f"unknown group nope; one of {', '.join(GROUPS)}" in capsys.readouterr().err
