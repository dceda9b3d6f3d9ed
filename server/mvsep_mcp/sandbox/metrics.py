"""Counting what reaches the sandbox: one ``RequestRecord`` per HTTP request, kept in ``state.requests``.

The outermost ASGI middleware (added last in ``app.build_app``) sees every request, including injected faults and
rate-limited ones, and records its path, the account it names (the ``api_token`` query parameter, as on
``/separation/get``), its status and the bytes of its body and of the answer. Benchmarks and tests read it:
``state.requests.count(path="/api/separation/get", token=...)``, ``state.requests.bytes_in(since=t)``.
Tokens are kept in memory only, like the rate limiter's keys; nothing here is written anywhere. The log keeps the
newest ``MAX_RECORDS`` requests, so a sandbox left running for days stays small.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from urllib.parse import parse_qs

from starlette.types import ASGIApp, Message, Receive, Scope, Send

MAX_RECORDS = 100_000  # a few tens of MB at most


@dataclass(slots=True)
class RequestRecord:
    started: float  # time.time() when the request arrived
    method: str
    path: str
    token: str | None  # the api_token query parameter, if any
    status: int = 0
    bytes_in: int = 0  # request body bytes received
    bytes_out: int = 0  # response body bytes sent
    finished: float | None = None


class RequestLog:
    """Thread-safe list of ``RequestRecord`` with a few queries (times are ``time.time()`` values)."""

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._records: deque[RequestRecord] = deque(maxlen=MAX_RECORDS)

    def now(self) -> float:
        return self._clock()

    def add(self, record: RequestRecord) -> None:
        with self._lock:
            self._records.append(record)

    def records(self, *, path: str | None = None, token: str | None = None, since: float | None = None,
                until: float | None = None) -> list[RequestRecord]:
        with self._lock:
            records = list(self._records)
        return [r for r in records if (path is None or r.path == path) and (token is None or r.token == token)
                and (since is None or r.started >= since) and (until is None or r.started <= until)]

    def count(self, *, path: str | None = None, token: str | None = None, since: float | None = None,
              until: float | None = None) -> int:
        return len(self.records(path=path, token=token, since=since, until=until))

    def bytes_in(self, *, path: str | None = None, token: str | None = None, since: float | None = None,
                 until: float | None = None) -> int:
        return sum(r.bytes_in for r in self.records(path=path, token=token, since=since, until=until))

    def clear(self) -> None:
        with self._lock:
            self._records.clear()

    def __iter__(self) -> Iterator[RequestRecord]:
        return iter(self.records())

    def __len__(self) -> int:
        with self._lock:
            return len(self._records)


class RequestLogMiddleware:
    """Records every HTTP request into ``log`` (outermost middleware: it sees faults and 429s too)."""

    def __init__(self, app: ASGIApp, log: RequestLog) -> None:
        self.app = app
        self.log = log

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
        token = (query.get("api_token") or [None])[0]
        record = RequestRecord(self.log.now(), scope.get("method", "GET"), scope.get("path", ""), token)
        self.log.add(record)

        async def counting_receive() -> Message:
            message = await receive()
            if message["type"] == "http.request":
                record.bytes_in += len(message.get("body", b""))
            return message

        async def counting_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                record.status = int(message.get("status", 0))
            elif message["type"] == "http.response.body":
                record.bytes_out += len(message.get("body", b""))
            await send(message)

        try:
            await self.app(scope, counting_receive, counting_send)
        finally:
            record.finished = self.log.now()
