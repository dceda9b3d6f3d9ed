"""The real server as an MCP host runs it: ``python -m mvsep_mcp serve`` over stdio, with its process at hand.

The suite needs the child's process to SIGKILL it; the SDK's ``stdio_client`` does not expose it, so the launch
wraps the SDK's process factory for the one launch (the same way ``tests/e2e`` does). Its stderr goes to a file the
suite reads (for tokens).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import anyio
import mcp.client.stdio as mcp_stdio
from mcp.client.client import Client
from mcp.client.stdio import StdioServerParameters, stdio_client

from mvsep_mcp_testbench.demo import server_params
from mvsep_mcp_testbench.faults import checks, knobs

CALL_TIMEOUT_S = 90.0
EXIT_WAIT_S = 10.0


def params_for(work: Path, base_url: str, token: str) -> StdioServerParameters:
    """How a host launches us (``demo.server_params``), everything under ``work``."""
    params = server_params(base_url, work / "out", work / "data", token, poll_interval=knobs.FAULTS_POLL_INTERVAL_S)
    env = dict(params.env or {})
    env.update({"HOME": str(work / "home"), "XDG_CONFIG_HOME": str(work / "home" / ".config"),
                "XDG_DATA_HOME": str(work / "home" / ".local" / "share"),
                "MVSEP_AUTO_APPROVE_CREDITS": "1000000"})  # automation: the sandbox's credits, spent unasked
    return params.model_copy(update={"env": env})


@dataclass
class StdioServer:
    client: Client
    process: Any  # anyio Process of the child
    results: list[tuple[str, Any]] = field(default_factory=list)

    async def call(self, name: str, arguments: dict[str, Any] | None = None) -> Any:
        result = await self.client.call_tool(name, arguments or {}, read_timeout_seconds=CALL_TIMEOUT_S)
        self.results.append((name, result))
        return result

    async def ok(self, name: str, arguments: dict[str, Any] | None = None) -> dict[str, Any]:
        """A call that must succeed: its structured content."""
        return checks.structured_or_fail(name, await self.call(name, arguments))

    async def terminate(self) -> float | None:
        """SIGTERM (a stop asked for, as a host does); seconds until the process was gone, None if it outlasted
        ``FAULTS_STOP_S`` (it is then killed)."""
        started = anyio.current_time()
        self.process.terminate()  # SIGTERM on POSIX (Windows has none: TerminateProcess there)
        with anyio.move_on_after(knobs.FAULTS_STOP_S):
            while self.process.returncode is None:  # noqa: ASYNC110 - see kill()
                await anyio.sleep(0.01)
            return anyio.current_time() - started
        await self.kill()
        return None

    async def kill(self) -> None:
        """SIGKILL (a crash, not a shutdown), then wait until it is reaped (a zombie would still hold its lease)."""
        self.process.kill()  # SIGKILL on POSIX, TerminateProcess on Windows (which has no SIGKILL)
        with anyio.fail_after(EXIT_WAIT_S):
            while self.process.returncode is None:  # noqa: ASYNC110 - not wait(): it also waits for the pipes' EOF
                await anyio.sleep(0.01)


@asynccontextmanager
async def stdio_server(params: StdioServerParameters, stderr_path: Path) -> AsyncIterator[StdioServer]:
    """Launch the server over stdio (legacy handshake, as Claude Desktop does); stderr appended to ``stderr_path``."""
    spawned: list[Any] = []
    factory = mcp_stdio._create_platform_compatible_process

    async def capturing(*args: Any, **kwargs: Any) -> Any:
        process = await factory(*args, **kwargs)
        spawned.append(process)
        return process

    (Path(params.env["HOME"]) if params.env and "HOME" in params.env else stderr_path.parent).mkdir(
        parents=True, exist_ok=True)
    with stderr_path.open("a", encoding="utf-8") as errlog:
        mcp_stdio._create_platform_compatible_process = capturing
        try:
            client = Client(stdio_client(params, errlog=errlog), mode="legacy")
            await client.__aenter__()
        finally:
            mcp_stdio._create_platform_compatible_process = factory
        try:
            yield StdioServer(client, spawned[0])
        finally:
            await client.__aexit__(None, None, None)
