"""The hosted server as an attacker meets it: ``python -m mvsep_mcp serve --transport http`` in a child process on
127.0.0.1, signing users in with static API keys, against the sandbox; its memory, descriptors, temporary folder and
log at hand, and the plain HTTP an attacker would send (raw sockets for bodies the server must not read, JSON-RPC
over httpx for the rest).

Memory and descriptors are read from ``/proc`` (Linux); elsewhere they are not measured (``None``).
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from mvsep_mcp.hosted.api_keys import add_key

START_TIMEOUT_S = 60.0
STOP_TIMEOUT_S = 15.0
PROTOCOL = "2025-06-18"
MCP_HEADERS = {"Accept": "application/json, text/event-stream", "Content-Type": "application/json"}


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class HostedChild:
    """The running child: its address, the API keys of its users, where it logs and keeps temporary files."""

    url: str
    process: subprocess.Popen[bytes]
    log_path: Path
    tmp_dir: Path
    keys: dict[str, str]

    def rss(self) -> int | None:
        """Resident memory in bytes."""
        try:
            status = Path(f"/proc/{self.process.pid}/status").read_text()
        except OSError:
            return None
        for line in status.splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
        return None

    def descriptors(self) -> int | None:
        try:
            return len(os.listdir(f"/proc/{self.process.pid}/fd"))
        except OSError:
            return None

    def log(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    def temporary_files(self) -> list[str]:
        return sorted(str(p.relative_to(self.tmp_dir)) for p in self.tmp_dir.rglob("*") if p.is_file())


@contextlib.contextmanager
def hosted_child(work: Path, base_url: str, users: dict[str, tuple[str, ...]], **env: str) -> Iterator[HostedChild]:
    """Start the server (``users``: name -> scopes of an API key each; ``env``: more ``MVSEP_*`` settings)."""
    port = free_port()
    keys_file, tmp_dir, log_path = work / "api-keys", work / "tmp", work / "server.log"
    tmp_dir.mkdir(parents=True, exist_ok=True)
    keys = {user: add_key(keys_file, user, scopes) for user, scopes in users.items()}
    child_env = {
        "PATH": os.environ.get("PATH", ""), "HOME": str(work / "home"), "TMPDIR": str(tmp_dir),
        "PYTHONUNBUFFERED": "1", "MVSEP_BASE_URL": base_url, "MVSEP_PUBLIC_URL": f"http://127.0.0.1:{port}",
        "MVSEP_AUTH_API_KEYS": str(keys_file), "MVSEP_OUTPUT_DIR": str(work / "out"),
        "MVSEP_DATA_DIR": str(work / "data"), "MVSEP_CONFIG": str(work / "no-config.toml"),
        "MVSEP_CREDENTIALS": str(work / "no-credentials.json"), "MVSEP_TOOLSETS": "all",
        "MVSEP_LOG_LEVEL": "INFO", **{f"MVSEP_{k.upper()}": v for k, v in env.items()},
    }
    with log_path.open("ab") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "mvsep_mcp", "serve", "--transport", "http", "--host", "127.0.0.1",
             "--port", str(port)], env=child_env, stdin=subprocess.DEVNULL, stdout=log, stderr=log, cwd=str(work))
    child = HostedChild(f"http://127.0.0.1:{port}", process, log_path, tmp_dir, keys)
    try:
        _wait_ready(child)
        yield child
    finally:
        process.terminate()
        try:
            process.wait(STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _wait_ready(child: HostedChild) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if child.process.poll() is not None:
            raise RuntimeError(f"the hosted server exited at start: {child.log()[-2000:]}")
        try:
            if httpx.get(child.url + "/readyz", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise RuntimeError("the hosted server did not become ready")


class PeakMemory:
    """The child's highest resident memory while the block runs, sampled every few milliseconds."""

    def __init__(self, child: HostedChild, every_s: float = 0.005) -> None:
        self.child, self.every_s = child, every_s
        self.before = self.peak = child.rss()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def _sample(self) -> None:
        while not self._stop.is_set():
            now = self.child.rss()
            if now is not None and self.peak is not None:
                self.peak = max(self.peak, now)
            self._stop.wait(self.every_s)

    def __enter__(self) -> PeakMemory:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        time.sleep(0.2)  # what the last request left is still held a moment later
        self._stop.set()
        self._thread.join()

    @property
    def growth(self) -> int | None:
        return None if self.before is None or self.peak is None else self.peak - self.before


@dataclass
class RawAnswer:
    status: int
    sent: int  # body bytes the server took before it answered or closed
    head: str = ""


def raw_post(url: str, path: str, headers: dict[str, str], body: Iterable[bytes], *,
             declared: int | None = None) -> RawAnswer:
    """POST ``body`` as fast as the server takes it, the way an attacker would: with ``declared`` as its
    Content-Length, else chunked; stops when the server answers or closes. What status came back, and how much of the
    body went out."""
    host, port = httpx.URL(url).host, httpx.URL(url).port or 80
    lines = [f"POST {path} HTTP/1.1", f"Host: {host}:{port}", *(f"{k}: {v}" for k, v in headers.items())]
    lines.append(f"Content-Length: {declared}" if declared is not None else "Transfer-Encoding: chunked")
    sent = 0
    with socket.create_connection((host, port), timeout=30) as sock:
        sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
        sock.setblocking(False)
        answer = b""
        try:
            for chunk in body:
                answer += _read_some(sock)
                if answer:
                    break
                piece = chunk if declared is not None else f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n"
                _send_all(sock, piece)
                sent += len(chunk)
            else:
                if declared is None:
                    _send_all(sock, b"0\r\n\r\n")
        except OSError:
            pass  # the server closed the connection: its answer, if any, is in the buffer
        sock.setblocking(True)
        sock.settimeout(10)
        with contextlib.suppress(OSError):
            while b"\r\n\r\n" not in answer:
                more = sock.recv(65536)
                if not more:
                    break
                answer += more
    head = answer.split(b"\r\n\r\n", 1)[0].decode("latin-1")
    status = int(head.split(" ", 2)[1]) if head.startswith("HTTP/") else 0
    return RawAnswer(status, sent, head)


def _read_some(sock: socket.socket) -> bytes:
    try:
        return sock.recv(65536)
    except BlockingIOError:
        return b""


def _send_all(sock: socket.socket, data: bytes) -> None:
    view = memoryview(data)
    deadline = time.monotonic() + 30
    while view:
        try:
            view = view[sock.send(view):]
        except BlockingIOError:
            if time.monotonic() > deadline:
                raise TimeoutError("the server stopped reading") from None
            time.sleep(0.001)


def zeros(total: int, piece: int = 1 << 16) -> Iterator[bytes]:
    """``total`` bytes in pieces, made as they are sent (the attacker holds none of it either)."""
    block = b"\0" * piece
    for _ in range(total // piece):
        yield block
    if total % piece:
        yield block[: total % piece]


@dataclass
class McpSession:
    """One legacy MCP session over plain HTTP (what any client sends), as one API key."""

    http: httpx.Client
    url: str
    key: str
    session_id: str | None = None
    headers: dict[str, str] = field(default_factory=dict)
    next_id: int = 1

    def open(self) -> int:
        status, _, answer_headers = self.send("initialize", {"protocolVersion": PROTOCOL, "capabilities": {},
                                                             "clientInfo": {"name": "abuse", "version": "1"}})
        self.session_id = answer_headers.get("mcp-session-id")
        if status == 200 and self.session_id:
            self.send("notifications/initialized", None, notification=True)
        return status

    def send(self, method: str, params: dict[str, Any] | None, *, notification: bool = False,
             headers: dict[str, str] | None = None) -> tuple[int, dict[str, Any] | None, httpx.Headers]:
        body: dict[str, Any] = {"jsonrpc": "2.0", "method": method}
        if params is not None:
            body["params"] = params
        if not notification:
            body["id"] = self.next_id
            self.next_id += 1
        sent = {**MCP_HEADERS, "Authorization": f"Bearer {self.key}", **self.headers, **(headers or {})}
        if self.session_id:
            sent |= {"Mcp-Session-Id": self.session_id, "MCP-Protocol-Version": PROTOCOL}
        response = self.http.post(self.url + "/mcp", json=body, headers=sent)
        return response.status_code, _message(response), response.headers

    def call(self, tool: str, arguments: dict[str, Any] | None = None,
             headers: dict[str, str] | None = None) -> tuple[int, str, bool]:
        """A tool call: HTTP status, the result's text, whether it is an error."""
        status, message, _ = self.send("tools/call", {"name": tool, "arguments": arguments or {}}, headers=headers)
        result = (message or {}).get("result") or {}
        text = "\n".join(str(c.get("text", "")) for c in result.get("content", []) if isinstance(c, dict))
        return status, text or json.dumps(message), bool(result.get("isError", message is None or "error" in message))


def _message(response: httpx.Response) -> dict[str, Any] | None:
    """The JSON-RPC answer of a response, as JSON or as the last ``data:`` event of an SSE stream."""
    text = response.text
    if response.headers.get("content-type", "").startswith("text/event-stream"):
        events = [line[5:].strip() for line in text.splitlines() if line.startswith("data:")]
        text = next((e for e in reversed(events) if e), "")
    try:
        found = json.loads(text) if text else None
    except ValueError:
        return None
    return found if isinstance(found, dict) else None
