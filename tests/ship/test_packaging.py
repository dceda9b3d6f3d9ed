"""The sdist and the wheel, built as a release would build them (`python -m build`, isolated, from a clean copy):
the sdist carries the bundle manifest, its icon, README and LICENSE beside the sources; the wheel carries what runs."""

from __future__ import annotations

import subprocess
import sys
import tarfile
import tomllib
import zipfile
from pathlib import Path

import pytest

from tests.ship.conftest import ROOT, copy_sources

BUILD_TIMEOUT_S = 600


def version() -> str:
    with (ROOT / "pyproject.toml").open("rb") as fh:
        return str(tomllib.load(fh)["project"]["version"])


@pytest.fixture(scope="module")
def dist(tmp_path_factory: pytest.TempPathFactory) -> Path:
    work = copy_sources(tmp_path_factory.mktemp("release"))
    out = work / "dist"
    done = subprocess.run([sys.executable, "-m", "build", "--outdir", str(out), str(work)], capture_output=True,
                          text=True, timeout=BUILD_TIMEOUT_S, stdin=subprocess.DEVNULL)
    assert done.returncode == 0, done.stdout + done.stderr
    return out


def test_the_sdist_carries_the_manifest_readme_and_licence(dist: Path) -> None:
    root = f"mvsep_mcp-{version()}"
    with tarfile.open(dist / f"{root}.tar.gz") as sdist:
        names = {name.removeprefix(root + "/") for name in sdist.getnames()}
    print(f"sdist: {len(names)} entries")
    for required in ("manifest.json", "icon.png", ".mcpbignore", "README.md", "LICENSE", "pyproject.toml",
                     "Dockerfile", "server/mvsep_mcp/__main__.py", "server/mvsep_mcp/sandbox/data/algorithms.json",
                     "tools/mvsep_mcp_tools/separation.py"):
        assert required in names, required
    assert not [n for n in names if n.startswith(("tests", ".ci", ".venv")) or "__pycache__" in n or n.endswith(".pyc")]


def test_the_wheel_carries_what_runs(dist: Path) -> None:
    wheel = dist / f"mvsep_mcp-{version()}-py3-none-any.whl"
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        info = f"mvsep_mcp-{version()}.dist-info"
        entry_points = archive.read(f"{info}/entry_points.txt").decode()
        metadata = archive.read(f"{info}/METADATA").decode()
    print(f"wheel: {wheel.stat().st_size} bytes, {len(names)} files")
    tops = {name.split("/")[0] for name in names}
    assert tops == {"mvsep_mcp", "mvsep_mcp_tools", info}
    for required in ("mvsep_mcp/__main__.py", "mvsep_mcp/cli.py", "mvsep_mcp/doctor.py", "mvsep_mcp/policy.py",
                     "mvsep_mcp/sandbox/data/algorithms.json", "mvsep_mcp_tools/separation.py",
                     f"{info}/licenses/LICENSE"):
        assert required in names, required
    assert "mvsep-mcp = mvsep_mcp.cli:main" in entry_points
    requires = [line for line in metadata.splitlines() if line.startswith("Requires-Dist:")]
    numpy = [line for line in requires if line.startswith("Requires-Dist: numpy")]
    assert numpy and all('extra == "sandbox"' in line for line in numpy)  # the server alone does not pull it in
    assert "License-Expression: MIT" in metadata
