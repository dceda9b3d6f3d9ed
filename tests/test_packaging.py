"""The wheel as a user gets it: names of its own, a light base install, and peace with other distributions.

The wheel is built once (pip fetches the build backend from PyPI) and installed into an empty virtual environment
that borrows this environment's third-party libraries through a ``.pth`` line, next to a dummy distribution that
owns top-level ``server`` and ``tools`` packages, as other projects on PyPI do.
"""

from __future__ import annotations

import subprocess
import sys
import sysconfig
import zipfile
from email.parser import Parser
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SANDBOX_ONLY = {"av", "python-multipart", "uvicorn", "starlette"}  # numpy and soundfile serve mvsep_mcp.daw

pytestmark = pytest.mark.timeout(600)


def _run(*args: str | Path, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    run = subprocess.run([str(a) for a in args], cwd=cwd, capture_output=True, text=True, timeout=540)
    assert run.returncode == 0, f"{args}\n{run.stdout}\n{run.stderr}"
    return run


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    _run(sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", out, ROOT)
    [built] = out.glob("mvsep_mcp-*.whl")
    return built


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


def test_wheel_top_level_names_are_our_own(wheel: Path) -> None:
    names = zipfile.ZipFile(wheel).namelist()
    top = {name.split("/", 1)[0] for name in names if not name.split("/", 1)[0].endswith(".dist-info")}
    assert top == {"mvsep_mcp", "mvsep_mcp_tools"}
    assert "mvsep_mcp/sandbox/data/algorithms.json" in names


def test_base_install_carries_nothing_only_the_sandbox_uses(wheel: Path) -> None:
    with zipfile.ZipFile(wheel) as zf:
        meta_name = next(n for n in zf.namelist() if n.endswith(".dist-info/METADATA"))
        metadata = Parser().parsestr(zf.read(meta_name).decode())
    base = [r for r in metadata.get_all("Requires-Dist") or [] if "extra ==" not in r]
    names = {r.split(";")[0].split("[")[0].split("<")[0].split(">")[0].split("=")[0].split("!")[0].strip().lower()
             for r in base}
    assert names and not names & SANDBOX_ONLY, names
    sandbox = [r for r in metadata.get_all("Requires-Dist") or [] if "extra == \"sandbox\"" in r]
    assert any(r.startswith("av") for r in sandbox)


def test_coexists_with_generic_server_and_tools_packages(wheel: Path, tmp_path: Path) -> None:
    venv = tmp_path / "venv"
    _run(sys.executable, "-m", "venv", "--without-pip", venv)
    python = venv / ("Scripts/python.exe" if sys.platform == "win32" else "bin/python")
    site = Path(_run(python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])").stdout.strip())
    (site / "borrowed.pth").write_text(sysconfig.get_paths()["purelib"] + "\n", encoding="utf-8")
    pip = [sys.executable, "-m", "pip", "--python", python, "--disable-pip-version-check"]
    _run(*pip, "install", "-q", "--no-deps", _dummy_wheel(tmp_path), wheel)

    # a working directory that would shadow generic names: server.py and a tools/ folder
    cwd = tmp_path / "project"
    (cwd / "tools").mkdir(parents=True)
    (cwd / "server.py").write_text("raise SystemExit('the wrong server module ran')\n", encoding="utf-8")
    (cwd / "tools" / "__init__.py").write_text("", encoding="utf-8")
    helped = _run(python, "-m", "mvsep_mcp", "--help", cwd=cwd)
    assert "mvsep-mcp" in helped.stdout

    both = _run(python, "-c", "import server, tools, mvsep_mcp.app; print(server.OWNER, tools.OWNER)", cwd=tmp_path)
    assert both.stdout.split() == ["dummy", "dummy"]

    _run(*pip, "uninstall", "-y", "-q", "dummy-generic")
    still = _run(python, "-c", "import mvsep_mcp.app, mvsep_mcp_tools; print('ok')", cwd=tmp_path)
    assert still.stdout.strip() == "ok"
