"""Programs of the system's own that some tests drive (PostgreSQL, Chromium, Node, FFmpeg), and what a test does
without one.

Locally a missing program skips the test with how to get it. Under CI (``CI`` set to anything but blank/0/false) it
fails the test instead, so that a CI machine that lost a package cannot pass by skipping: ``.ci/run`` installs them.
A CI run on a system that does not provide a program names it in ``MVSEP_TEST_WITHOUT`` (comma-separated:
``postgresql``, ``chromium``, ``node``, ``ffmpeg``): the tests that need it are skipped there with that reason, even
where the runner happens to have some copy of it (the workflow's Windows and macOS jobs: ``.github/workflows/ci.yml``).
"""

from __future__ import annotations

import os
import sys
from typing import NoReturn

import pytest

PROGRAMS = ("postgresql", "chromium", "node", "ffmpeg")
WITHOUT = "MVSEP_TEST_WITHOUT"


def in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


def declared_absent() -> frozenset[str]:
    """The programs this run does without (``MVSEP_TEST_WITHOUT``)."""
    names = {name.strip().lower() for name in os.environ.get(WITHOUT, "").split(",") if name.strip()}
    unknown = names - set(PROGRAMS)
    if unknown:
        raise ValueError(f"{WITHOUT} names {sorted(unknown)}: it takes {', '.join(PROGRAMS)}")
    return frozenset(names)


def skip_if_declared_absent(program: str) -> None:
    """Skip now when this run does without ``program``, whether or not the machine has a copy of it."""
    assert program in PROGRAMS, program
    if program in declared_absent():
        pytest.skip(f"{program} is not part of this run ({WITHOUT}={os.environ[WITHOUT]}, {sys.platform})")


def missing(program: str, message: str) -> NoReturn:
    """``program`` is not installed: skip locally (``message`` says how to get it), fail under CI unless the run
    declared it absent."""
    skip_if_declared_absent(program)
    if in_ci():
        pytest.fail(f"{message}; under CI it must be there (.ci/run installs it, or name it in {WITHOUT})")
    pytest.skip(message)


def posix_only(why: str) -> pytest.MarkDecorator:
    """For a test of something Windows does not have or do the same way; ``why`` is the skip's reason there."""
    return pytest.mark.skipif(sys.platform == "win32", reason=f"POSIX only: {why}")
