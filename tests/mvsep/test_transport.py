"""The client's default transport: made at the first request, with one TLS context for every client."""

from __future__ import annotations

import httpx
import pytest
from mvsep_mcp.mvsep import MVSepClient
from mvsep_mcp.mvsep._transport import LazyTransport, shared_tls_context

from tests.http_server import free_port


async def test_the_transport_is_made_at_the_first_request() -> None:
    transport = LazyTransport()
    assert transport._transport is None  # nothing built while the server starts
    request = httpx.Request("GET", f"http://127.0.0.1:{free_port()}/")  # nobody listens there
    with pytest.raises(httpx.ConnectError):
        await transport.handle_async_request(request)
    assert isinstance(transport._transport, httpx.AsyncHTTPTransport)
    await transport.aclose()


async def test_clients_share_one_tls_context() -> None:
    assert shared_tls_context() is shared_tls_context()
    async with MVSepClient("t", base_url="https://mvsep.example") as client:
        assert isinstance(client._http._transport, LazyTransport)


async def test_closing_an_unused_client_builds_nothing() -> None:
    client = MVSepClient(None, base_url="http://127.0.0.1:9")
    await client.aclose()
    transport = client._http._transport
    assert isinstance(transport, LazyTransport) and transport._transport is None
