"""The C library through ``ctypes`` when it is glibc on Linux, for the few calls Python does not wrap.

``glibc()`` is None anywhere else (macOS, Windows, musl: ``mvsep_mcp.system``), and every caller then keeps its
portable path. The functions used (``mallopt``, ``malloc_trim``, ``fallocate``) get their argument types here, once.
"""

from __future__ import annotations

import ctypes
import functools
from typing import Any

from mvsep_mcp import system

GLIBC_SONAME = "libc.so.6"  # glibc's name on every Linux architecture since 1997 (musl's is libc.so)


def glibc() -> Any | None:
    """The C library when it is glibc on Linux, else None."""
    return _load_glibc() if system.current() == "linux" else None


@functools.cache
def _load_glibc() -> Any | None:
    try:
        libc = ctypes.CDLL(GLIBC_SONAME, use_errno=True)  # not find_library: it runs ldconfig in a subprocess
        libc.gnu_get_libc_version.restype = ctypes.c_char_p  # only glibc has it: musl raises AttributeError here
        libc.gnu_get_libc_version()
        libc.mallopt.argtypes = (ctypes.c_int, ctypes.c_int)
        libc.mallopt.restype = ctypes.c_int
        libc.malloc_trim.argtypes = (ctypes.c_size_t,)
        libc.malloc_trim.restype = ctypes.c_int
        libc.fallocate.argtypes = (ctypes.c_int, ctypes.c_int, ctypes.c_int64, ctypes.c_int64)
        libc.fallocate.restype = ctypes.c_int
    except (OSError, AttributeError):
        return None
    return libc
