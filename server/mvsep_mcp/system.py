"""Which operating system the server runs on: the one question every platform branch asks, here and nowhere else.

``current()`` is ``"windows"``, ``"macos"`` or ``"linux"`` (any other POSIX system answers ``"linux"``: it has the
same calls, and where it lacks one the code's fallback for a failed call takes over). Code that behaves differently
per system asks ``is_windows()``, ``is_macos()`` or ``current()`` instead of reading ``sys.platform`` or ``os.name``,
so that a test can run each branch on any machine with ``simulate("windows")``; the CI workflow runs them on the real
systems. A simulated system picks the branch, not the machine's abilities: a branch taken under simulation must only
call what exists everywhere, or what its system's own branch avoids (e.g. the Windows branch never calls
``os.kill(pid, 0)``), which is what makes it testable here.

The places that branch: ``glibc`` (glibc on Linux only), ``daw.riff_insert`` (block insertion: glibc's
``fallocate``), ``media.files`` (flushing folders), ``media.naming`` (``:`` in names), ``planning.output``
(system folders), ``jobs.journal.sqlite`` (is a lease holder's process alive), ``logs`` (stderr's encoding),
``stopping`` (signal receivers: none on Windows).
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Literal, get_args

System = Literal["linux", "macos", "windows"]
SYSTEMS: tuple[System, ...] = get_args(System)

_simulated: System | None = None


def detect(platform: str = sys.platform) -> System:
    """The system a ``sys.platform`` value stands for."""
    if platform == "win32":
        return "windows"
    if platform == "darwin":
        return "macos"
    return "linux"


def current() -> System:
    """The system the server runs on (or the one a test simulates)."""
    return _simulated or detect()


def is_windows() -> bool:
    return current() == "windows"


def is_macos() -> bool:
    return current() == "macos"


@contextmanager
def simulate(system: System) -> Iterator[None]:
    """Within the block, ``current()`` answers ``system`` (tests only; not thread-local: the whole process sees it)."""
    global _simulated
    if system not in SYSTEMS:
        raise ValueError(f"unknown system {system!r}: one of {', '.join(SYSTEMS)}")
    before, _simulated = _simulated, system
    try:
        yield
    finally:
        _simulated = before
