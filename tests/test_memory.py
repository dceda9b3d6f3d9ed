"""mvsep_mcp.memory and mvsep_mcp.glibc: glibc's allocator tuned where it is glibc, nothing done elsewhere."""

from __future__ import annotations

import pytest
from mvsep_mcp import memory, system
from mvsep_mcp.glibc import glibc

on_glibc = pytest.mark.skipif(glibc() is None, reason="glibc only (Linux)")


@on_glibc
def test_on_glibc_the_arenas_are_capped_and_free_memory_released() -> None:
    assert memory.limit_malloc_arenas(8) is True  # glibc's own default on 1 core: harmless for the test process
    memory.release_free_memory()  # True or False (nothing to release): it only must not fail


def test_elsewhere_nothing_is_done(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(memory, "glibc", lambda: None)
    assert memory.limit_malloc_arenas(2) is False
    assert memory.release_free_memory() is False


def test_a_cap_below_one_is_ignored() -> None:
    assert memory.limit_malloc_arenas(0) is False


@pytest.mark.parametrize("simulated", ["macos", "windows"])
def test_glibc_is_none_off_linux_and_nothing_is_tuned(simulated: system.System) -> None:
    with system.simulate(simulated):
        assert glibc() is None
        assert memory.limit_malloc_arenas(2) is False
        assert memory.release_free_memory() is False
