"""The client's default transport: httpx's own, with one TLS context for every client, behind the environment's
proxy when one is set."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from mvsep_mcp.mvsep import MVSepClient
from mvsep_mcp.mvsep._transport import shared_tls_context
from mvsep_mcp.mvsep.errors import MVSepError


async def test_clients_share_one_tls_context() -> None:
    assert shared_tls_context() is shared_tls_context()


@pytest.fixture
def proxy() -> Iterator[tuple[str, list[str]]]:
    """A stand-in HTTP proxy on 127.0.0.1: records each request line's target."""
    seen: list[str] = []

    class _Proxy(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - the standard library's name
            seen.append(self.path)
            body = b'{}'
            self.send_response(200)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), _Proxy)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", seen
    finally:
        server.shutdown()
        server.server_close()


async def test_the_environments_proxy_is_used(proxy: tuple[str, list[str]], monkeypatch: pytest.MonkeyPatch) -> None:
    url, seen = proxy
    for name in ("HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy", "NO_PROXY", "no_proxy"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HTTP_PROXY", url)
    async with MVSepClient(None, base_url="http://mvsep.invalid/api", max_retries=0) as client:
        with contextlib.suppress(MVSepError):  # what the stand-in answers does not matter: who was asked does
            await client.queue()
    assert seen and seen[0].startswith("http://mvsep.invalid/api/")  # the proxy was asked for MVSep's URL
