"""What a client sees when a fault fires: error pages and bodies, and changes to the sandbox's real answers.

Answers the sandbox gives *instead of* acting on a request are ``Answer`` values built here; answers it changes *after*
acting are captured from the app (``capture``), transformed, and written back (``emit``). Bodies are bytes exactly as
sent, so a test can compare them.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from starlette.types import Message, Receive, Scope, Send

from mvsep_mcp_testbench.sandbox.faults import DEFAULT_UNKNOWN_STATUS, FaultRule

SERVICE_UNAVAILABLE_HTML = (
    "<!DOCTYPE HTML PUBLIC \"-//IETF//DTD HTML 2.0//EN\">\n<html><head>\n<title>{status} Service Temporarily "
    "Unavailable</title>\n</head><body>\n<h1>Service Temporarily Unavailable</h1>\n<p>The server is temporarily "
    "unable to service your request due to maintenance downtime or capacity problems. Please try again later.</p>\n"
    "</body></html>\n"
)
NGINX_ERROR_HTML = (
    "<html>\r\n<head><title>{status} {phrase}</title></head>\r\n<body>\r\n"
    "<center><h1>{status} {phrase}</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n"
)
FILE_NOT_FOUND_BODY = b"Not Found"  # what the storage route answers for a missing file (text/html, 404)
WRONG_BODY_JSON = b'{"message":"Unauthenticated."}'  # 30 bytes, HTTP 200, where a stem file was promised
WRONG_BODY_HTML = (
    b"<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>Access denied - MVSep</title></head>\n"
    b"<body><h1>Access denied</h1><p>This file belongs to another account. Sign in with the account that created "
    b"it.</p></body></html>\n"
)
PHP_WARNING = (
    b"<br />\n<b>Warning</b>:  Undefined array key \"files\" in <b>/var/www/mvsep/app/Http/Controllers/"
    b"ApiController.php</b> on line <b>412</b><br />\n"
)
NOT_FOUND_MESSAGE = "Separation not found"
JSON_TYPE = "application/json"
HTML_TYPE = "text/html; charset=utf-8"


def php_json(content: Any) -> bytes:
    """JSON as PHP's ``json_encode`` writes it: ``\\/`` and ``\\uXXXX`` escapes."""
    return json.dumps(content, ensure_ascii=True, separators=(",", ":")).replace("/", "\\/").encode("ascii")


@dataclass
class Answer:
    """A complete HTTP answer: status, raw headers and the whole body."""

    status: int
    headers: list[tuple[bytes, bytes]] = field(default_factory=list)
    body: bytes = b""

    @classmethod
    def of(cls, status: int, body: bytes, content_type: str, extra: dict[str, str] | None = None) -> Answer:
        headers = [(b"content-type", content_type.encode("latin-1"))]
        headers += [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in (extra or {}).items()]
        return cls(status, headers, body).with_length()

    def header(self, name: str) -> str | None:
        wanted = name.lower().encode("latin-1")
        return next((v.decode("latin-1") for k, v in self.headers if k.lower() == wanted), None)

    def with_body(self, body: bytes) -> Answer:
        return Answer(self.status, list(self.headers), body).with_length()

    def with_length(self) -> Answer:
        self.headers = [(k, v) for k, v in self.headers if k.lower() != b"content-length"]
        self.headers.append((b"content-length", str(len(self.body)).encode("ascii")))
        return self

    def json(self) -> Any:
        """The body as JSON, or None when it is not JSON."""
        try:
            return json.loads(self.body)
        except ValueError:
            return None


async def capture(app: Callable[[Scope, Receive, Send], Awaitable[None]], scope: Scope, receive: Receive) -> Answer:
    """Run the app and keep its whole answer instead of sending it."""
    answer = Answer(500)
    chunks: list[bytes] = []

    async def keep(message: Message) -> None:
        if message["type"] == "http.response.start":
            answer.status = int(message["status"])
            answer.headers = [(bytes(k), bytes(v)) for k, v in message.get("headers", [])]
        elif message["type"] == "http.response.body":
            chunks.append(bytes(message.get("body", b"")))

    await app(scope, receive, keep)
    answer.body = b"".join(chunks)
    return answer


async def emit(answer: Answer, send: Send, *, limit: int | None = None) -> None:
    """Send the answer; with ``limit``, only that many body bytes and no end of body (the caller then drops)."""
    await send({"type": "http.response.start", "status": answer.status, "headers": answer.headers})
    if limit is None:
        await send({"type": "http.response.body", "body": answer.body, "more_body": False})
    elif limit > 0:
        await send({"type": "http.response.body", "body": answer.body[:limit], "more_body": True})


# --- answers given instead of acting on the request -----------------------------------------------------------------


def error_answer(status: int, body: str) -> Answer:
    """An error page: Apache's 503 or nginx's page for other codes (``html``), or Laravel's JSON (``json``)."""
    phrase = _phrase(status)
    if body == "json":
        message = "Server Error" if status == 500 else phrase
        return Answer.of(status, php_json({"message": message}), JSON_TYPE)
    if status == 503:
        return Answer.of(status, SERVICE_UNAVAILABLE_HTML.format(status=status).encode("ascii"), HTML_TYPE)
    return Answer.of(status, NGINX_ERROR_HTML.format(status=status, phrase=phrase).encode("ascii"), HTML_TYPE)


def rate_limit_answer(retry_after: int | None) -> Answer:
    extra = {"X-RateLimit-Remaining": "0"}
    if retry_after is not None:
        extra["Retry-After"] = str(retry_after)
    return Answer.of(429, php_json({"message": "Too Many Attempts."}), JSON_TYPE, extra)


def not_found_answer(rule: FaultRule) -> Answer:
    """A known job answered as unknown: an HTTP error (JSON or HTML), or HTTP 200 with a not_found envelope."""
    body = rule.body_or_default()
    if rule.status == 200:
        envelope = {"success": body == "true", "status": "not_found", "data": {"message": NOT_FOUND_MESSAGE}}
        return Answer.of(200, php_json(envelope), JSON_TYPE)
    if body == "html":
        return error_answer(rule.status, "html")
    return Answer.of(rule.status, php_json({"success": False, "message": NOT_FOUND_MESSAGE}), JSON_TYPE)


def vanished_answer() -> Answer:
    return Answer.of(404, FILE_NOT_FOUND_BODY, "text/html")


def wrong_body_answer(body: str) -> Answer:
    if body == "html":
        return Answer.of(200, WRONG_BODY_HTML, HTML_TYPE)
    return Answer.of(200, WRONG_BODY_JSON, JSON_TYPE)


# --- changes to the sandbox's real answers --------------------------------------------------------------------------


def truncated(answer: Answer, fraction: float) -> Answer | None:
    """The answer cut to ``fraction`` of its body (at least one byte shorter); None when there is no body."""
    if not answer.body:
        return None
    keep = min(len(answer.body) - 1, int(len(answer.body) * fraction))
    return answer.with_body(answer.body[:keep])


def malformed(answer: Answer) -> Answer:
    return answer.with_body(PHP_WARNING + answer.body)


def with_status(answer: Answer, text: str | None) -> Answer | None:
    """The answer with its ``status`` field replaced; None when it has none."""
    content = answer.json()
    if not isinstance(content, dict) or "status" not in content:
        return None
    content["status"] = text or DEFAULT_UNKNOWN_STATUS
    return answer.with_body(php_json(content))


def result_files(answer: Answer) -> list[dict[str, Any]]:
    """``data.files`` of a done result, or [] for any other answer."""
    content = answer.json()
    if not isinstance(content, dict) or content.get("status") != "done":
        return []
    data = content.get("data")
    files = data.get("files") if isinstance(data, dict) else None
    if not isinstance(files, list):
        return []
    return [f for f in files if isinstance(f, dict) and isinstance(f.get("url"), str)]


def with_file_hosts(answer: Answer, urls: set[str], netloc: str) -> Answer:
    """The result with these ``files[].url`` moved to another host (and port)."""
    content = answer.json()
    for item in content["data"]["files"]:
        if isinstance(item, dict) and item.get("url") in urls:
            parts = urlsplit(item["url"])
            item["url"] = urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))
    return answer.with_body(php_json(content))


def foreign_netloc(request_host: str, wanted: str | None) -> str:
    """Another loopback host name for the same port: ``127.0.0.1`` <-> ``localhost`` unless ``wanted`` names one."""
    hostname, port = split_host(request_host)
    if wanted:
        name, wanted_port = split_host(wanted)
        return join_host(name, wanted_port or port)
    return join_host("127.0.0.1" if hostname == "localhost" else "localhost", port)


def split_host(value: str) -> tuple[str, str | None]:
    """``("::1", "8765")`` from ``[::1]:8765``; a bare IPv6 address or a name without port gives port None."""
    if value.startswith("["):
        name, _, rest = value[1:].partition("]")
        return name, rest[1:] if rest.startswith(":") else None
    if value.count(":") == 1:
        name, port = value.split(":")
        return name, port
    return value, None


def join_host(name: str, port: str | None) -> str:
    shown = f"[{name}]" if ":" in name else name
    return f"{shown}:{port}" if port else shown


def _phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"
