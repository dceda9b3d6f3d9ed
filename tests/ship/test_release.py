"""What a release publishes, checked before it is published: the artefacts of ``.ci/release.py build`` (built once
per session here, or the ones in ``MVSEP_RELEASE_DIST``, which the release workflow checks before uploading them).

They carry one version; the PyPI page (the wheel's description) carries the ``mcp-name:`` line the registry checks;
the registry entry names the bundle by its real hash; and the wheel, installed alone into an empty virtual
environment (its dependencies from PyPI, no extras), starts the server as a host would and answers over stdio. The
bundle, unpacked and started as Claude Desktop starts it, is ``test_bundle.py``'s; the sdist's and the wheel's
contents are ``test_packaging.py``'s: the same fixtures, so the same artefacts.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path
from typing import Any

from mcp.client.client import Client
from mcp.client.stdio import StdioServerParameters, stdio_client
from mvsep_mcp_testbench.sandbox import SandboxServer

from tests.ship import external
from tests.ship.test_server_json import schema_errors, server_json

ROOT = Path(__file__).resolve().parents[2]
RELEASE = external.RELEASE
INSTALL_TIMEOUT_S = 900
DEFAULT_TOOLS = ["search_models", "get_model", "recommend_models", "separate_audio", "wait_for_jobs", "list_jobs",
                 "cancel_job"]


def release() -> str:
    return str(RELEASE.version(ROOT))


def wheel(python_dist: Path) -> Path:
    return python_dist / f"mvsep_mcp-{release()}-py3-none-any.whl"


def venv_program(venv: Path, name: str) -> Path:
    return venv / ("Scripts" if sys.platform == "win32" else "bin") / (name + (".exe" if sys.platform == "win32"
                                                                               else ""))


def test_the_python_artefacts_carry_the_version_and_the_registry_line(python_dist: Path) -> None:
    assert sorted(p.name for p in python_dist.iterdir()) == [wheel(python_dist).name, f"mvsep_mcp-{release()}.tar.gz"]
    with zipfile.ZipFile(wheel(python_dist)) as archive:
        metadata = archive.read(f"mvsep_mcp-{release()}.dist-info/METADATA").decode()
    assert f"\nVersion: {release()}\n" in metadata
    assert f"mcp-name: {server_json()['name']} " in metadata  # PyPI shows the README: the registry looks for it
    with tarfile.open(python_dist / f"mvsep_mcp-{release()}.tar.gz") as sdist:
        member = sdist.extractfile(f"mvsep_mcp-{release()}/server.json")
        assert member is not None and json.load(member)["version"] == release()


def test_the_published_entry_names_the_bundle_by_its_hash(bundle_dist: Path) -> None:
    bundle = bundle_dist / RELEASE.bundle_name(release())
    with zipfile.ZipFile(bundle) as archive:
        assert json.loads(archive.read("manifest.json"))["version"] == release()
    published = server_json(bundle_dist / "server.json")
    assert schema_errors(published) == []
    (entry,) = [p for p in published["packages"] if p["registryType"] == "mcpb"]
    assert entry["fileSha256"] == RELEASE.sha256(bundle) != RELEASE.BUNDLE_PLACEHOLDER_SHA256
    assert entry["identifier"].endswith("/" + bundle.name)
    entry["fileSha256"] = RELEASE.BUNDLE_PLACEHOLDER_SHA256
    assert published == server_json(), "the release changes nothing in server.json but the bundle's hash"


def _run(*command: str | Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    done = subprocess.run([str(part) for part in command], env=env, capture_output=True, text=True,
                          timeout=INSTALL_TIMEOUT_S, stdin=subprocess.DEVNULL)
    assert done.returncode == 0, f"{command}\n{done.stdout}\n{done.stderr}"
    return done


async def test_the_wheel_installed_alone_serves_over_stdio(python_dist: Path, uv_cache: Path, sandbox: SandboxServer,
                                                           tmp_path: Path) -> None:
    env = {**os.environ, **external.uv_env(uv_cache), "VIRTUAL_ENV": ""}
    venv = tmp_path / "clean-venv"
    _run(external.uv(), "venv", "--python", sys.executable, venv, env=env)
    python = venv_program(venv, "python")
    _run(external.uv(), "pip", "install", "--python", python, wheel(python_dist), env=env)
    server = venv_program(venv, "mvsep-mcp")
    assert _run(server, "--version", env=env).stdout.strip() == f"mvsep-mcp {release()}"
    extras = _run(python, "-c", "import importlib.util as u; print([m for m in ('av', 'psycopg', 'hypothesis', "
                  "'playwright') if u.find_spec(m)])", env=env).stdout.strip()
    assert extras == "[]", "the plain install pulled in an extra's packages"

    home = tmp_path / "home"
    home.mkdir()
    server_env = {"MVSEP_BASE_URL": sandbox.base_url, "MVSEP_DATA_DIR": str(tmp_path / "data"),
                  "MVSEP_OUTPUT_DIR": str(tmp_path / "stems"), "MVSEP_CONFIG": str(tmp_path / "absent.toml"),
                  "MVSEP_CREDENTIALS": str(tmp_path / "absent.json"), "HOME": str(home), "USERPROFILE": str(home)}
    params = StdioServerParameters(command=str(server), args=[], env=server_env, cwd=str(tmp_path))
    errlog_path = tmp_path / "stderr.log"
    with errlog_path.open("w", encoding="utf-8") as errlog:
        async with Client(stdio_client(params, errlog=errlog), mode="legacy") as client:
            assert client.server_info is not None and client.server_info.version == release()
            assert [tool.name for tool in (await client.list_tools()).tools] == DEFAULT_TOOLS
            found = await client.call_tool("search_models", {"stem": "vocals", "limit": 1})
            assert not found.is_error, errlog_path.read_text(encoding="utf-8")
            structured: dict[str, Any] = found.structured_content or {}
            assert structured.get("models"), structured


def test_the_release_script_is_lint_and_type_clean() -> None:
    """``.ci/release.py`` lives outside ``server``, ``tools`` and ``tests``: held to the same rules here."""
    script = ROOT / ".ci" / "release.py"
    for command in (["ruff", "check", str(script)], ["mypy", "--strict", str(script)]):
        program = shutil.which(command[0], path=str(external.venv_bin())) or command[0]
        done = subprocess.run([program, *command[1:]], cwd=ROOT, capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, done.stdout + done.stderr
