"""The README's install instructions, followed as a user would: every JSON snippet parses and its command starts the
server (pointed at the sandbox), the `claude mcp add` line runs the same command as `.mcp.json`, the wheel builds and
runs under uvx and pipx, and the README's first two commands stay the product's contract.

Placeholders a user replaces (``/path/to/…``, ``your-token``, ``/Users/you/…``) are replaced here by real paths. A
host expands ``${MVSEP_API_TOKEN}`` (Claude Code) and ``${input:mvsep-token}`` (VS Code): so does the test.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import tomllib
from pathlib import Path
from typing import Any

import pytest
from mcp.client.client import Client
from mcp.client.stdio import StdioServerParameters, stdio_client
from mvsep_mcp.cli import build_parser
from mvsep_mcp_testbench.sandbox import SANDBOX_PREMIUM_TOKEN, SandboxServer

from tests.programs import posix_only
from tests.ship import external
from tests.ship.conftest import copy_sources
from tests.ship.external import uv_env

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text(encoding="utf-8")
BLOCK = re.compile(r"^```(\w+)\n(.*?)^```", re.MULTILINE | re.DOTALL)
DEMO_COMMAND = "python3 -m venv .venv && .venv/bin/pip install -q -e '.[sandbox]' && .venv/bin/mvsep-mcp demo"
TEST_COMMAND = "python3 -m venv .venv && .venv/bin/pip install -q -e '.[test]' && .venv/bin/python -m pytest"
HOSTS = ("Claude Code .mcp.json", "Cursor", "VS Code", "generic macOS/Linux", "generic Windows")
COMMAND_TIMEOUT_S = 600


def blocks(language: str) -> list[str]:
    return [body for lang, body in BLOCK.findall(README) if lang == language]


def block_with(text: str) -> str:
    """The README's (first) bash block that holds ``text``."""
    found = [body for body in blocks("bash") if text in body]
    assert found, f"README has no bash block with {text!r}"
    return found[0]


def version() -> str:
    with (ROOT / "pyproject.toml").open("rb") as fh:
        return str(tomllib.load(fh)["project"]["version"])


def wheel_name() -> str:
    return f"mvsep_mcp-{version()}-py3-none-any.whl"


# --- the contract ------------------------------------------------------------------------------------------------


def test_the_first_two_commands_are_the_contract() -> None:
    bash = blocks("bash")
    assert [body.strip() for body in bash[:2]] == [DEMO_COMMAND, TEST_COMMAND]
    assert README.index(DEMO_COMMAND) < README.index("##")  # before any section
    assert TEST_COMMAND in (ROOT / ".ci" / "run").read_text(encoding="utf-8")


def test_every_json_snippet_parses_and_names_one_server() -> None:
    snippets = [json.loads(body) for body in blocks("json")]
    assert len(snippets) == len(HOSTS)
    for snippet in snippets:
        servers = snippet.get("mcpServers") or snippet["servers"]
        assert list(servers) == ["mvsep"]


# --- the snippets run ----------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The README's `pip wheel` line, run as written in a copy of the sources."""
    work = copy_sources(tmp_path_factory.mktemp("checkout"))
    line = next(line for line in block_with("pip wheel").splitlines() if "pip wheel" in line)
    run_shell(line, cwd=work)
    built = work / "dist" / wheel_name()
    assert built.is_file(), f"the README's wheel name {wheel_name()} is not what the build made"
    return built


def run_shell(line: str, cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """One README line in bash, with this venv's python3/uvx first on PATH."""
    external.uv()
    full_env = {**os.environ, "PATH": external.tool_path(), **(env or {})}
    done = subprocess.run(["bash", "-c", line], cwd=cwd, env=full_env, capture_output=True, text=True,
                          timeout=COMMAND_TIMEOUT_S, stdin=subprocess.DEVNULL)
    assert done.returncode == 0, f"{line}\n{done.stdout}\n{done.stderr}"
    return done


def substitute(value: str, wheel: Path, out: Path) -> str:
    """What a user types over the placeholders, and what the host expands."""
    mvsep_mcp = str(external.venv_bin() / "mvsep-mcp")
    for placeholder, real in (
        (f"/path/to/{wheel.name}", str(wheel)),
        ("/path/to/mvsep-mcp/.venv/bin/mvsep-mcp", mvsep_mcp),
        ("C:\\Users\\you\\mvsep-mcp\\.venv\\Scripts\\mvsep-mcp.exe", mvsep_mcp),
        ("/Users/you/Music/Stems", str(out)),
        ("C:\\Users\\you\\Music\\Stems", str(out)),
        ("${MVSEP_API_TOKEN}", SANDBOX_PREMIUM_TOKEN),
        ("${input:mvsep-token}", SANDBOX_PREMIUM_TOKEN),
        ("your-token", SANDBOX_PREMIUM_TOKEN),
    ):
        value = value.replace(placeholder, real)
    return value


def launch(entry: dict[str, Any], wheel: Path, root: Path, sandbox: SandboxServer, uv_cache: Path
           ) -> StdioServerParameters:
    command = substitute(entry["command"], wheel, root / "out")
    if command == "uvx":
        command = str(external.venv_bin() / "uvx")
    env = {key: substitute(value, wheel, root / "out") for key, value in entry.get("env", {}).items()}
    env.update(
        MVSEP_BASE_URL=sandbox.base_url,  # "against the sandbox": the one setting the snippets leave out
        MVSEP_DATA_DIR=str(root / "data"),
        MVSEP_CONFIG=str(root / "absent.toml"),
        MVSEP_CREDENTIALS=str(root / "absent.json"),
        HOME=str(root / "home"),
        **uv_env(uv_cache),
    )
    args = [substitute(arg, wheel, root / "out") for arg in entry.get("args", [])]
    return StdioServerParameters(command=command, args=args, env=env, cwd=str(root))


@posix_only("the README's install lines are bash")
@pytest.mark.parametrize("index", range(len(HOSTS)), ids=list(HOSTS))
async def test_each_snippet_starts_the_server(index: int, wheel: Path, uv_cache: Path, tmp_path: Path,
                                              sandbox: SandboxServer) -> None:
    snippet = json.loads(blocks("json")[index])
    if "servers" in snippet:  # VS Code's shape
        assert snippet["servers"]["mvsep"]["type"] == "stdio"
        assert {i["id"] for i in snippet["inputs"]} == {"mvsep-token"}
    entry = (snippet.get("mcpServers") or snippet["servers"])["mvsep"]
    (tmp_path / "home").mkdir()
    params = launch(entry, wheel, tmp_path, sandbox, uv_cache)
    errlog_path = tmp_path / "stderr.log"
    with errlog_path.open("w", encoding="utf-8") as errlog:
        async with Client(stdio_client(params, errlog=errlog), mode="legacy") as client:
            tools = await client.list_tools()
            assert "separate_audio" in {tool.name for tool in tools.tools}
            found = await client.call_tool("search_models", {"stem": "vocals", "limit": 1})  # reaches the sandbox
            assert not found.is_error, errlog_path.read_text(encoding="utf-8")
            catalog = await client.read_resource("mvsep://catalog")
            assert catalog.contents


def test_the_windows_snippet_is_the_posix_one_with_windows_paths() -> None:
    posix, windows = (json.loads(body)["mcpServers"]["mvsep"] for body in blocks("json")[3:5])
    assert windows["command"].endswith("\\.venv\\Scripts\\mvsep-mcp.exe") and windows["command"][1:3] == ":\\"
    assert windows["args"] == posix["args"] == ["serve"]
    assert windows["env"].keys() == posix["env"].keys()


def test_claude_mcp_add_runs_what_mcp_json_runs() -> None:
    line = next(body.strip() for body in blocks("bash") if body.strip().startswith("claude mcp add"))
    words = shlex.split(line)
    assert words[:4] == ["claude", "mcp", "add", "mvsep"]
    separator = words.index("--")
    options, command = words[4:separator], words[separator + 1:]
    entry = json.loads(blocks("json")[0])["mcpServers"]["mvsep"]
    assert command == [entry["command"], *entry["args"]]
    assert options == ["--env", "MVSEP_API_TOKEN=your-token"]
    assert set(entry["env"]) == {"MVSEP_API_TOKEN"}


@posix_only("the README's install lines are bash")
def test_uvx_and_pipx_from_the_built_wheel(wheel: Path, uv_cache: Path, tmp_path: Path) -> None:
    """The README's pipx/uvx lines, from the folder holding dist/ (pipx obtained through uvx, into tmp)."""
    lines = [line for line in block_with("pip wheel").splitlines() if line.strip()]
    env = {**uv_env(uv_cache), "PIPX_HOME": str(tmp_path / "pipx"), "PIPX_BIN_DIR": str(tmp_path / "bin"),
           "HOME": str(tmp_path)}
    workdir = wheel.parent.parent
    uvx_line = next(line for line in lines if line.startswith("uvx "))
    assert run_shell(uvx_line, cwd=workdir, env=env).stdout.strip() == f"mvsep-mcp {version()}"
    pipx_line = next(line for line in lines if line.startswith("pipx install"))
    run_shell("uvx " + pipx_line, cwd=workdir, env=env)
    done = subprocess.run([str(tmp_path / "bin" / "mvsep-mcp"), "--version"], capture_output=True, text=True,
                          timeout=COMMAND_TIMEOUT_S)
    assert done.stdout.strip() == f"mvsep-mcp {version()}"


def test_the_docker_lines_run_the_tested_command() -> None:
    """The `docker run` lines: the image's default command (stdio, `-i`), and an HTTP one the CLI accepts."""
    lines = [line for line in block_with("docker build").splitlines() if line.strip()]
    assert lines[0] == "docker build -t mvsep-mcp ."
    stdio, http = (shlex.split(line) for line in lines[1:3])
    assert stdio[:3] == ["docker", "run", "-i"] and stdio[-1] == "mvsep-mcp"
    assert "-p" in http and http[http.index("-p") + 1] == "8000:8000"
    after_image = http[http.index("mvsep-mcp", 3) + 1:]
    args = build_parser().parse_args(after_image)
    assert (args.command, args.transport, args.host, args.port) == ("serve", "http", "0.0.0.0", 8000)


def test_the_bundle_section_packs_with_the_tested_mcpb() -> None:
    line = next(body.strip() for body in blocks("bash") if "mcpb" in body)
    assert line == f"npx -y {external.MCPB} pack . mvsep-mcp.mcpb"
