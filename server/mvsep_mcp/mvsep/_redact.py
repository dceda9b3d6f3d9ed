"""Removing the API token from anything the client writes: error texts, bodies kept on errors, URLs, log lines.

Two layers: the literal token the client holds is replaced wherever it appears, and anything that looks like an
``api_token`` assignment (query string, form echo, JSON key) is masked even when it is some other token.
"""

from __future__ import annotations

import re
from typing import Any

MASK = "***"

_QUERY_RE = re.compile(r"(api_token=)[^&\s\"'<>]*", re.IGNORECASE)
_JSON_RE = re.compile(r"(\"api_token\"\s*:\s*)(\"[^\"]*\"|null)", re.IGNORECASE)
_TOKEN_KEYS = frozenset({"api_token", "token", "password"})


class Redactor:
    """Masks one client's token (and any ``api_token`` value) in text and decoded JSON."""

    def __init__(self, token: str | None) -> None:
        self._token = token or None

    def text(self, value: str) -> str:
        if self._token:
            value = value.replace(self._token, MASK)
        value = _QUERY_RE.sub(rf"\g<1>{MASK}", value)
        return _JSON_RE.sub(rf'\g<1>"{MASK}"', value)

    def json(self, value: Any) -> Any:
        """A copy of decoded JSON with token-bearing keys masked and the token removed from every string."""
        if isinstance(value, dict):
            return {
                k: (MASK if isinstance(k, str) and k.lower() in _TOKEN_KEYS and v is not None else self.json(v))
                for k, v in value.items()
            }
        if isinstance(value, list):
            return [self.json(v) for v in value]
        if isinstance(value, str):
            return self.text(value)
        return value

    def __repr__(self) -> str:
        return "Redactor(token=***)" if self._token else "Redactor(token=None)"
