"""The HTTP transport of every ``MVSepClient``: built at its first request, with one TLS context for the process.

Building an ``httpx`` transport loads the CA bundle into a new TLS context, tens of milliseconds each time; a server
makes a client per account at start-up, before it can answer. So the context is built once, when a request first
needs a connection, and shared by every client (``ssl.SSLContext`` is safe to share between connections).
"""

from __future__ import annotations

import functools
import ssl

import httpx


@functools.cache
def shared_tls_context() -> ssl.SSLContext:
    """The process's TLS context: certifi's CAs, or ``SSL_CERT_FILE``/``SSL_CERT_DIR`` as httpx reads them."""
    return httpx.create_ssl_context(trust_env=True)


class LazyTransport(httpx.AsyncBaseTransport):
    """``httpx.AsyncHTTPTransport`` with the shared TLS context, made when the first request is sent."""

    def __init__(self) -> None:
        self._transport: httpx.AsyncHTTPTransport | None = None

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if self._transport is None:
            self._transport = httpx.AsyncHTTPTransport(verify=shared_tls_context())
        return await self._transport.handle_async_request(request)

    async def aclose(self) -> None:
        if self._transport is not None:
            await self._transport.aclose()
