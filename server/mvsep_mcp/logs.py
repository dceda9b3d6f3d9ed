"""Logging to stderr (stdout is the MCP protocol stream), with every API token redacted.

The client never logs a token, but third-party loggers might (httpx logs request URLs, which carry ``api_token`` as a
query parameter on GET): their level is raised and a filter on the handler rewrites any ``api_token=…``, any bearer
token and any registered secret value to ``***`` as a last line of defence.

Served over HTTP, every line logged while a request is handled carries that request's id (``REQUEST_ID``, set by
the HTTP layer from a proxy's ``X-Request-Id`` or made up): ``[id]`` after the logger's name, or a field of its own
with ``MVSEP_LOG_FORMAT=json`` (one JSON object per line, for a log collector).
"""

from __future__ import annotations

import json
import logging
import re
import sys
from contextvars import ContextVar
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from mvsep_mcp import system
from mvsep_mcp.policy import LOG_SECRETS_MAX

_TOKEN_PARAM = re.compile(r"(api_token[\"']?\s*[=:]\s*[\"']?)[^&\s\"',}]+", re.IGNORECASE)
_BEARER = re.compile(r"(bearer\s+)[A-Za-z0-9._~+/=-]+", re.IGNORECASE)
_secrets: dict[str, None] = {}  # an ordered set: the oldest goes first when it is full
REQUEST_ID: ContextVar[str | None] = ContextVar("mvsep_request_id", default=None)
LOG_FORMATS = ("text", "json")


def register_secret(value: str | None) -> None:
    """Make ``value`` disappear from every log record from now on (the ``LOG_SECRETS_MAX`` most recent values: a
    hosted server registers every user's token, and each log line is checked against them all)."""
    if value and len(value) >= 6:
        _secrets.pop(value, None)
        _secrets[value] = None
        while len(_secrets) > LOG_SECRETS_MAX:
            del _secrets[next(iter(_secrets))]


def redact(text: str) -> str:
    text = _TOKEN_PARAM.sub(r"\1***", text)
    text = _BEARER.sub(r"\1***", text)
    for secret in list(_secrets):
        text = text.replace(secret, "***")
    return text


def redacted_url(url: str) -> str:
    """``url`` with its password (and any query, which may carry one) replaced by ``***``: safe to log or show."""
    parts = urlsplit(url)
    netloc = parts.netloc
    if "@" in netloc:
        userinfo, host = netloc.rsplit("@", 1)
        user = userinfo.split(":", 1)[0]
        netloc = f"{user}:***@{host}" if ":" in userinfo else f"{user}@{host}"
    return urlunsplit((parts.scheme, netloc, parts.path, "***" if parts.query else "", ""))


class RedactingFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        request_id = REQUEST_ID.get()
        record.request_id = request_id
        record.request_tag = f" [{request_id}]" if request_id else ""
        message = record.getMessage()
        cleaned = redact(message)
        if cleaned != message or record.args:
            record.msg, record.args = cleaned, None
        if record.exc_info and record.exc_info[1] is not None:
            # tracebacks are formatted later from exc_info: keep the type, redact the text
            exc = record.exc_info[1]
            record.exc_text = redact(logging.Formatter().formatException(record.exc_info))
            record.exc_info = None
            del exc
        return True


def protect_logs() -> None:
    """Quiet the libraries that log request URLs and redact every handler's records (idempotent).

    Called by ``create_server`` too, so that embedding the server without our CLI cannot leak a token either.
    """
    for noisy in ("httpx", "httpx2", "httpcore", "uvicorn.access"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    for handler in logging.getLogger().handlers:
        if not any(isinstance(f, RedactingFilter) for f in handler.filters):
            handler.addFilter(RedactingFilter())


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, request_id (and the traceback, when there is one)."""

    def format(self, record: logging.LogRecord) -> str:
        line = {"time": self.formatTime(record), "level": record.levelname, "logger": record.name,
                "message": record.getMessage(), "request_id": getattr(record, "request_id", None)}
        if record.exc_text or record.exc_info:
            line["exception"] = record.exc_text or self.formatException(record.exc_info)  # type: ignore[arg-type]
        return json.dumps(line, ensure_ascii=False)


class StderrHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """A stream handler that writes to whatever ``sys.stderr`` is at the time of the record, not at set-up: a
    server thread that outlives a replaced stderr (a test's capture, a host that swaps it) still logs."""

    @property
    def stream(self) -> Any:
        return sys.stderr

    @stream.setter
    def stream(self, _value: Any) -> None:
        pass


def stderr_in_utf8() -> None:
    """On Windows, stderr piped to a host is in the ANSI code page (cp1252…), where a song's name in another script
    comes out as ``\\u5742…`` escapes: write it in UTF-8 there (what hosts read), still never failing on a character.
    Elsewhere stderr is left as it is (UTF-8 already)."""
    reconfigure = getattr(sys.stderr, "reconfigure", None)
    if system.is_windows() and reconfigure is not None:
        reconfigure(encoding="utf-8", errors="backslashreplace")


def setup_logging(level: str = "INFO", fmt: str = "text") -> None:
    """Log to stderr through the redacting filter; quiet chatty libraries that would log URLs."""
    stderr_in_utf8()
    handler = StderrHandler()
    handler.setFormatter(JsonFormatter() if fmt == "json" else
                         logging.Formatter("%(asctime)s %(levelname)s %(name)s%(request_tag)s: %(message)s"))
    handler.addFilter(RedactingFilter())
    root = logging.getLogger()
    for existing in list(root.handlers):
        root.removeHandler(existing)
    root.addHandler(handler)
    root.setLevel(level.upper())
    protect_logs()
