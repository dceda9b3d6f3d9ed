"""Keeping the process small under glibc's allocator: fewer per-thread malloc arenas, free pages given back.

glibc gives each thread that allocates while another holds the main arena an arena of its own (up to 8 per core),
and an arena keeps the pages it once used. The worker threads that probe, tag and hash files would each grow one,
so a batch leaves tens of megabytes of free but resident memory behind. ``limit_malloc_arenas`` caps them (the
``mallopt(M_ARENA_MAX)`` behind ``MALLOC_ARENA_MAX``) and ``release_free_memory`` (``malloc_trim(0)``) returns the
free pages of every arena to the system once a burst of work has ended.

Both call glibc (``mvsep_mcp.glibc``); anywhere else (macOS, Windows, musl) they do nothing and return False.
They never raise.
"""

from __future__ import annotations

import logging

from mvsep_mcp.glibc import glibc

log = logging.getLogger(__name__)

M_ARENA_MAX = -8  # glibc's malloc.h: the mallopt parameter behind MALLOC_ARENA_MAX


def limit_malloc_arenas(arenas: int) -> bool:
    """Let at most ``arenas`` malloc arenas exist (call before the worker threads start); whether it was applied."""
    libc = glibc()
    if libc is None or arenas < 1:
        return False
    applied = bool(libc.mallopt(M_ARENA_MAX, arenas))
    log.debug("malloc arenas capped at %d: %s", arenas, applied)
    return applied


def release_free_memory() -> bool:
    """Return the allocator's free pages to the system (``malloc_trim(0)``); whether any memory was released."""
    libc = glibc()
    if libc is None:
        return False
    return bool(libc.malloc_trim(0))
