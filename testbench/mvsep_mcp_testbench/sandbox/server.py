"""Running the sandbox: ``SandboxServer`` (uvicorn in a background thread, for tests) and ``run_sandbox`` (the CLI).

Both serve through the sandbox's own uvicorn protocol (``connections.py``) so that faults can drop connections, and
both take fault rules (``fault_spec.py``); ``run_sandbox`` also reads them from ``MVSEP_SANDBOX_FAULTS``.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
from pathlib import Path
from types import TracebackType
from typing import Any

import uvicorn

from mvsep_mcp_testbench.sandbox.accounts import SANDBOX_FREE_TOKEN, SANDBOX_PREMIUM_TOKEN
from mvsep_mcp_testbench.sandbox.fault_spec import FAULTS_ENV, format_rule
from mvsep_mcp_testbench.sandbox.fault_wire import join_host
from mvsep_mcp_testbench.sandbox.routes import build_app
from mvsep_mcp_testbench.sandbox.separations import JobTiming
from mvsep_mcp_testbench.sandbox.state import SandboxState

log = logging.getLogger(__name__)
STARTUP_TIMEOUT_S = 15.0
SHUTDOWN_GRACE_S = 3  # a stop waits no longer for requests still running (a slow fault, a stalled client)


def _config(state: SandboxState, **options: Any) -> uvicorn.Config:
    return uvicorn.Config(build_app(state), lifespan="off", http=state.connections.protocol_class(),
                          timeout_graceful_shutdown=SHUTDOWN_GRACE_S, **options)


class SandboxServer:
    """The sandbox on a free loopback port for the duration of a ``with`` (or ``async with``) block."""

    def __init__(self, state: SandboxState | None = None, host: str = "127.0.0.1", port: int = 0, *,
                 faults: str | None = None, also_ipv6: bool = False) -> None:
        """``faults``: a ``--faults`` text; ``also_ipv6``: listen on ``[::1]`` at the same port too (so a
        ``foreign_host=[::1]`` fault reaches the sandbox)."""
        self.state = state if state is not None else SandboxState()
        self._owns_state = state is None
        self.host = host
        self.port = port
        self.also_ipv6 = also_ipv6
        if faults:
            self.state.inject(faults)
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None

    @property
    def root_url(self) -> str:
        return f"http://{join_host(self.host, str(self.port))}"

    @property
    def base_url(self) -> str:
        return f"{self.root_url}/api"

    def start(self) -> SandboxServer:
        sock = _listen(self.host, self.port)
        self.port = sock.getsockname()[1]
        sockets = [sock] + ([_listen("::1", self.port)] if self.also_ipv6 and ":" not in self.host else [])
        self._server = uvicorn.Server(_config(self.state, log_level="warning", access_log=False))
        self._thread = threading.Thread(target=self._server.run, kwargs={"sockets": sockets},
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


def _listen(host: str, port: int) -> socket.socket:
    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    return sock


def run_sandbox(host: str = "127.0.0.1", port: int = 8765, *, job_timing: JobTiming | None = None,
                storage_dir: Path | None = None, faults: str | None = None, **state_options: Any) -> None:
    """Serve the sandbox until interrupted; logs the base URL, the two test tokens and the active faults to stderr.

    ``faults`` is a ``--faults`` text (``fault_spec.py``); when None, ``MVSEP_SANDBOX_FAULTS`` is read. A text that
    cannot be read raises ``FaultSpecError`` before anything starts.
    """
    state = SandboxState(storage_dir=storage_dir, timing=job_timing or JobTiming(), **state_options)
    try:
        rules = state.inject(faults if faults is not None else os.environ.get(FAULTS_ENV, ""))
    except ValueError:
        state.close()
        raise
    config = _config(state, host=host, port=port, log_level="info")
    log.warning("MVSep sandbox at http://%s/api (free token %s, premium token %s)",
                join_host(host, str(port)), SANDBOX_FREE_TOKEN, SANDBOX_PREMIUM_TOKEN)
    for rule in rules:
        log.warning("fault injected: %s", format_rule(rule))
    if rules:
        log.warning("fault counters: GET http://%s/_sandbox/stats", join_host(host, str(port)))
    try:
        uvicorn.Server(config).run()
    finally:
        state.close()
