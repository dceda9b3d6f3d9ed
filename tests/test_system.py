"""mvsep_mcp.system: the one platform seam, and that nothing else reads the platform behind its back."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest
from mvsep_mcp import system

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize(("platform", "expected"), [("win32", "windows"), ("darwin", "macos"), ("linux", "linux"),
                                                    ("freebsd14", "linux"), ("cygwin", "linux")])
def test_detect(platform: str, expected: str) -> None:
    assert system.detect(platform) == expected


def test_current_is_this_machine_unless_simulated() -> None:
    assert system.current() == system.detect(sys.platform)
    for simulated in system.SYSTEMS:
        with system.simulate(simulated):
            assert system.current() == simulated
            assert system.is_windows() is (simulated == "windows")
            assert system.is_macos() is (simulated == "macos")
            with system.simulate("linux"):
                assert system.current() == "linux"
            assert system.current() == simulated
    assert system.current() == system.detect(sys.platform)
    with pytest.raises(ValueError, match="unknown system"), system.simulate("beos"):  # type: ignore[arg-type]
        pass


def test_only_the_seam_reads_the_platform() -> None:
    """``sys.platform`` and ``os.name`` are read in mvsep_mcp.system alone (the test bench, testbench/, drives this
    machine's own processes and files, and is not the product): every other branch asks the seam, so tests can take
    it."""
    readers = []
    for base in (ROOT / "server" / "mvsep_mcp", ROOT / "tools" / "mvsep_mcp_tools"):
        for path in base.rglob("*.py"):
            relative = path.relative_to(base).parts
            if path.name == "system.py" and len(relative) == 1:
                continue
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and \
                        (node.value.id, node.attr) in {("sys", "platform"), ("os", "name")}:
                    readers.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert readers == []
