"""The product as a host runs it: ``python -m mvsep_mcp serve`` over stdio, driven by the SDK's ``Client``.

Each ``McpServer`` gets its own data, output and home folders and an explicit environment (nothing inherited from
the user's configuration, no token stored on this machine). Its stderr goes to a file in its folder. Its process id
is the child process that appeared while it started with the server's folder as its working directory.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Sequence
from contextlib import AsyncExitStack
from pathlib import Path
from typing import Any

from mcp.client.client import Client
from mcp.client.stdio import StdioServerParameters, stdio_client

from mvsep_mcp_testbench.bench import proc

CALL_TIMEOUT_S = 120.0
WAIT_SLICE_S = 40.0  # max_wait_s of one wait_for_jobs call (the tool allows up to 45)


class ToolFailed(RuntimeError):
    pass


def text_of(result: Any) -> str:
    return "\n".join(getattr(block, "text", "") for block in result.content)


def server_environment(root: Path, base_url: str, token: str | None, toolsets: str | None) -> dict[str, str]:
    home = root / "home"
    home.mkdir(parents=True, exist_ok=True)
    env = {
        "MVSEP_BASE_URL": base_url,
        "MVSEP_OUTPUT_DIR": str(root / "out"),
        "MVSEP_DATA_DIR": str(root / "data"),
        "MVSEP_CONFIG": str(root / "no-config.toml"),
        "MVSEP_CREDENTIALS": str(root / "no-credentials.json"),
        "MVSEP_AUTO_APPROVE_CREDITS": "1000000",  # automation: the sandbox's credits, spent unasked
        "HOME": str(home),
        "XDG_CONFIG_HOME": str(home / ".config"),
        "XDG_DATA_HOME": str(home / ".local" / "share"),
        "PYTHONUNBUFFERED": "1",
    }
    if token:
        env["MVSEP_API_TOKEN"] = token
    if toolsets:
        env["MVSEP_TOOLSETS"] = toolsets
    return env


class McpServer:
    """``async with McpServer(...) as server:`` a running server; ``await server.call(tool, args)``."""

    def __init__(self, params: StdioServerParameters, root: Path) -> None:
        self.params = params
        self.root = root
        self.pid: int | None = None
        self.started_s: float | None = None  # spawn → initialized
        self._stack = AsyncExitStack()
        self._client: Client | None = None

    @classmethod
    def product(cls, root: Path, base_url: str, token: str | None, *, toolsets: str | None = "all") -> McpServer:
        root.mkdir(parents=True, exist_ok=True)
        env = server_environment(root, base_url, token, toolsets)
        params = StdioServerParameters(command=sys.executable, args=["-m", "mvsep_mcp", "serve"], env=env,
                                       cwd=str(root))
        return cls(params, root)

    @classmethod
    def bare(cls, root: Path) -> McpServer:
        """A one-tool ``MCPServer`` and nothing else: the cold-start and memory reference."""
        root.mkdir(parents=True, exist_ok=True)
        script = Path(__file__).with_name("bare_server.py")
        params = StdioServerParameters(command=sys.executable, args=[str(script)],
                                       env={"PYTHONUNBUFFERED": "1", "HOME": str(root)}, cwd=str(root))
        return cls(params, root)

    @property
    def output_dir(self) -> Path:
        return self.root / "out"

    async def __aenter__(self) -> McpServer:
        before = proc.children(os.getpid())
        started = time.perf_counter()
        errlog = self._stack.enter_context((self.root / "server-stderr.log").open("a", encoding="utf-8"))
        try:
            self._client = await self._stack.enter_async_context(
                Client(stdio_client(self.params, errlog=errlog), mode="legacy"))
        except BaseException:
            await self._stack.aclose()
            raise
        self.started_s = time.perf_counter() - started
        new = [pid for pid in proc.children(os.getpid()) - before if proc.working_dir(pid) == self.root.resolve()]
        self.pid = min(new) if new else None
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self._stack.aclose()
        self._client = None

    @property
    def client(self) -> Client:
        if self._client is None:
            raise RuntimeError("the server is not running")
        return self._client

    def rss_mb(self) -> float | None:
        return proc.rss_mb(self.pid) if self.pid else None

    async def list_tools(self) -> list[str]:
        return [t.name for t in (await self.client.list_tools()).tools]

    async def call(self, name: str, arguments: dict[str, Any]) -> dict[str, Any]:
        """Call a tool that must succeed; its structured content."""
        result = await self.client.call_tool(name, arguments, read_timeout_seconds=CALL_TIMEOUT_S)
        if result.is_error or not isinstance(result.structured_content, dict):
            raise ToolFailed(f"{name} failed: {text_of(result)[:500]}")
        return result.structured_content

    async def separate(self, inputs: Sequence[Path], **arguments: Any) -> list[str]:
        """``separate_audio``; the job ids."""
        out = await self.call("separate_audio", {"inputs": [str(p) for p in inputs], **arguments})
        return [job["id"] for job in out.get("jobs", [])]

    async def wait_all(self, job_ids: Sequence[str], timeout_s: float) -> list[dict[str, Any]]:
        """``wait_for_jobs`` until every job has ended; the jobs (raises when one did not complete)."""
        deadline = time.monotonic() + timeout_s
        while True:
            out = await self.call("wait_for_jobs", {"job_ids": list(job_ids), "max_wait_s": WAIT_SLICE_S})
            jobs: list[dict[str, Any]] = out.get("jobs", [])
            if out.get("all_finished"):
                bad = [j for j in jobs if j.get("state") != "completed"]
                if bad:
                    raise ToolFailed(f"job {bad[0].get('id')} ended {bad[0].get('state')}: {bad[0].get('error')}")
                return jobs
            if time.monotonic() > deadline:
                raise ToolFailed(f"jobs {list(job_ids)} did not finish within {timeout_s:.0f} s")
