"""Running the sandbox: ``SandboxServer`` (uvicorn in a background thread, for tests) and ``run_sandbox`` (the CLI)."""

from __future__ import annotations

import logging
import socket
import threading
import time
from pathlib import Path
from types import TracebackType
from typing import Any

import uvicorn

from mvsep_mcp.sandbox.accounts import SANDBOX_FREE_TOKEN, SANDBOX_PREMIUM_TOKEN
from mvsep_mcp.sandbox.app import build_app
from mvsep_mcp.sandbox.jobs import JobTiming
from mvsep_mcp.sandbox.state import SandboxState

log = logging.getLogger(__name__)
STARTUP_TIMEOUT_S = 15.0


class SandboxServer:
    """The sandbox on a free loopback port for the duration of a ``with`` (or ``async with``) block."""

    def __init__(self, state: SandboxState | None = None, host: str = "127.0.0.1", port: int = 0) -> None:
        self.state = state if state is not None else SandboxState()
        self._owns_state = state is None
        self.host = host
        self.port = port
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None

    @property
    def root_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def base_url(self) -> str:
        return f"{self.root_url}/api"

    def start(self) -> SandboxServer:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((self.host, self.port))
        self.port = sock.getsockname()[1]
        config = uvicorn.Config(build_app(self.state), log_level="warning", access_log=False, lifespan="off")
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, kwargs={"sockets": [sock]},
                                        name=f"sandbox-{self.port}", daemon=True)
        self._thread.start()
        deadline = time.monotonic() + STARTUP_TIMEOUT_S
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the sandbox server did not start")
            time.sleep(0.02)
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=10)
        self._server, self._thread = None, None
        if self._owns_state:
            self.state.close()

    def __enter__(self) -> SandboxServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    async def __aenter__(self) -> SandboxServer:
        import anyio

        return await anyio.to_thread.run_sync(self.start)

    async def __aexit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                        tb: TracebackType | None) -> None:
        import anyio

        await anyio.to_thread.run_sync(self.stop)


def run_sandbox(host: str = "127.0.0.1", port: int = 8765, *, job_timing: JobTiming | None = None,
                storage_dir: Path | None = None, **state_options: Any) -> None:
    """Serve the sandbox until interrupted; logs the base URL and the two test tokens to stderr."""
    state = SandboxState(storage_dir=storage_dir, timing=job_timing or JobTiming(), **state_options)
    config = uvicorn.Config(build_app(state), host=host, port=port, log_level="info", lifespan="off")
    log.warning("MVSep sandbox at http://%s:%d/api (free token %s, premium token %s)",
                host, port, SANDBOX_FREE_TOKEN, SANDBOX_PREMIUM_TOKEN)
    try:
        uvicorn.Server(config).run()
    finally:
        state.close()
