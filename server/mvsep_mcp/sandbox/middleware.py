"""ASGI middleware of the sandbox: injected faults, rate limiting with MVSep's headers, PHP-style JSON.

Rate limiting applies to ``/api/...`` only (downloads are static files), keyed by the ``api_token`` query parameter
when there is one, else by the client address.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any
from urllib.parse import parse_qs

from starlette.datastructures import MutableHeaders
from starlette.responses import JSONResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from mvsep_mcp.sandbox.state import SandboxState

SERVICE_UNAVAILABLE_HTML = (
    "<!DOCTYPE HTML PUBLIC \"-//IETF//DTD HTML 2.0//EN\">\n<html><head>\n<title>{status} Service Temporarily "
    "Unavailable</title>\n</head><body>\n<h1>Service Temporarily Unavailable</h1>\n<p>The server is temporarily "
    "unable to service your request due to maintenance downtime or capacity problems. Please try again later.</p>\n"
    "</body></html>\n"
)


class PhpJSONResponse(JSONResponse):
    """JSON as PHP's ``json_encode`` writes it: ``\\/`` and ``\\uXXXX`` escapes."""

    def render(self, content: Any) -> bytes:
        return json.dumps(content, ensure_ascii=True, separators=(",", ":")).replace("/", "\\/").encode("ascii")


class SandboxMiddleware:
    def __init__(self, app: ASGIApp, state: SandboxState) -> None:
        self.app = app
        self.state = state

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope.get("path", "")
        rule = self.state.faults.take(scope.get("method", "GET"), path)
        if rule is not None:
            if rule.kind == "slow":
                await asyncio.sleep(rule.delay_s)
            else:
                await _fault_response(rule.kind, rule.status, rule.retry_after)(scope, receive, send)
                return
        if not path.startswith("/api/"):
            await self.app(scope, receive, send)
            return
        self.state.sweep()
        decision = self.state.rate_limiter.hit(_rate_key(scope))
        if not decision.allowed:
            response = PhpJSONResponse({"message": "Too Many Attempts."}, status_code=429, headers={
                "Retry-After": str(decision.retry_after),
                "X-RateLimit-Limit": str(decision.limit),
                "X-RateLimit-Remaining": "0",
            })
            await response(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                headers["X-RateLimit-Limit"] = str(decision.limit)
                headers["X-RateLimit-Remaining"] = str(decision.remaining)
                headers.setdefault("Cache-Control", "no-cache, private")
            await send(message)

        await self.app(scope, receive, send_with_headers)


def _rate_key(scope: Scope) -> str:
    query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
    token = (query.get("api_token") or [""])[0]
    if token:
        return f"token:{token}"
    client = scope.get("client") or ("unknown", 0)
    return f"ip:{client[0]}"


def _fault_response(kind: str, status: int, retry_after: int) -> Response:
    if kind == "rate_limit":
        return PhpJSONResponse({"message": "Too Many Attempts."}, status_code=429,
                               headers={"Retry-After": str(retry_after), "X-RateLimit-Remaining": "0"})
    if kind == "malformed":
        return Response(b'{"success":true,"status":"do', status_code=200, media_type="application/json")
    return Response(SERVICE_UNAVAILABLE_HTML.format(status=status), status_code=status, media_type="text/html")
