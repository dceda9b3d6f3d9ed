"""Reading MVSep's non-uniform answers: JSON decoding, error detection, message extraction, error mapping.

Accepted shapes: ``{success, data}``, ``{success, message}``, ``{success:false, message:{field:[..]}}``,
``{success:false, errors:[..]}``, ``{success:false, data:{message}}``, bare arrays, objects without ``success``,
``status`` beside ``data``, and non-JSON (HTML) bodies on 5xx.
"""

from __future__ import annotations

import html
import json
import re
from typing import Any

import httpx

from mvsep_mcp.mvsep import errors
from mvsep_mcp.mvsep._redact import Redactor
from mvsep_mcp.mvsep.retry import parse_retry_after
from mvsep_mcp.policy import ERROR_BODY_MAX_CHARS, ERROR_MESSAGE_MAX_CHARS

_TITLE_RE = re.compile(r"<title[^>]*>(.*?)</title>", re.IGNORECASE | re.DOTALL)
_TAG_RE = re.compile(r"<[^>]+>")
_SPACE_RE = re.compile(r"\s+")
_INVALID_TOKEN_RE = re.compile(r"invalid[\s_-]*(api[\s_-]*)?token|token[\s_-]*(is[\s_-]*)?invalid", re.IGNORECASE)

_NO_BODY = object()


def decode_body(response: httpx.Response) -> Any:
    """The JSON body, or ``_NO_BODY`` when it is empty or not JSON."""
    content = response.content
    if not content or not content.strip():
        return _NO_BODY
    try:
        return json.loads(content)
    except (ValueError, UnicodeDecodeError):
        return _NO_BODY


def _join_messages(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, str):
        return value.strip() or None
    if isinstance(value, list):
        parts = [p for p in (_join_messages(v) for v in value) if p]
        return "; ".join(parts) or None
    if isinstance(value, dict):
        parts = []
        for key, item in value.items():
            text = _join_messages(item)
            if text:
                parts.append(f"{key}: {text}")
        return "; ".join(parts) or None
    return str(value)


def extract_message(body: Any) -> str | None:
    """MVSep's own text: ``errors[]``, then ``data.message``, then ``message`` (a string or a field dict)."""
    if not isinstance(body, dict):
        return None
    found = _join_messages(body.get("errors"))
    if found:
        return found
    data = body.get("data")
    if isinstance(data, dict):
        found = _join_messages(data.get("message"))
        if found:
            return found
    found = _join_messages(body.get("message"))
    if found:
        return found
    return _join_messages(body.get("error"))


def _text_summary(response: httpx.Response) -> str:
    text = response.text if response.content else ""
    title = _TITLE_RE.search(text)
    if title:
        summary = title.group(1)
    else:
        summary = _TAG_RE.sub(" ", text)
    summary = _SPACE_RE.sub(" ", html.unescape(summary)).strip()
    return summary or response.reason_phrase or "no body"


def is_failure(response: httpx.Response, body: Any) -> bool:
    """An HTTP error status, or a JSON object that says ``success: false`` / carries ``errors``."""
    if response.status_code >= 400:
        return True
    if isinstance(body, dict):
        if body.get("success") is False or body.get("success") in (0, "false"):
            return True
        if body.get("success") is None and body.get("errors"):
            return True
    return False


def build_error(
    response: httpx.Response,
    body: Any,
    *,
    method: str,
    path: str,
    redactor: Redactor,
) -> errors.APIError:
    """The :class:`mvsep_mcp.mvsep.errors.APIError` subclass for a failed answer (token redacted everywhere)."""
    status = response.status_code
    if body is _NO_BODY:
        message = _text_summary(response)
        kept: Any = redactor.text((response.text or "")[:ERROR_BODY_MAX_CHARS])
    else:
        message = extract_message(body) or f"HTTP {status} {response.reason_phrase}".strip()
        kept = redactor.json(body)
    message = redactor.text(message)
    if len(message) > ERROR_MESSAGE_MAX_CHARS:
        message = message[: ERROR_MESSAGE_MAX_CHARS - 1] + "…"
    kwargs: dict[str, Any] = {"status_code": status, "body": kept, "method": method, "path": path}
    if status == 401 or _INVALID_TOKEN_RE.search(message):
        return errors.AuthenticationError(message, **kwargs)
    if status == 429:
        retry_after = parse_retry_after(response.headers.get("Retry-After"))
        return errors.RateLimitError(message, retry_after=retry_after, **kwargs)
    if status >= 500:
        return errors.ServerError(message, **kwargs)
    if 200 <= status < 300 and body is _NO_BODY:
        return errors.InvalidResponseError(f"expected JSON, got: {message}", **kwargs)
    return errors.BadRequestError(message, **kwargs)
