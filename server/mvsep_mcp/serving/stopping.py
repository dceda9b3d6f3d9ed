"""A graceful stop: SIGTERM or SIGINT ends the server at a clean point, with one log line, and promptly.

Over stdio (:func:`serve_stdio`): the signal cancels the server. Its lifespan closes the session: the job runner stops
its work where it stands (a download between two pieces, its ``.part`` file kept for the next start to resume with
``Range``; file work already in a worker thread finishes first), the journal and the clients close. What could still
hold the process is the SDK's reader of stdin, a worker thread blocked in ``read()`` until the host writes or closes
the pipe; so once the session is closed (``on_stopped``) the process exits without waiting for it, and in any case
after ``STOP_GRACE_S``. (Windows has no signal receivers: there the server keeps its default behaviour.)

Over HTTP uvicorn owns the signals (its graceful shutdown runs the same lifespan); :class:`StoppingServer` adds the
line and bounds the wait for open streams (:func:`stopping_uvicorn`).
"""

from __future__ import annotations

import logging
import os
import signal
import threading
from collections.abc import Callable
from typing import Any

import anyio

from mvsep_mcp import system
from mvsep_mcp.policy import STOP_GRACE_S

log = logging.getLogger(__name__)

STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)
STOPPING = "stopping on %s: unfinished jobs stay in the journal and resume, downloads with Range, at the next start"


def serve_stdio(build: Callable[[Callable[[], None]], Any]) -> int:
    """Serve over stdio until stdin ends or a stop signal comes. ``build(on_stopped)`` makes the MCP server, which
    calls ``on_stopped()`` once its session is closed."""
    closed = threading.Event()
    server = build(closed.set)
    return int(anyio.run(_serve, server, closed))


async def _serve(server: Any, closed: threading.Event) -> int:
    async with anyio.create_task_group() as tg:
        tg.start_soon(_stop_on_signal, tg.cancel_scope, closed)
        await server.run_stdio_async()
        tg.cancel_scope.cancel()  # stdin ended: no signal to wait for
    return 0


async def _stop_on_signal(scope: anyio.CancelScope, closed: threading.Event) -> None:
    if system.is_windows():
        return  # no signal receivers there: Windows ends a process its own way
    with anyio.open_signal_receiver(*STOP_SIGNALS) as signals:
        async for number in signals:
            log.info(STOPPING, signal.Signals(number).name)
            threading.Thread(target=_exit_once_closed, args=(closed,), name="mvsep-stop", daemon=True).start()
            scope.cancel()
            return


def _exit_once_closed(closed: threading.Event) -> None:
    """Exit as soon as the session is closed (or the grace period is over), whatever thread still waits on stdin."""
    closed.wait(STOP_GRACE_S)
    for handler in logging.getLogger().handlers:
        handler.flush()
    os._exit(0)


def stopping_uvicorn(config: Any) -> Any:
    """A ``uvicorn.Server`` for ``config`` that logs the stop line on SIGTERM/SIGINT and waits at most
    ``STOP_GRACE_S`` for open connections (a streamable-HTTP client's event stream stays open until it hangs up)."""
    import uvicorn

    class StoppingServer(uvicorn.Server):
        def handle_exit(self, sig: int, frame: Any) -> None:
            if not self.should_exit:
                log.info(STOPPING, signal.Signals(sig).name)
            super().handle_exit(sig, frame)

    config.timeout_graceful_shutdown = STOP_GRACE_S
    return StoppingServer(config)
