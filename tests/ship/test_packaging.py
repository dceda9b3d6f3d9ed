"""The sdist and the wheel, built as a release builds them (`.ci/release.py build`: `python -m build`, isolated,
from a clean copy):
the sdist carries the bundle manifest, its icon, README and LICENSE beside the sources; the wheel carries what runs,
under names of its own (`mvsep_mcp`, `mvsep_mcp_tools`), pulls in nothing only the sandbox uses, and lives in peace
with distributions that own generic `server` and `tools` packages."""

from __future__ import annotations

import re
import subprocess
import sys
import sysconfig
import tarfile
import tomllib
import zipfile
from pathlib import Path

import pytest

from tests.ship.conftest import ROOT

BUILD_TIMEOUT_S = 600
SANDBOX_ONLY = {"av", "python-multipart", "uvicorn", "starlette"}  # numpy and soundfile serve mvsep_mcp.daw


def version() -> str:
    with (ROOT / "pyproject.toml").open("rb") as fh:
        return str(tomllib.load(fh)["project"]["version"])


@pytest.fixture(scope="module")
def dist(python_dist: Path) -> Path:
    return python_dist


def test_the_sdist_carries_the_manifest_readme_and_licence(dist: Path) -> None:
    root = f"mvsep_mcp-{version()}"
    with tarfile.open(dist / f"{root}.tar.gz") as sdist:
        names = {name.removeprefix(root + "/") for name in sdist.getnames()}
    print(f"sdist: {len(names)} entries")
    for required in ("manifest.json", "server.json", "icon.png", ".mcpbignore", "README.md", "LICENSE",
                     "pyproject.toml", "Dockerfile", "server/mvsep_mcp/__main__.py",
                     "testbench/mvsep_mcp_testbench/sandbox/data/algorithms.json",
                     "tools/mvsep_mcp_tools/separation.py",
                     "tools/mvsep_mcp_tools/stem_player.html"):
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
    assert tops == {"mvsep_mcp", "mvsep_mcp_tools", "mvsep_mcp_testbench", info}  # the product and its test bench
    assert not [n for n in names if n.startswith("mvsep_mcp/") and n.split("/")[1] in ("sandbox", "faults", "bench")]
    for required in ("mvsep_mcp/__main__.py", "mvsep_mcp/cli.py", "mvsep_mcp/doctor.py", "mvsep_mcp/policy.py",
                     "mvsep_mcp_testbench/sandbox/data/algorithms.json", "mvsep_mcp_tools/separation.py",
                     "mvsep_mcp_tools/stem_player.html", f"{info}/licenses/LICENSE"):
        assert required in names, required
    assert "mvsep-mcp = mvsep_mcp.cli:main" in entry_points
    requires = [line.removeprefix("Requires-Dist: ") for line in metadata.splitlines()
                if line.startswith("Requires-Dist:")]
    base = {_name(r) for r in requires if "extra ==" not in r}
    assert base and not base & SANDBOX_ONLY, base  # the server alone pulls in nothing only the sandbox uses
    assert any(_name(r) == "av" and 'extra == "m4a"' in r for r in requires)  # M4A waveforms (daw.decode)
    assert any(r.startswith("mvsep-mcp[m4a]") and 'extra == "sandbox"' in r for r in requires)
    assert any(_name(r) == "hypothesis" and 'extra == "faults"' in r for r in requires)  # the fault suite's own
    assert "License-Expression: MIT" in metadata


def _name(requirement: str) -> str:
    return re.split(r"[\s;<>=!~\[]", requirement, maxsplit=1)[0].lower()


def _dummy_wheel(folder: Path) -> Path:
    """A distribution that owns generic ``server`` and ``tools`` packages (built by hand: no network needed)."""
    path = folder / "dummy_generic-1.0-py3-none-any.whl"
    info = "dummy_generic-1.0.dist-info"
    files = {
        "server/__init__.py": "OWNER = 'dummy'\n",
        "tools/__init__.py": "OWNER = 'dummy'\n",
        f"{info}/METADATA": "Metadata-Version: 2.1\nName: dummy-generic\nVersion: 1.0\n",
        f"{info}/WHEEL": "Wheel-Version: 1.0\nGenerator: hand\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
        f"{info}/top_level.txt": "server\ntools\n",
    }
    record = "".join(f"{name},,\n" for name in files) + f"{info}/RECORD,,\n"
    with zipfile.ZipFile(path, "w") as zf:
        for name, text in {**files, f"{info}/RECORD": record}.items():
            zf.writestr(name, text)
    return path


def _run(*args: str | Path, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    run = subprocess.run([str(a) for a in args], cwd=cwd, capture_output=True, text=True, timeout=BUILD_TIMEOUT_S)
    assert run.returncode == 0, f"{args}\n{run.stdout}\n{run.stderr}"
    return run


def test_the_wheel_coexists_with_generic_server_and_tools_packages(dist: Path, tmp_path: Path) -> None:
    """Installed next to a distribution owning ``server`` and ``tools``, both work, from any working directory.

    The empty venv borrows this environment's libraries through a ``.pth`` line (no network needed)."""
    wheel = dist / f"mvsep_mcp-{version()}-py3-none-any.whl"
    venv = tmp_path / "venv"
    _run(sys.executable, "-m", "venv", "--without-pip", venv)
    python = venv / ("Scripts/python.exe" if sys.platform == "win32" else "bin/python")
    site = Path(_run(python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])").stdout.strip())
    (site / "borrowed.pth").write_text(sysconfig.get_paths()["purelib"] + "\n", encoding="utf-8")
    pip = [sys.executable, "-m", "pip", "--python", python, "--disable-pip-version-check"]
    _run(*pip, "install", "-q", "--no-deps", _dummy_wheel(tmp_path), wheel)

    cwd = tmp_path / "project"  # a working directory that would shadow generic names: server.py and tools/
    (cwd / "tools").mkdir(parents=True)
    (cwd / "server.py").write_text("raise SystemExit('the wrong server module ran')\n", encoding="utf-8")
    (cwd / "tools" / "__init__.py").write_text("", encoding="utf-8")
    assert "mvsep-mcp" in _run(python, "-m", "mvsep_mcp", "--help", cwd=cwd).stdout

    both = _run(python, "-c", "import server, tools, mvsep_mcp.app; print(server.OWNER, tools.OWNER)", cwd=tmp_path)
    assert both.stdout.split() == ["dummy", "dummy"]
    _run(*pip, "uninstall", "-y", "-q", "dummy-generic")
    assert _run(python, "-c", "import mvsep_mcp.app, mvsep_mcp_tools; print('ok')", cwd=tmp_path).stdout == "ok\n"
