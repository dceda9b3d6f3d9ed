"""Limits of the HTTP server that hold before anything is parsed, and fair shares between principals (ASGI
middleware; the bookkeeping is :mod:`mvsep_mcp.hosted.limits`, the numbers ``policy`` and the hosted settings).

- :class:`BodyLimitMiddleware` (every route, outermost but for the request id): a body larger than the route's limit
  is answered 413 before it is read when its length is declared, else as soon as what arrived passes the limit, so
  what a request makes the server hold never exceeds its limit (``/mcp``: ``MCP_BODY_MAX_BYTES``; the link page:
  ``LINK_FORM_MAX_BYTES``; anything else: ``OTHER_BODY_MAX_BYTES``).
- :class:`SessionLimitMiddleware` (signed-in requests): each principal holds at most ``MVSEP_SESSIONS_PER_USER``
  legacy sessions; a new one first closes that principal's least recently used idle session (through the transport's
  own ``DELETE``, as the client would), or is refused 429 with ``Retry-After`` when none is idle; at the SDK's global
  cap, the largest holder's idle sessions go first.
- :class:`CallRateMiddleware` (signed-in requests, after the scope check, which parsed the body): at most
  ``MVSEP_CALLS_PER_MINUTE`` tool calls and resource reads per principal; one more is answered at once, before it
  reaches the server: a tool call with a tool error naming the wait (the model reads it), a resource read with a
  JSON-RPC error, both with ``Retry-After``.

Without authentication (stdio, a loopback HTTP server for one user) only the body limits apply.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from mcp.server.auth.middleware.bearer_auth import AuthenticatedUser
from mcp.server.auth.provider import principal_components
from mcp_types.version import HANDSHAKE_PROTOCOL_VERSIONS, MODERN_PROTOCOL_VERSIONS
from starlette.datastructures import Headers
from starlette.middleware import Middleware
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from mvsep_mcp import policy
from mvsep_mcp.hosted.identity import User
from mvsep_mcp.hosted.limits import RateLimiter, SessionBook, retry_after_header
from mvsep_mcp.hosted.paths import LINK_PATH
from mvsep_mcp.hosted.settings import MCP_PATH

if TYPE_CHECKING:
    from mcp.server.mcpserver import MCPServer
    from starlette.applications import Starlette

    from mvsep_mcp.config import Settings

log = logging.getLogger(__name__)

JSONRPC_REQUESTS = "mvsep.jsonrpc_requests"  # the scope key under which the scope check leaves the parsed requests
SESSION_HEADER = b"mcp-session-id"
PROTOCOL_HEADER = "mcp-protocol-version"
LIMITED_METHODS = ("tools/call", "resources/read")
TOO_LARGE = b"Request body too large"


def guard(app: Starlette, server: MCPServer[Any], settings: Settings) -> None:
    """Add this module's middleware to ``app`` (before the request-id middleware is added, which stays outermost)."""
    hosted = settings.hosted
    if hosted.auth_configured:
        manager = server.session_manager
        book = SessionBook(hosted.sessions_per_user, manager.max_sessions, idle_s=manager.session_idle_timeout)
        calls = RateLimiter(hosted.calls_per_minute, max_keys=policy.RATE_LIMIT_KEYS_MAX)
        # appended: inside the SDK's authentication and the scope check, which leave the user and the parsed body
        app.user_middleware.append(Middleware(CallRateMiddleware, limiter=calls))
        app.user_middleware.append(Middleware(SessionLimitMiddleware, book=book))
    app.add_middleware(BodyLimitMiddleware, limit_for=body_limit)


def body_limit(path: str) -> int:
    if path == MCP_PATH:
        return policy.MCP_BODY_MAX_BYTES
    if path.startswith(LINK_PATH):
        return policy.LINK_FORM_MAX_BYTES
    return policy.OTHER_BODY_MAX_BYTES


def principal_of(scope: Scope) -> str | None:
    """The signed-in principal of a request (its user key), ``None`` without authentication."""
    user = scope.get("user")
    if not isinstance(user, AuthenticatedUser):
        return None
    client_id, issuer, subject = principal_components(user.access_token)
    return User.of(issuer, subject, client_id).key


async def respond(send: Send, status: int, body: bytes, headers: list[tuple[bytes, bytes]]) -> None:
    await send({"type": "http.response.start", "status": status,
                "headers": [*headers, (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})


class BodyLimitMiddleware:
    def __init__(self, app: ASGIApp, *, limit_for: Callable[[str], int]) -> None:
        self.app = app
        self.limit_for = limit_for

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.limit_for(str(scope.get("path", "")))
        declared = Headers(scope=scope).get("content-length")
        if declared is not None:
            if not declared.isdigit():
                await respond(send, 400, b"Invalid Content-Length", [(b"content-type", b"text/plain"),
                                                                     (b"connection", b"close")])
            elif int(declared) > limit:
                await self._too_large(send, limit)
            else:  # the server reads exactly the declared length: nothing more can arrive
                await self.app(scope, receive, send)
            return
        chunks: list[bytes] = []  # no declared length (chunked): read up to the limit, and not a byte more
        size = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                replay: list[Message] = [{"type": "http.request", "body": b"".join(chunks), "more_body": True},
                                         message]
                break
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > limit:
                await self._too_large(send, limit)
                return
            chunks.append(chunk)
            if not message.get("more_body", False):
                replay = [{"type": "http.request", "body": b"".join(chunks), "more_body": False}]
                break
        chunks.clear()

        async def replayed() -> Message:
            return replay.pop(0) if replay else await receive()

        await self.app(scope, replayed, send)

    @staticmethod
    async def _too_large(send: Send, limit: int) -> None:
        await respond(send, 413, TOO_LARGE + f" (at most {limit} bytes here)".encode(),
                      [(b"content-type", b"text/plain"), (b"connection", b"close")])


class SessionLimitMiddleware:
    def __init__(self, app: ASGIApp, *, book: SessionBook) -> None:
        self.app = app
        self.book = book

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        owner = principal_of(scope) if scope["type"] == "http" and scope.get("path") == MCP_PATH else None
        if owner is None:
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        session_id = headers.get(SESSION_HEADER.decode())
        if session_id is not None:
            await self._in_session(session_id, scope, receive, send)
            return
        version = headers.get(PROTOCOL_HEADER)
        if scope["method"] != "POST" or (version is not None and version not in HANDSHAKE_PROTOCOL_VERSIONS):
            await self.app(scope, receive, send)  # no session opens: a stateless (2026) request, or no POST
            return
        admission = self.book.admit(owner)
        for closed_id, opened_by in admission.close:
            await self._close(closed_id, opened_by)
        if admission.refused is not None:
            await self._refuse(send, admission.refused, admission.retry_after)
            return
        opened: list[str] = []

        async def watch(message: Message) -> None:
            if message["type"] == "http.response.start" and int(message["status"]) < 400:
                opened.extend(v.decode() for k, v in message.get("headers", []) if k == SESSION_HEADER)
            await send(message)

        try:
            await self.app(scope, receive, watch)
        finally:
            if opened:
                self.book.opened(owner, opened[0], _opening(scope))
            else:
                self.book.abandoned(owner)

    async def _in_session(self, session_id: str, scope: Scope, receive: Receive, send: Send) -> None:
        if not self.book.began(session_id):
            await self.app(scope, receive, send)
            return
        status = 0

        async def watch(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, watch)
        finally:
            self.book.finished(session_id)
            if status == 404 or (scope["method"] == "DELETE" and 200 <= status < 300):
                self.book.closed(session_id)

    async def _close(self, session_id: str, opened_by: Scope) -> None:
        """End a session as its client would: ``DELETE`` with its id, as the principal that opened it."""
        scope = {**opened_by, "method": "DELETE",
                 "headers": [*opened_by["headers"], (SESSION_HEADER, session_id.encode())]}

        async def nothing() -> Message:
            return {"type": "http.request", "body": b"", "more_body": False}

        async def discard(_message: Message) -> None:
            return None

        try:
            await self.app(scope, nothing, discard)
        except Exception as exc:  # the session may be ending by itself at this moment
            log.info("closing an idle session of a principal at its cap failed: %s", type(exc).__name__)

    @staticmethod
    async def _refuse(send: Send, who: str, retry_after: float) -> None:
        if who == "principal":
            message = ("Too many open sessions for this sign-in, none of them idle: end one (HTTP DELETE) or try "
                       "again later.")
            status, extra = 429, [(b"retry-after", retry_after_header(retry_after).encode())]
        else:
            message, status, extra = "Too many open sessions", 503, []
        body = json.dumps({"jsonrpc": "2.0", "id": None, "error": {"code": -32000, "message": message}}).encode()
        await respond(send, status, body, [(b"content-type", b"application/json"), *extra])


def _opening(scope: Scope) -> Scope:
    """What closing the session later needs of the request that opened it: who, and the headers the transport checks
    (``Host``, ``Origin``), without its body's."""
    kept = [(k, v) for k, v in scope["headers"] if k in (b"host", b"origin")]
    return {key: value for key, value in scope.items() if key not in ("headers", JSONRPC_REQUESTS)} | {
        "headers": kept, "query_string": b""}


class CallRateMiddleware:
    def __init__(self, app: ASGIApp, *, limiter: RateLimiter) -> None:
        self.app = app
        self.limiter = limiter

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        requests = scope.get(JSONRPC_REQUESTS) if scope["type"] == "http" else None
        limited = [r for r in requests or () if isinstance(r, dict) and r.get("method") in LIMITED_METHODS]
        owner = principal_of(scope) if limited else None
        if owner is None:
            await self.app(scope, receive, send)
            return
        wait = max(self.limiter.take(owner) for _ in limited)
        if wait <= 0:
            await self.app(scope, receive, send)
            return
        per_minute = int(self.limiter.capacity)
        seconds = retry_after_header(wait)
        modern = Headers(scope=scope).get(PROTOCOL_HEADER) in MODERN_PROTOCOL_VERSIONS
        answers = [_refusal(request, per_minute, seconds, modern) for request in limited if "id" in request]
        body = json.dumps(answers[0] if len(answers) == 1 else answers).encode()
        await respond(send, 200, body, [(b"content-type", b"application/json"),
                                        (b"retry-after", seconds.encode())])


def _refusal(request: dict[str, Any], per_minute: int, seconds: str, modern: bool) -> dict[str, Any]:
    sentence = (f"Too many calls from you: this server takes at most {per_minute} tool calls and resource reads a "
                f"minute from one user. Wait {seconds} seconds, then call again.")
    if request.get("method") == "tools/call":
        result: dict[str, Any] = {"content": [{"type": "text", "text": sentence}], "isError": True}
        if modern:  # the 2026 protocol names the kind of every result
            result["resultType"] = "complete"
        return {"jsonrpc": "2.0", "id": request["id"], "result": result}
    return {"jsonrpc": "2.0", "id": request["id"], "error": {"code": -32000, "message": sentence}}
