"""The MCP bundle as Claude Desktop gets it: `mcpb validate` clean, `mcpb pack` small and holding only what runs, and
the packed bundle, unpacked into an empty folder, started exactly as its ``mcp_config`` says under host conditions:

- working directory ``/``, and nothing in the environment but ``HOME`` and ``PATH`` plus ``mcp_config.env``;
- ``${__dirname}`` replaced by the install folder; the token filled in; the optional fields left blank, which a host
  passes on as the literal ``${user_config.<key>}``;
- ``uv`` found on ``PATH`` (Claude Desktop brings its own); it installs pyproject.toml's dependencies, not the extras.

The base URL of the sandbox comes from the user's config file (``$HOME/.config/mvsep-mcp/config.toml``), as a user
pointing at a mirror would set it. ``$HOME/.config/uv/uv.toml`` tells uv to trust the system's certificates, which this
machine's network needs to reach PyPI (a user's own uv set-up, not the bundle's).
"""

from __future__ import annotations

import json
import re
import shutil
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from mcp.client.client import Client
from mcp.client.stdio import StdioServerParameters, stdio_client
from mvsep_mcp_testbench.sandbox import SANDBOX_PREMIUM_TOKEN, SandboxServer

from tests.programs import posix_only
from tests.ship import external
from tests.ship.conftest import make_song, separate_one

ROOT = Path(__file__).resolve().parents[2]
MAX_BUNDLE_BYTES = 2 * 1024 * 1024
DEFAULT_TOOLS = ["search_models", "get_model", "recommend_models", "separate_audio", "wait_for_jobs", "list_jobs",
                 "cancel_job"]
FILLED_BY_THE_USER = {"api_token": SANDBOX_PREMIUM_TOKEN}  # every other field is left blank
NEVER_PACKED = re.compile(r"(^|/)(tests|testbench|\.ci|\.venv|\.git|build|dist|__pycache__|[^/]*\.egg-info)(/|$)"
                          r"|\.pyc$")
MUST_PACK = {"manifest.json", "pyproject.toml", "icon.png", "README.md", "LICENSE", "server/mvsep_mcp/__main__.py",
             "server/mvsep_mcp/app.py", "tools/mvsep_mcp_tools/separation.py"}
SANDBOX_ONLY_PACKAGES = ("av",)  # starlette and uvicorn come with mcp; numpy and soundfile serve mvsep_mcp.daw


@pytest.fixture(scope="module")
def packed(bundle_dist: Path) -> Path:
    """The bundle as the release packs it (``.ci/release.py build --bundle``)."""
    return bundle_dist / external.RELEASE.bundle_name(external.RELEASE.version())


def test_mcpb_validate_is_clean(packed: Path, tmp_path: Path) -> None:
    """``mcpb validate`` on the manifest inside the packed bundle, beside the files it names."""
    zipfile.ZipFile(packed).extractall(tmp_path)
    done = external.run_npx([external.MCPB], "mcpb", "validate", str(tmp_path / "manifest.json"))
    print(done.stdout)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Manifest schema validation passes!" in done.stdout
    assert "ERROR" not in done.stdout + done.stderr


def test_the_pack_is_small_and_holds_only_what_runs(packed: Path) -> None:
    size = packed.stat().st_size
    print(f"bundle: {size} bytes")
    assert size < MAX_BUNDLE_BYTES
    names = zipfile.ZipFile(packed).namelist()
    assert MUST_PACK <= set(names)
    assert not [name for name in names if NEVER_PACKED.search(name)]
    top = {name.split("/")[0] for name in names}  # the test bench (testbench/) is never packed
    assert top == {"manifest.json", "pyproject.toml", "icon.png", "README.md", "LICENSE", "server", "tools"}


# --- the installed bundle ----------------------------------------------------------------------------------------


def host_path(tmp: Path) -> str:
    """PATH as a host gives it: a folder with uv in it, then the system's folders (not this test's venv)."""
    tools = tmp / "host-bin"
    tools.mkdir()
    (tools / "uv").symlink_to(external.uv())
    venv = str(external.venv_bin())
    system = [p for p in external.tool_path().split(":") if p and p != venv]
    return ":".join([str(tools), *system])


def fill(value: str, dirname: Path) -> str:
    """The host's substitution: ``${__dirname}``, and ``${user_config.x}`` for the fields the user filled in."""
    value = value.replace("${__dirname}", str(dirname))
    for key, filled in FILLED_BY_THE_USER.items():
        value = value.replace(f"${{user_config.{key}}}", filled)
    return value


@pytest.fixture
def installed(packed: Path, tmp_path: Path) -> Iterator[Path]:
    target = tmp_path / "Claude Extensions" / "mvsep-mcp"
    target.mkdir(parents=True)
    done = external.run_npx([external.MCPB], "mcpb", "unpack", str(packed), str(target))
    assert done.returncode == 0, done.stdout + done.stderr
    yield target
    shutil.rmtree(target / ".venv", ignore_errors=True)


def launch(manifest: dict[str, Any], dirname: Path, home: Path, path: str) -> StdioServerParameters:
    """``mcp_config`` as a host runs it. ``env -i`` makes the environment exactly HOME, PATH and mcp_config.env (the
    SDK's stdio client would add a few variables of this test process)."""
    config = manifest["server"]["mcp_config"]
    env = {"HOME": str(home), "PATH": path, **{k: fill(v, dirname) for k, v in config.get("env", {}).items()}}
    command = [fill(config["command"], dirname), *(fill(arg, dirname) for arg in config.get("args", []))]
    env_tool = shutil.which("env")
    assert env_tool is not None
    return StdioServerParameters(command=env_tool, args=["-i", *(f"{k}={v}" for k, v in env.items()), *command],
                                 cwd="/")


@posix_only("the host is played with env -i and a POSIX PATH")
async def test_the_unpacked_bundle_starts_lists_its_tools_and_separates(
    installed: Path, sandbox: SandboxServer, tmp_path: Path
) -> None:
    manifest = json.loads((installed / "manifest.json").read_text(encoding="utf-8"))
    home = tmp_path / "home"
    (home / ".config" / "mvsep-mcp").mkdir(parents=True)
    (home / ".config" / "mvsep-mcp" / "config.toml").write_text(
        f'base_url = "{sandbox.base_url}"\npoll_interval = 0.2\n', encoding="utf-8"
    )
    (home / ".config" / "uv").mkdir(parents=True)
    (home / ".config" / "uv" / "uv.toml").write_text("system-certs = true\n", encoding="utf-8")
    params = launch(manifest, installed, home, host_path(tmp_path))
    song = make_song(tmp_path / "music")

    stderr_path = tmp_path / "server-stderr.log"
    with stderr_path.open("w", encoding="utf-8") as errlog:
        async with Client(stdio_client(params, errlog=errlog), mode="legacy") as client:
            tools = await client.list_tools()
            assert [tool.name for tool in tools.tools] == DEFAULT_TOOLS  # toolsets left blank: the defaults
            assert set(DEFAULT_TOOLS) <= {tool["name"] for tool in manifest["tools"]}

            async def call(name: str, arguments: dict[str, Any]) -> dict[str, Any]:
                result = await client.call_tool(name, arguments, read_timeout_seconds=90.0)
                text = "\n".join(getattr(block, "text", "") for block in result.content)
                assert not result.is_error, f"{name}: {text}\n{stderr_path.read_text(encoding='utf-8')}"
                assert isinstance(result.structured_content, dict)
                return result.structured_content

            job = await separate_one(call, song)

    stems_root = home / "Music" / "MVSep"  # output folder left blank: the default under the user's Music folder
    assert all(Path(out["path"]).is_relative_to(stems_root) for out in job["outputs"]), job
    assert (home / ".local" / "share" / "mvsep-mcp" / "journal.sqlite3").is_file()
    site_packages = list((installed / ".venv").glob("lib/python3*/site-packages"))
    assert site_packages, "uv did not create the bundle's environment where expected"
    installed_names = {p.name.split("-")[0].lower() for p in site_packages[0].iterdir()}
    assert "mcp" in installed_names and "mutagen" in installed_names
    assert not installed_names & set(SANDBOX_ONLY_PACKAGES), "the bundle must not need the [sandbox] extra"
    assert SANDBOX_PREMIUM_TOKEN not in stderr_path.read_text(encoding="utf-8")
