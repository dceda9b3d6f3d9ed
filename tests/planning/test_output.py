"""planning.output's system locations on each system (mvsep_mcp.system simulated): an output folder there is refused."""

from __future__ import annotations

import pytest
from mvsep_mcp import system
from mvsep_mcp.planning.output import is_system_location


@pytest.mark.parametrize(("folder", "refused"), [
    ("C:\\", True), ("D:\\", True), ("C:\\Windows\\System32", True), ("c:\\program files\\App", True),
    ("C:\\Program Files (x86)", True), ("C:\\ProgramData\\x", True), ("C:\\Users\\you\\Music\\Stems", False),
    ("D:\\Stems", False), ("\\\\nas\\share\\Stems", False),
])
def test_windows_drive_roots_and_system_folders(folder: str, refused: bool) -> None:
    with system.simulate("windows"):
        assert is_system_location(folder) is refused  # type: ignore[arg-type]


@pytest.mark.parametrize("simulated", ["linux", "macos"])
@pytest.mark.parametrize(("folder", "refused"), [
    ("/", True), ("/etc", True), ("/usr/local/stems", True), ("/System/Library", True), ("/Users", True),
    ("/Users/you/Music/Stems", False), ("/home/you/stems", False), ("/tmp/stems", False),
])
def test_posix_system_folders(simulated: system.System, folder: str, refused: bool) -> None:
    with system.simulate(simulated):
        assert is_system_location(folder) is refused  # type: ignore[arg-type]


def test_a_drive_letter_is_judged_as_windows_on_any_system() -> None:
    with system.simulate("linux"):
        assert is_system_location("C:\\Windows") is True  # type: ignore[arg-type]
