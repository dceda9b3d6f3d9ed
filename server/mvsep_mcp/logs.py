"""Logging to stderr (stdout is the MCP protocol stream): nothing in a log line opens a door, and no line is forged.

- **Secrets.** The client never logs a token, but third-party loggers might (httpx logs request URLs, which carry
  ``api_token`` as a query parameter on GET): their level is raised, and every record has any ``api_token=…``, any
  bearer token, any capability URL (a link ticket, a signed download: ``hosted.paths``) and any registered secret
  replaced by ``***``. Only values this server trusts are registered (:func:`register_secret`): a token MVSep
  accepted, the configured token, database password and server key. The set is bounded and never drops one: at its
  bound a new value is refused, and its caller does not use it.
- **Forgery.** Control characters (line breaks, escape sequences, C1 controls, Unicode line separators and bidi
  overrides) in a message are written as escapes (``\\n``, ``\\x1b``, ``\\u2028``), in the text and JSON formats
  alike, so a request's path, header or name can never start a line of its own or repaint the terminal; a
  traceback's lines are indented under its record.
- **Before any logger sees them.** Both happen when the record is made (``protect_logs`` installs a record factory),
  so every handler, the SDK's own lines included (``Tool 'x' failed: …`` with a link in its text), gets the clean
  record; the handler's filter does it again for records made elsewhere.

Served over HTTP, every line logged while a request is handled carries that request's id (``REQUEST_ID``, set by
the HTTP layer from a proxy's ``X-Request-Id`` or made up): ``[id]`` after the logger's name, or a field of its own
with ``MVSEP_LOG_FORMAT=json`` (one JSON object per line, for a log collector).
"""

from __future__ import annotations

import json
import logging
import re
import sys
import threading
from collections.abc import Callable
from contextvars import ContextVar
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from mvsep_mcp import system
from mvsep_mcp.hosted.paths import CAPABILITY_PATHS
from mvsep_mcp.policy import LOG_SECRETS_MAX

_TOKEN_PARAM = re.compile(r"(api_token[\"']?\s*[=:]\s*[\"']?)[^&\s\"',}]+", re.IGNORECASE)
_BEARER = re.compile(r"(bearer\s+)[A-Za-z0-9._~+/=-]+", re.IGNORECASE)
_CAPABILITY_URL = re.compile(r"(https?://[^/\s\"'<>]+(?:" + "|".join(map(re.escape, CAPABILITY_PATHS)) +
                             r"))[^/\s\"'<>]+")
# C0 and C1 controls, DEL, the Unicode line and paragraph separators, and the bidi embeddings, overrides and isolates
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")
_CONTROL_BUT_NEWLINE = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")
_SHORT_ESCAPES = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}
_secrets: dict[str, int] = {}  # each trusted value and how many holders registered it
_secrets_lock = threading.Lock()
REQUEST_ID: ContextVar[str | None] = ContextVar("mvsep_request_id", default=None)
LOG_FORMATS = ("text", "json")
SECRET_MIN_CHARS = 6  # shorter values would blank ordinary words


def register_secret(value: str | None) -> bool:
    """Keep ``value`` (a value this server trusts: a token MVSep accepted, a configured secret) out of every log
    record from now on, until as many :func:`forget_secret` calls. ``False`` when the set is full
    (``LOG_SECRETS_MAX``): the value is then not protected, and a caller that can must not use it."""
    if not value or len(value) < SECRET_MIN_CHARS:
        return True
    with _secrets_lock:
        if value not in _secrets and len(_secrets) >= LOG_SECRETS_MAX:
            return False
        _secrets[value] = _secrets.get(value, 0) + 1
    return True


def forget_secret(value: str | None) -> None:
    """One holder of ``value`` no longer uses it; the last one takes it out of the set."""
    if not value:
        return
    with _secrets_lock:
        left = _secrets.get(value, 0) - 1
        if left > 0:
            _secrets[value] = left
        else:
            _secrets.pop(value, None)


def redact(text: str) -> str:
    text = _TOKEN_PARAM.sub(r"\1***", text)
    text = _BEARER.sub(r"\1***", text)
    text = _CAPABILITY_URL.sub(r"\1***", text)
    for secret in list(_secrets):
        text = text.replace(secret, "***")
    return text


def _escape(match: re.Match[str]) -> str:
    char = match.group()
    return _SHORT_ESCAPES.get(char) or (f"\\x{ord(char):02x}" if ord(char) < 0x100 else f"\\u{ord(char):04x}")


def escape_controls(text: str) -> str:
    """``text`` on one line, with nothing a terminal or a log reader would act on: every control character as an
    escape."""
    return _CONTROL.sub(_escape, text)


def clean(text: str) -> str:
    """What a log line may show of ``text``: secrets redacted, control characters escaped."""
    return escape_controls(redact(text))


def clean_traceback(text: str) -> str:
    """A traceback as a log may show it: redacted, controls escaped but its own line breaks kept, and every line
    indented, so that no text in it (an exception's message) can pass for a record of its own."""
    lines = _CONTROL_BUT_NEWLINE.sub(_escape, redact(text)).split("\n")
    return "\n".join("  " + line if line else line for line in lines)


def redacted_url(url: str) -> str:
    """``url`` with its password (and any query, which may carry one) replaced by ``***``: safe to log or show."""
    parts = urlsplit(url)
    netloc = parts.netloc
    if "@" in netloc:
        userinfo, host = netloc.rsplit("@", 1)
        user = userinfo.split(":", 1)[0]
        netloc = f"{user}:***@{host}" if ":" in userinfo else f"{user}@{host}"
    return urlunsplit((parts.scheme, netloc, parts.path, "***" if parts.query else "", ""))


def clean_record(record: logging.LogRecord) -> None:
    """Make ``record`` safe to write: its message cleaned (its arguments kept apart where that gives the same text,
    for formatters that read them), its traceback formatted now and cleaned."""
    if getattr(record, "mvsep_clean", False):
        return
    record.mvsep_clean = True
    try:
        message = record.getMessage()
    except Exception:  # a record whose arguments do not fit its format: the handler reports it
        return
    cleaned = clean(message)
    if cleaned != message:
        args = record.args
        if isinstance(args, tuple):
            for each in (redact, clean):  # %r escapes by itself: redacting is then enough
                kept = tuple(each(a) if isinstance(a, str) else a for a in args)
                try:
                    same = (str(record.msg) % kept) == cleaned
                except (TypeError, ValueError):
                    same = False
                if same:
                    record.args = kept
                    return _clean_exception(record)
        record.msg, record.args = cleaned, None
    _clean_exception(record)


def _clean_exception(record: logging.LogRecord) -> None:
    if record.exc_info and record.exc_info[1] is not None and not record.exc_text:
        record.exc_text = clean_traceback(logging.Formatter().formatException(record.exc_info))
    if record.stack_info:
        record.stack_info = clean_traceback(record.stack_info)


class RedactingFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        request_id = REQUEST_ID.get()
        record.request_id = request_id
        record.request_tag = f" [{request_id}]" if request_id else ""
        clean_record(record)
        if record.exc_info:  # formatted (and cleaned) already: the exception itself is not kept with the record
            record.exc_info = None
        return True


def _install_record_factory() -> None:
    """Every record of the process is cleaned as it is made (idempotent)."""
    current = logging.getLogRecordFactory()
    if getattr(current, "mvsep_cleaning", False):
        return

    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = current(*args, **kwargs)
        clean_record(record)
        return record

    cleaning: Callable[..., logging.LogRecord] = factory
    cleaning.mvsep_cleaning = True  # type: ignore[attr-defined]
    logging.setLogRecordFactory(cleaning)


def protect_logs() -> None:
    """Quiet the libraries that log request URLs, clean every record as it is made and filter every handler's
    records (idempotent).

    Called by ``create_server`` too, so that embedding the server without our CLI cannot leak a token either.
    """
    for noisy in ("httpx", "httpx2", "httpcore", "uvicorn.access"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    _install_record_factory()
    for handler in logging.getLogger().handlers:
        if not any(isinstance(f, RedactingFilter) for f in handler.filters):
            handler.addFilter(RedactingFilter())


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, request_id (and the traceback, when there is one)."""

    def format(self, record: logging.LogRecord) -> str:
        clean_record(record)
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
