"""Streamable HTTP's SSE streams made resumable (SEP-1699): the SDK's event store, holding cursors, not messages.

Given an event store, the SDK begins each POST's SSE stream (protocol 2025-11-25 and later) with a priming event:
an event id, empty data and the ``retry:`` interval (``policy.SSE_RETRY_MS``) a client waits before it reconnects
with ``Last-Event-ID`` when the stream drops. Here that id is a random cursor on the request's stream:

- resuming a request still under way gives the client its stream back, live: what comes from then on (progress,
  the result) reaches it;
- resuming a request that has been answered since, or an id this server does not know (expired, another
  replica's, made up), gives no stream: the client sees it end at once and asks again.

Messages are never stored or replayed. One store serves every session, and the SDK names a stream by its request's
JSON-RPC id, which every client reuses ("1" in each session): a stored message could not be told from another
session's, and in hosted mode that would hand one user another's results. A cursor only says which of the caller's
own streams to attach again, in the caller's own session. So anything sent while the client was away (a progress
notification, or a result that came in that gap) is not delivered; a result in the gap makes the resumed stream end
(see above), as a "yes" from another session's request with the same id does too: the cautious answer, never a
wrong one. Memory: ``SSE_RESUME_MAX_STREAMS`` cursors of about 200 bytes, each kept ``SSE_RESUME_WINDOW_S``.
"""

from __future__ import annotations

import secrets
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

from mcp.server.streamable_http import EventCallback, EventId, EventStore, StreamId
from mcp_types.jsonrpc import JSONRPCError, JSONRPCMessage, JSONRPCResponse

from mvsep_mcp import policy

NO_ID = ""  # a message's event: no id, so a client's Last-Event-ID stays its stream's priming cursor


@dataclass
class _Cursor:
    stream: StreamId
    made: float
    answered: bool = False


class ResumableStreams(EventStore):
    """Priming cursors for the SDK's streamable HTTP transport (``streamable_http_app(event_store=…)``)."""

    def __init__(self, *, window_s: float = policy.SSE_RESUME_WINDOW_S,
                 max_streams: int = policy.SSE_RESUME_MAX_STREAMS,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.window_s = window_s
        self.max_streams = max_streams
        self.clock = clock
        self._cursors: OrderedDict[EventId, _Cursor] = OrderedDict()  # oldest first
        self._unanswered: dict[StreamId, set[EventId]] = {}

    @property
    def streams(self) -> int:
        """Cursors held now (never ``__len__``: the SDK tests a store for truth, and an empty one is still one)."""
        return len(self._cursors)

    async def store_event(self, stream_id: StreamId, message: JSONRPCMessage | None) -> EventId:
        self._forget_old()
        if message is None:  # the priming event of a stream (a request's, or a resumed one)
            event_id = secrets.token_urlsafe(policy.SSE_EVENT_ID_BYTES)
            self._cursors[event_id] = _Cursor(stream_id, self.clock())
            self._unanswered.setdefault(stream_id, set()).add(event_id)
            return event_id
        if isinstance(message, JSONRPCResponse | JSONRPCError):  # a request under this id was answered
            for event_id in self._unanswered.pop(stream_id, set()):
                self._cursors[event_id].answered = True
        return NO_ID

    async def replay_events_after(self, last_event_id: EventId, send_callback: EventCallback) -> StreamId | None:
        """The stream to attach again (nothing is sent: no message is kept), or None when it cannot be resumed."""
        self._forget_old()
        cursor = self._cursors.get(last_event_id)
        if cursor is None or cursor.answered:
            return None
        return cursor.stream

    def _forget_old(self) -> None:
        horizon = self.clock() - self.window_s
        while self._cursors:
            event_id, cursor = next(iter(self._cursors.items()))
            if cursor.made >= horizon and len(self._cursors) <= self.max_streams:
                break
            del self._cursors[event_id]
            waiting = self._unanswered.get(cursor.stream)
            if waiting is not None:
                waiting.discard(event_id)
                if not waiting:
                    del self._unanswered[cursor.stream]
