"""Hosted mode over real HTTP on loopback: an authorization server of our own (an RSA key, its JWKS and an RFC 7662
introspection endpoint served by the standard library), tokens minted in the test, the sandbox with one account per
simulated user, and the MCP server itself (``hosting.http_app`` under uvicorn in a thread, like the sandbox).
"""

from __future__ import annotations

import base64
import html
import json
import re
import threading
import time
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import httpx
import jwt
import pytest
import uvicorn
from cryptography.hazmat.primitives.asymmetric import rsa
from mcp.client.client import Client
from mcp.client.streamable_http import streamable_http_client
from mcp.shared._httpx_utils import create_mcp_http_client
from mvsep_mcp.app import create_server
from mvsep_mcp.config import Settings, load_settings
from mvsep_mcp.serving.http_server import http_app
from mvsep_mcp_testbench.sandbox import JobTiming, SandboxServer, SandboxState

ALL = "mvsep:read mvsep:separate mvsep:account"
MCP_HEADERS = {"Accept": "application/json, text/event-stream", "Content-Type": "application/json"}
INITIALIZE = {"jsonrpc": "2.0", "id": 1, "method": "initialize",
              "params": {"protocolVersion": "2025-06-18", "capabilities": {},
                         "clientInfo": {"name": "test", "version": "1"}}}


# --- a small HTTP server of our own (JWKS, introspection, audio files for URL inputs) ---------------------------------


Handler = Callable[[str, dict[str, str], bytes], tuple[int, str, bytes]]  # (path, headers, body) -> status, type, body


@contextmanager
def loopback_http(get: Handler | None = None, post: Handler | None = None) -> Iterator[str]:
    """A threaded standard-library HTTP server on 127.0.0.1; yields its root URL."""

    class _Handler(BaseHTTPRequestHandler):
        def _answer(self, handler: Handler | None) -> None:
            length = int(self.headers.get("content-length") or 0)
            body = self.rfile.read(length) if length else b""
            status, kind, payload = (404, "text/plain", b"no") if handler is None else handler(
                self.path, {k.lower(): v for k, v in self.headers.items()}, body)
            self.send_response(status)
            self.send_header("content-type", kind)
            self.send_header("content-length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def do_GET(self) -> None:  # noqa: N802 - the standard library's name
            self._answer(get)

        def do_POST(self) -> None:  # noqa: N802
            self._answer(post)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


@dataclass
class Issuer:
    """An authorization server: it signs JWTs with its RSA key, serves the JWKS and introspects its tokens."""

    url: str = ""
    key: rsa.RSAPrivateKey = field(default_factory=lambda: rsa.generate_private_key(public_exponent=65537,
                                                                                   key_size=2048))
    kid: str = field(default_factory=lambda: uuid.uuid4().hex[:8])
    client_id: str = "mvsep-mcp"
    client_secret: str = "introspection-secret-0123456789"
    introspections: int = 0
    jwks_fetches: int = 0

    @property
    def issuer(self) -> str:
        return self.url + "/"  # a trailing slash, as many authorization servers write it: compared exactly

    def jwks(self) -> dict[str, Any]:
        public = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(self.key.public_key()))
        return {"keys": [{**public, "kid": self.kid, "use": "sig", "alg": "RS256"}]}

    def token(self, sub: str, *, aud: str | list[str], scope: str = ALL, iss: str | None = None,
              expires_in: float = 600, key: rsa.RSAPrivateKey | None = None, kid: str | None = None,
              **claims: Any) -> str:
        now = int(time.time())
        claims = {"iss": iss or self.issuer, "sub": sub, "aud": aud,
                  "iat": now, "exp": now + int(expires_in), "scope": scope, "client_id": "test-client", **claims}
        return jwt.encode(claims, key or self.key, algorithm="RS256", headers={"kid": kid or self.kid})

    def opaque(self, sub: str, **claims: Any) -> str:
        """An opaque token (not shaped like a JWT) that only introspection can tell about."""
        return "opaque-" + self.token(sub, **claims).replace(".", "~")

    def _get(self, path: str, _headers: dict[str, str], _body: bytes) -> tuple[int, str, bytes]:
        if path == "/jwks.json":
            self.jwks_fetches += 1
            return 200, "application/json", json.dumps(self.jwks()).encode()
        return 404, "text/plain", b"no"

    def _post(self, path: str, headers: dict[str, str], body: bytes) -> tuple[int, str, bytes]:
        expected = "Basic " + base64.b64encode(f"{self.client_id}:{self.client_secret}".encode()).decode()
        if path != "/introspect" or headers.get("authorization") != expected:
            return 401, "application/json", b'{"error": "invalid_client"}'
        self.introspections += 1
        token = parse_qs(body.decode())["token"][0]
        if not token.startswith("opaque-"):
            return 200, "application/json", b'{"active": false}'
        try:  # an opaque token here is a JWT in disguise (Issuer.opaque): introspection answers with its claims
            claims = jwt.decode(token.removeprefix("opaque-").replace("~", "."), self.key.public_key(),
                                algorithms=["RS256"],
                                options={"verify_aud": False, "verify_exp": False})
        except jwt.PyJWTError:
            return 200, "application/json", b'{"active": false}'
        active = claims["exp"] > time.time()
        return 200, "application/json", json.dumps({**claims, "active": active} if active else
                                                   {"active": False}).encode()


@pytest.fixture(scope="module")
def issuer() -> Iterator[Issuer]:
    found = Issuer()
    with loopback_http(get=found._get, post=found._post) as url:
        found.url = url
        yield found


@pytest.fixture(scope="module")
def sandbox() -> Iterator[SandboxServer]:
    with SandboxServer(SandboxState(timing=JobTiming.fast())) as server:
        yield server


# --- the MCP server under test ----------------------------------------------------------------------------------------


def hosted_settings(tmp_path: Path, base_url: str, port: int, **extra: str) -> Settings:
    env = {
        "MVSEP_BASE_URL": base_url,
        "MVSEP_OUTPUT_DIR": str(tmp_path / "out"),
        "MVSEP_DATA_DIR": str(tmp_path / "data"),
        "MVSEP_TOOLSETS": "all",
        "MVSEP_POLL_INTERVAL": "0.05",
        "MVSEP_STATUS_RATE": "100000",
        "MVSEP_AUTO_APPROVE_CREDITS": "1000000",
        "MVSEP_CONFIG": str(tmp_path / "absent.toml"),
        "MVSEP_CREDENTIALS": str(tmp_path / "credentials.json"),
        "MVSEP_PUBLIC_URL": f"http://127.0.0.1:{port}",
        **{f"MVSEP_{k.upper()}": v for k, v in extra.items()},
    }
    return load_settings({}, env)


class RunningServer:
    """The MCP server's HTTP app under uvicorn in a thread (its own event loop), on ``port``."""

    def __init__(self, settings: Settings, port: int) -> None:
        self.settings, self.port = settings, port
        self.mcp = create_server(settings)
        app = http_app(self.mcp, settings, host="127.0.0.1")
        self._server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning",
                                                     access_log=False))
        self._thread = threading.Thread(target=self._server.run, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> RunningServer:
        self._thread.start()
        deadline = time.monotonic() + 30
        while not self._server.started:
            assert self._thread.is_alive() and time.monotonic() < deadline, "the MCP server did not start"
            time.sleep(0.02)
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=30)


@asynccontextmanager
async def mcp_client(url: str, token: str | None, *, headers: dict[str, str] | None = None,
                     mode: str = "legacy", elicitation_callback: Any = None) -> AsyncIterator[Client]:
    """An MCP client of ``url``'s /mcp sending ``Authorization: Bearer <token>`` (and ``headers``)."""
    sent = {**({"Authorization": f"Bearer {token}"} if token else {}), **(headers or {})}
    async with create_mcp_http_client(headers=sent) as http, \
            Client(streamable_http_client(url + "/mcp", http_client=http), mode=mode,
                   elicitation_callback=elicitation_callback) as client:
        yield client


def text_of(result: Any) -> str:
    return "\n".join(getattr(block, "text", "") for block in result.content)


LINK_URL = re.compile(r"(https?://\S+/account/link/[A-Za-z0-9_-]+)")


FORM_ACTION = re.compile(r'<form method="post" action="([^"]+)"')


def form_action(link: str, page: str) -> str:
    """Where the link page's forms post (the page's own path with its CSRF value), as an absolute URL."""
    found = FORM_ACTION.search(page)
    assert found, page
    return str(httpx.URL(link).join(html.unescape(found.group(1))))


async def link_account(http: httpx.AsyncClient, message: str, mvsep_token: str) -> str:
    """Follow the link page a tool answered with, confirm who you are and paste ``mvsep_token`` there, as a user
    would; the page's text."""
    match = LINK_URL.search(message)
    assert match, f"no link page in: {message}"
    page = await http.get(match.group(1))
    assert page.status_code == 200, page.text
    done = await http.post(form_action(match.group(1), page.text), data={"token": mvsep_token, "confirm": "yes"})
    assert done.status_code == 200, done.text
    return done.text


@pytest.fixture(scope="module")
def song_urls(tmp_path_factory: pytest.TempPathFactory) -> Iterator[list[str]]:
    """Five short songs served on loopback: inputs of a hosted server are URLs (the sandbox downloads loopback ones)."""
    from tests.audio_factory import Song, make_audio

    folder = tmp_path_factory.mktemp("songs")
    files = {f"/song-{n}.flac": make_audio(folder, "flac", name=f"song-{n}", seconds=1.5, seed=n,
                                           song=Song(title=f"Song {n}", artist="Hosted Band", album="Remote"))
             for n in range(1, 6)}

    def serve(path: str, _headers: dict[str, str], _body: bytes) -> tuple[int, str, bytes]:
        found = files.get(path)
        return (200, "audio/flac", found.read_bytes()) if found else (404, "text/plain", b"no")

    with loopback_http(get=serve) as url:
        yield [url + path for path in files]
