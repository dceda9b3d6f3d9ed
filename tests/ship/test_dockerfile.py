"""The one Dockerfile, checked without a Docker engine: Docker's own parser reads it; by default (an empty `EXTRAS`
build argument) it installs the server alone from what .dockerignore lets through, runs as a non-root user, and its
ENTRYPOINT + CMD is `mvsep-mcp serve`: that command, with the image's environment (paths moved under a temporary
folder), is started here against the sandbox."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import dockerfile
from mcp.client.client import Client
from mcp.client.stdio import StdioServerParameters, stdio_client
from mvsep_mcp_testbench.sandbox import SANDBOX_PREMIUM_TOKEN, SandboxServer

from tests.ship import external
from tests.ship.conftest import ROOT

INSTRUCTIONS = {"FROM", "ENV", "WORKDIR", "COPY", "RUN", "USER", "VOLUME", "EXPOSE", "ENTRYPOINT", "CMD", "ARG",
                "LABEL"}


def commands() -> list[dockerfile.Command]:
    return list(dockerfile.parse_file(str(ROOT / "Dockerfile")))


def installed(parsed: list[dockerfile.Command], extras: str | None = None) -> str:
    """What the image's `pip install` installs, its RUN line expanded by a POSIX shell as Docker's would be, with the
    `EXTRAS` build argument at its default or at ``extras``."""
    default = next(c.value[0] for c in parsed if c.cmd == "ARG" and c.value[0].startswith("EXTRAS="))
    value = default.partition("=")[2].strip('"') if extras is None else extras
    runs = " && ".join(c.value[0] for c in parsed if c.cmd == "RUN")
    found = re.search(r"pip install (\S+)", runs)
    assert found, runs
    expanded = subprocess.run(["sh", "-c", f"printf %s {found.group(1)}"], env={"EXTRAS": value},
                              capture_output=True, text=True, check=True)
    return expanded.stdout


def env_of(parsed: list[dockerfile.Command]) -> dict[str, str]:
    env: dict[str, str] = {}
    for command in parsed:
        if command.cmd == "ENV":
            pairs = command.value
            env.update(zip(pairs[::2], pairs[1::2], strict=True))
    return env


def test_it_parses_and_runs_the_server_alone_as_a_user() -> None:
    parsed = commands()
    assert {c.cmd for c in parsed} <= INSTRUCTIONS
    base = parsed[0]
    assert base.cmd == "FROM"
    found = re.fullmatch(r"python:3\.(\d+)-slim", base.value[0])
    assert found and int(found.group(1)) >= 11
    runs = " && ".join(c.value[0] for c in parsed if c.cmd == "RUN")
    assert installed(parsed) == ".", "installs the project itself, without extras"
    users = [c.value[0] for c in parsed if c.cmd == "USER"]
    assert users and users[-1] not in ("root", "0")
    env = env_of(parsed)
    for folder in (env["MVSEP_OUTPUT_DIR"], env["MVSEP_DATA_DIR"]):
        assert f"chown mvsep:mvsep {env['MVSEP_OUTPUT_DIR']} {env['MVSEP_DATA_DIR']}" in runs and folder in runs
    volumes = [v for c in parsed if c.cmd == "VOLUME" for v in c.value]
    assert set(volumes) == {env["MVSEP_OUTPUT_DIR"], env["MVSEP_DATA_DIR"]}


def test_what_it_copies_is_let_through_by_dockerignore() -> None:
    allowed = {line[1:].strip() for line in (ROOT / ".dockerignore").read_text().splitlines() if line.startswith("!")}
    copied = [source for c in commands() if c.cmd == "COPY" for source in c.value[:-1]]
    assert copied and set(copied) <= allowed
    assert all((ROOT / source).exists() for source in copied)


async def test_its_command_is_the_tested_server_command(tmp_path: Path, sandbox: SandboxServer) -> None:
    parsed = commands()
    entrypoint = next(c for c in parsed if c.cmd == "ENTRYPOINT")
    cmd = next(c for c in parsed if c.cmd == "CMD")
    assert entrypoint.json and cmd.json  # exec form: the server is PID 1 and gets the signals
    argv = [*entrypoint.value, *cmd.value]
    assert argv == ["mvsep-mcp", "serve"]
    image_env = env_of(parsed)
    env = {
        **image_env,
        "MVSEP_OUTPUT_DIR": str(tmp_path / image_env["MVSEP_OUTPUT_DIR"].lstrip("/")),
        "MVSEP_DATA_DIR": str(tmp_path / image_env["MVSEP_DATA_DIR"].lstrip("/")),
        "MVSEP_API_TOKEN": SANDBOX_PREMIUM_TOKEN,
        "MVSEP_BASE_URL": sandbox.base_url,
        "HOME": str(tmp_path),
    }
    params = StdioServerParameters(command=str(external.venv_bin() / argv[0]), args=argv[1:], env=env,
                                   cwd=str(tmp_path))
    async with Client(stdio_client(params), mode="legacy") as client:
        tools = await client.list_tools()
        assert "separate_audio" in {tool.name for tool in tools.tools}
        found = await client.call_tool("search_models", {"stem": "vocals", "limit": 1})
        assert not found.is_error
