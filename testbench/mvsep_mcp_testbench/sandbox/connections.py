"""Dropping a client's connection from inside the ASGI app, which ASGI itself cannot do.

ASGI gives an app no handle on its socket: an app that stops answering gets a 500 from uvicorn, not a dropped
connection. So the sandbox runs uvicorn with its own subclass of uvicorn's h11 protocol that records each connection's
transport under the ``(server, client)`` address pair the ASGI scope also carries; ``drop`` looks it up and closes it
(FIN, after what was already sent) or resets it (RST: ``SO_LINGER`` 0). Without that protocol (another ASGI server)
``drop`` raises ``ConnectionDropped`` and the server does what it does with a failing app (a 500 or a closed socket).
"""

from __future__ import annotations

import asyncio
import socket
import struct
import threading
from dataclasses import dataclass, field
from typing import Any

from uvicorn.protocols.http.h11_impl import H11Protocol

CLOSE_WAIT_S = 5.0  # how long a drop waits for uvicorn to see the connection gone (so it logs no app error)


class ConnectionDropped(Exception):  # noqa: N818 - it is what happened, not a failure of the sandbox
    """Raised when the sandbox must drop a connection it has no transport for."""


@dataclass
class _Connection:
    transport: asyncio.Transport
    lost: asyncio.Event = field(default_factory=asyncio.Event)


class ConnectionRegistry:
    def __init__(self) -> None:
        self._live: dict[tuple[Any, Any], _Connection] = {}
        self._lock = threading.Lock()

    def protocol_class(self) -> type[asyncio.Protocol]:
        """uvicorn's h11 protocol, recording every connection here (pass it as ``uvicorn.Config(http=...)``)."""
        registry = self

        class TrackedH11Protocol(H11Protocol):
            def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
                super().connection_made(transport)
                registry._add(self.server, self.client, transport)

            def connection_lost(self, exc: Exception | None) -> None:
                super().connection_lost(exc)
                registry._lost(self.server, self.client)

        return TrackedH11Protocol

    def _add(self, server: Any, client: Any, transport: asyncio.Transport) -> None:
        with self._lock:
            self._live[(_key(server), _key(client))] = _Connection(transport)

    def _lost(self, server: Any, client: Any) -> None:
        with self._lock:
            connection = self._live.pop((_key(server), _key(client)), None)
        if connection is not None:
            connection.lost.set()

    def _find(self, scope: dict[str, Any] | Any) -> _Connection | None:
        with self._lock:
            return self._live.get((_key(scope.get("server")), _key(scope.get("client"))))

    async def drop(self, scope: Any, *, reset: bool) -> None:
        """Close (FIN, after flushing what was sent) or reset (RST) the connection of this request."""
        connection = self._find(scope)
        if connection is None:
            raise ConnectionDropped("no transport for this connection: drops need the sandbox's uvicorn protocol")
        transport = connection.transport
        if reset:
            sock = transport.get_extra_info("socket")
            if sock is not None:
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            transport.abort()
        else:
            transport.close()
        try:
            await asyncio.wait_for(connection.lost.wait(), CLOSE_WAIT_S)
        except TimeoutError:
            transport.abort()


def _key(address: Any) -> Any:
    return tuple(address) if isinstance(address, (list, tuple)) else address
