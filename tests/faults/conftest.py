"""The fault suite runs on Linux and macOS: it drives POSIX paths (``/proc``, ``/dev/zero``, ``/etc``), file modes and
a crashed child's lease found dead by ``os.kill(pid, 0)``. On Windows every test here is skipped, saying so; the
product's Windows branches are tested where they live (``mvsep_mcp.system``)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

HERE = Path(__file__).parent


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if sys.platform != "win32":
        return
    skip = pytest.mark.skip(reason="POSIX only: the fault suite drives /proc, /dev/zero, file modes and os.kill")
    for item in items:
        if item.path.is_relative_to(HERE):
            item.add_marker(skip)
