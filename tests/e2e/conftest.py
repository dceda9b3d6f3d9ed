"""End-to-end fixtures: the REAL server (``python -m server serve``) as a stdio subprocess against an in-process
sandbox.

The sandbox runs in a thread of the test process, so tests can read and wrap its ``state`` (count creates, look at the
jobs in flight). The server child inherits almost no environment (like under an MCP host): every ``MVSEP_*`` setting is
passed explicitly, and ``HOME``/``XDG_*`` point into ``tmp_path`` so a token stored by ``mvsep-mcp login`` on this
machine can never leak into a test. Its stderr goes to a file (``stdio_client(errlog=…)``) that tests can read.
"""

from __future__ import annotations

import json
import sys
from collections.abc import AsyncIterator, Callable, Iterable, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import anyio
import pytest
from mcp.client.client import Client
from mcp.client.stdio import StdioServerParameters
from mvsep_mcp_testbench.faults.stdio import stdio_server
from mvsep_mcp_testbench.sandbox import JobTiming, SandboxServer, SandboxState
from mvsep_mcp_testbench.sandbox.state import CreateError, CreateRequest

REPO_ROOT = Path(__file__).resolve().parents[2]
POLL_INTERVAL = "0.05"
CALL_TIMEOUT_S = 90.0
MAX_WAIT_CALLS = 40


# --- the sandbox -----------------------------------------------------------------------------------------------------


@dataclass
class CreateLog:
    """What the sandbox saw of creates: the account's jobs in flight at each attempt, and the refusals."""

    in_flight_at_attempt: list[int] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)

    @property
    def attempts(self) -> int:
        return len(self.in_flight_at_attempt)


def count_creates(state: SandboxState) -> CreateLog:
    """Wrap ``state.check_create`` (the sandbox's create route calls it for every create request)."""
    log = CreateLog()
    original = state.check_create

    def check_create(token: str | None, form: dict[str, str]) -> CreateRequest:
        log.in_flight_at_attempt.append(state.in_flight(token) if token else -1)
        try:
            return original(token, form)
        except CreateError as exc:
            log.refused.append("; ".join(exc.errors))
            raise

    state.check_create = check_create  # type: ignore[method-assign]
    return log


def start_sandbox(timing: JobTiming | None = None) -> SandboxServer:
    return SandboxServer(SandboxState(timing=timing or JobTiming.fast())).start()


def stop_sandbox(sandbox: SandboxServer) -> None:
    sandbox.stop()
    sandbox.state.close()


@pytest.fixture
def sandbox() -> Iterator[SandboxServer]:
    """A fresh fast sandbox per test, so creates and jobs can be counted per test."""
    server = start_sandbox()
    try:
        yield server
    finally:
        stop_sandbox(server)


# --- the server subprocess -------------------------------------------------------------------------------------------


@dataclass
class ServerEnv:
    """Where one test's server keeps things; ``params`` builds the launch parameters."""

    root: Path
    base_url: str

    @property
    def output_dir(self) -> Path:
        return self.root / "out"

    @property
    def data_dir(self) -> Path:
        return self.root / "data"

    @property
    def home(self) -> Path:
        return self.root / "home"

    @property
    def stderr_path(self) -> Path:
        return self.root / "server-stderr.log"

    def params(self, token: str | None, *, cwd: str | Path = REPO_ROOT, toolsets: str = "all",
               log_level: str | None = None, **extra: str) -> StdioServerParameters:
        """How a host launches the server: this interpreter, ``-m server serve``, only the variables set here."""
        self.home.mkdir(parents=True, exist_ok=True)
        env = {
            "MVSEP_BASE_URL": self.base_url,
            "MVSEP_OUTPUT_DIR": str(self.output_dir),
            "MVSEP_DATA_DIR": str(self.data_dir),
            "MVSEP_TOOLSETS": toolsets,
            "MVSEP_POLL_INTERVAL": POLL_INTERVAL,
            "MVSEP_STATUS_RATE": "100000",
            "MVSEP_AUTO_APPROVE_CREDITS": "1000000",
            "MVSEP_CONFIG": str(self.root / "no-such-config.toml"),
            "HOME": str(self.home),
            "XDG_CONFIG_HOME": str(self.home / ".config"),
            "XDG_DATA_HOME": str(self.home / ".local" / "share"),
            "PYTHONUNBUFFERED": "1",
            **{f"MVSEP_{key.upper()}": value for key, value in extra.items()},
        }
        if token is not None:
            env["MVSEP_API_TOKEN"] = token
        args = ["-m", "mvsep_mcp"]
        if log_level:
            args += ["--log-level", log_level]
        args.append("serve")
        return StdioServerParameters(command=sys.executable, args=args, env=env, cwd=str(cwd))


@pytest.fixture
def server_env(tmp_path: Path, sandbox: SandboxServer) -> ServerEnv:
    return ServerEnv(tmp_path, sandbox.base_url)


def text_of(result: Any) -> str:
    return "\n".join(getattr(block, "text", "") for block in result.content)


@dataclass
class Session:
    """A connected client that records everything the server sends back (results and progress messages)."""

    client: Client
    process: Any = None  # the anyio Process of the server child
    received: list[str] = field(default_factory=list)

    async def call(self, name: str, arguments: dict[str, Any] | None = None) -> Any:
        async def progress(progress: float, total: float | None, message: str | None) -> None:
            self.received.append(f"progress {progress}/{total}: {message}")

        result = await self.client.call_tool(name, arguments or {}, read_timeout_seconds=CALL_TIMEOUT_S,
                                             progress_callback=progress)
        self.received.append(text_of(result))
        self.received.append(json.dumps(result.structured_content, sort_keys=True))
        return result

    async def ok(self, name: str, arguments: dict[str, Any] | None = None) -> dict[str, Any]:
        """Call a tool that must succeed; its structured content."""
        result = await self.call(name, arguments)
        assert not result.is_error, f"{name} failed: {text_of(result)}"
        assert isinstance(result.structured_content, dict)
        return result.structured_content

    async def wait_all(self, job_ids: list[str] | None = None, max_wait_s: float = 15.0) -> dict[str, Any]:
        """wait_for_jobs until every job has ended; the last structured content."""
        args: dict[str, Any] = {"max_wait_s": max_wait_s}
        if job_ids is not None:
            args["job_ids"] = job_ids
        for _ in range(MAX_WAIT_CALLS):
            out = await self.ok("wait_for_jobs", args)
            if out["all_finished"]:
                return out
        raise AssertionError(f"jobs {job_ids} did not finish after {MAX_WAIT_CALLS} wait_for_jobs calls")


@asynccontextmanager
async def run_server(params: StdioServerParameters, stderr_path: Path) -> AsyncIterator[Session]:
    """Launch the server over stdio (legacy handshake, as Claude Desktop does), stderr appended to ``stderr_path``.

    The spawned process is captured (the fault suite's launcher, ``faults.stdio``) so a test can kill it.
    """
    async with stdio_server(params, stderr_path) as server:
        yield Session(server.client, server.process)


async def wait_until(predicate: Callable[[], bool], what: str, timeout_s: float = 10.0, step_s: float = 0.02) -> None:
    """Poll ``predicate`` (cheap, non-blocking) until it holds; fail naming ``what`` after ``timeout_s``."""
    for _ in range(int(timeout_s / step_s) + 1):
        if predicate():
            return
        await anyio.sleep(step_s)
    raise AssertionError(f"timed out after {timeout_s:g} s waiting for {what}")


def files_under(root: Path) -> set[Path]:
    """Every file under ``root`` (hidden ones included: temporary ``.part`` files are hidden)."""
    return {p for p in root.rglob("*") if p.is_file()} if root.exists() else set()


def all_exist(paths: Iterable[str | Path]) -> bool:
    return all(Path(p).is_file() for p in paths)


def make_input(directory: Path, fmt: str, *, title: str, artist: str = "Loopback Trio", album: str = "E2E Sessions",
               seconds: float = 2.5, seed: int = 7) -> Path:
    """A real, tagged audio file with cover art."""
    from tests.audio_factory import Song, make_audio

    song = Song(title=title, artist=artist, album=album, date="2026", genre="Synthwave", track="2")
    return make_audio(directory, fmt, name=title, seconds=seconds, song=song, seed=seed)


__all__ = ["CreateLog", "ServerEnv", "Session", "all_exist", "count_creates", "files_under", "make_input",
           "run_server", "start_sandbox", "stop_sandbox", "text_of", "wait_until"]
