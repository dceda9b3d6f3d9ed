"""A real third-party client: the MCP Inspector CLI (pinned, on Node 22) against the real server and the sandbox.

- ``tools/list --strict`` with every toolset on (``all`` and the opt-in ``auth``) reports no schema-portability
  problem, over stdio and over streamable HTTP. The Inspector exits 0 on warnings, so its output is read: a problem
  prints ``Warning: tool "…"`` / ``Error: tool "…"`` blocks and a ``N errors, M warnings across K tools`` line.
- One separation completes through it over HTTP (one server process; each Inspector call is a new client).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import anyio
from mvsep_mcp_testbench.sandbox import SandboxServer

from tests.ship import external
from tests.ship.conftest import make_song, separate_one, server_env

# every tool of every toolset, as the tools/list snapshot holds them
TOOL_COUNT = len(json.loads((Path(__file__).parents[1] / "tools" / "snapshots" / "tools_list_all.json").read_text()))
PROBLEM = re.compile(r"^(Warning|Error): tool |\d+ errors?, \d+ warnings?", re.MULTILINE)


def inspector(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """``mcp-inspector --cli …`` with its own HOME (it keeps state there); npm's cache stays the user's."""
    home = root / "inspector-home"
    home.mkdir(exist_ok=True)
    npm_cache = os.environ.get("npm_config_cache") or str(Path.home() / ".npm")
    done = external.run_npx(
        [external.INSPECTOR], "mcp-inspector", "--cli", *args, env={"HOME": str(home), "npm_config_cache": npm_cache}
    )
    print(f"$ mcp-inspector --cli {' '.join(args)}\n-> exit {done.returncode}, stdout {len(done.stdout)} chars")
    print(external.without_npm_noise(done.stderr))
    return done


def assert_strict_clean(done: subprocess.CompletedProcess[str]) -> None:
    stderr = external.without_npm_noise(done.stderr)
    assert done.returncode == 0, stderr
    assert not PROBLEM.search(stderr + done.stdout), stderr
    tools = json.loads(done.stdout)["tools"]
    assert len(tools) == TOOL_COUNT


def test_the_problem_pattern_matches_what_the_inspector_prints() -> None:
    """As Inspector 2.12 printed it for this server before the quality/site outputs were typed."""
    before = (
        'Warning: tool "mvsep_queue"\n  Path: outputSchema.properties.plan\n  Issue: Schema carries no validation '
        "keyword at all, so it accepts any value.\n\n0 errors, 8 warnings across 4 tools.\n"
    )
    assert PROBLEM.search(before)
    assert PROBLEM.search("1 error, 0 warnings across 1 tool.")
    assert not PROBLEM.search('{"tools": [{"name": "search_models", "description": "Warning: tool names"}]}')


def test_strict_tools_list_over_stdio(tmp_path: Path, sandbox: SandboxServer) -> None:
    (tmp_path / "home").mkdir()
    env = server_env(tmp_path, sandbox.base_url)
    env_flags = [arg for key, value in env.items() for arg in ("-e", f"{key}={value}")]
    done = inspector(tmp_path, "--method", "tools/list", "--strict", *env_flags, "--",
                     sys.executable, "-m", "mvsep_mcp", "serve")
    assert_strict_clean(done)


def test_strict_tools_list_over_http(tmp_path: Path, http_server: str) -> None:
    done = inspector(tmp_path, http_server, "--method", "tools/list", "--strict")
    assert_strict_clean(done)


async def test_a_separation_through_the_inspector(tmp_path: Path, http_server: str) -> None:
    song = make_song(tmp_path / "music")

    async def call(name: str, arguments: dict[str, Any]) -> dict[str, Any]:
        args = (http_server, "--method", "tools/call", "--tool-name", name, "--tool-args-json", json.dumps(arguments),
                "--format", "json")
        done = await anyio.to_thread.run_sync(lambda: inspector(tmp_path, *args))
        assert done.returncode == 0, external.without_npm_noise(done.stderr)
        result = json.loads(done.stdout)["result"]
        assert result.get("isError") is not True, result
        structured: dict[str, Any] = result["structuredContent"]
        return structured

    job = await separate_one(call, song)
    assert all(Path(out["path"]).is_relative_to(tmp_path / "out") for out in job["outputs"])


def test_the_inspector_follows_a_task_in_its_modern_era(tmp_path: Path, http_server: str) -> None:
    """Inspector 2.12 declares the tasks extension in its modern era and follows the task it gets to its result: one
    tools/call comes back with the job already completed (without tasks it returns once the job is submitted)."""
    song = make_song(tmp_path / "music")
    args = {"inputs": [str(song)], "model": "40"}
    done = inspector(tmp_path, http_server, "--protocol-era", "modern", "--method", "tools/call", "--tool-name",
                     "separate_audio", "--tool-args-json", json.dumps(args), "--format", "json")
    assert done.returncode == 0, external.without_npm_noise(done.stderr)
    result = json.loads(done.stdout)["result"]
    assert result.get("isError") is not True, result
    [job] = result["structuredContent"]["jobs"]
    assert job["state"] == "completed", result
    assert all(Path(out["path"]).is_file() for out in job["outputs"])
    assert result["content"][0]["text"].startswith("All 1 job(s) finished")
