"""The exceptions raised by the MVSep client.

``MVSepError`` and its subclasses (drawn in ARCHITECTURE.md, "Error tree"): transport failures (nothing is known
of what the server did) and answers of MVSep (``APIError``, one subclass per kind of status) on separate branches.

Every error carries the request as ``.method`` and ``.path`` (the endpoint path, never the query string) and its text
has the API token redacted (``api_token=***``): the client builds them through :mod:`mvsep_mcp.mvsep._redact`.
All errors are permanent from the caller's point of view: the client has already retried what was safe to retry.
``MVSepError`` is the MVSep branch of the product's one error tree (:mod:`mvsep_mcp.errors`): ``str()`` is the text for
logs (with the request line), :meth:`~MVSepError.user_text` the sentence for the user, naming the fix.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from mvsep_mcp.errors import UserError

__all__ = [
    "MVSepError",
    "MissingTokenError",
    "TransportError",
    "ConnectError",
    "TimeoutError",
    "AmbiguousCreateError",
    "UntrustedHostError",
    "APIError",
    "BadRequestError",
    "AuthenticationError",
    "RateLimitError",
    "ServerError",
    "InvalidResponseError",
]

MISSING_TOKEN_HINT = (
    "No MVSep API token is configured: set the MVSEP_API_TOKEN environment variable "
    "or run `mvsep-mcp login` (get a token at https://mvsep.com/user-api)."
)
TOKEN_HELP = (
    "No MVSep API token is set. Add MVSEP_API_TOKEN to this server's environment in your MCP client's configuration "
    "(in Claude Desktop: the bundle's 'MVSep API token' field), or run `mvsep-mcp login` in a terminal; "
    "get a token at https://mvsep.com/user-api. Then call this tool again."
)


class MVSepError(UserError):
    """Base class of everything the client raises on purpose."""

    def __init__(self, message: str, *, method: str | None = None, path: str | None = None) -> None:
        super().__init__(message)
        self.method = method
        self.path = path

    def user_text(self) -> str:
        return f"MVSep call failed: {self.message}"

    @property
    def request_line(self) -> str:
        """``"POST /separation/create"`` (redacted: a path only, never a query string)."""
        if self.method and self.path:
            return f"{self.method} {self.path}"
        return self.path or ""

    def __str__(self) -> str:
        line = self.request_line
        return f"{self.message} ({line})" if line else self.message


class MissingTokenError(MVSepError):
    """The method needs an API token and the client has none."""

    def __init__(self, *, method: str | None = None, path: str | None = None) -> None:
        super().__init__(MISSING_TOKEN_HINT, method=method, path=path)

    def user_text(self) -> str:
        return TOKEN_HELP


class TransportError(MVSepError):
    """No usable answer came back; nothing is known about what the server did with the request."""

    def user_text(self) -> str:
        return (
            f"Could not reach MVSep ({self.message}). Check the internet connection or MVSEP_BASE_URL, "
            "then call this tool again."
        )


class ConnectError(TransportError):
    """The connection could not be made (so the request was never sent)."""


class TimeoutError(TransportError):  # noqa: A001 - mirrors httpx naming
    """The connection was made but the answer did not arrive (or stopped arriving) in time."""


class AmbiguousCreateError(MVSepError):
    """``POST /separation/create`` was sent and no conclusive answer came back: the job may or may not exist.

    The client never re-sends a create in that case, because a blind retry may start (and bill) the job twice.
    How the caller resolves it: list ``separation_history()`` (newest first) and look for an entry created at or after
    :attr:`sent_at` (allow a minute of clock skew) whose hash ends with the slug of :attr:`file_name` and whose
    ``algorithm.render_id`` equals :attr:`sep_type`. If one is found, adopt its hash; if none appears after a short wait
    (MVSep registers the job before answering), it is safe to create again.

    ``status_code`` is set when a gateway answered for MVSep (500/502/504): the request reached the service and may have
    been processed. It is ``None`` when the connection broke or timed out after the request was sent.
    ``cut_off`` is true when the server reset the connection before any answer: a socket closed with request bytes
    still unread sends a reset, so the server never read the whole request and cannot have acted on it; once the
    history confirms that no such job exists, creating it again is safe.
    """

    def __init__(
        self,
        message: str,
        *,
        sep_type: int,
        file_name: str | None,
        sent_at: datetime,
        status_code: int | None = None,
        cut_off: bool = False,
        method: str | None = "POST",
        path: str | None = "/separation/create",
    ) -> None:
        super().__init__(message, method=method, path=path)
        self.sep_type = sep_type
        self.file_name = file_name
        self.sent_at = sent_at
        self.status_code = status_code
        self.cut_off = cut_off


class UntrustedHostError(MVSepError):
    """MVSep's answer pointed a download at a host that is neither its site nor an allowed mirror: not fetched."""

    def __init__(self, host: str, *, method: str | None = "GET", path: str | None = None) -> None:
        super().__init__(
            f"a result file was offered from {host}, which is not MVSep's site nor an allowed mirror, so it was not "
            f"fetched (add the host to MVSEP_DOWNLOAD_HOSTS if it is a mirror you trust)",
            method=method, path=path)
        self.host = host

    def user_text(self) -> str:
        return f"MVSep's answer was not followed: {self.message}."


class APIError(MVSepError):
    """MVSep answered with an error.

    ``status_code`` is the HTTP status, ``message`` MVSep's own text (read from ``errors[]``, then ``data.message``,
    then ``message``), ``body`` the decoded JSON body (or a truncated text body), with the token redacted.
    """

    def __init__(
        self,
        message: str,
        *,
        status_code: int,
        body: Any = None,
        method: str | None = None,
        path: str | None = None,
    ) -> None:
        super().__init__(message, method=method, path=path)
        self.status_code = status_code
        self.body = body

    def user_text(self) -> str:
        return f"MVSep answered with an error (HTTP {self.status_code}): {self.message}."

    def __str__(self) -> str:
        line = self.request_line
        where = f" ({line})" if line else ""
        return f"MVSep answered HTTP {self.status_code}: {self.message}{where}"


class BadRequestError(APIError):
    """HTTP 400 (or another 4xx): a permanent refusal (bad option, premium-only model, concurrency limit, ...)."""

    def user_text(self) -> str:
        message = self.message.rstrip(".")
        if self.status_code in (404, 405) and self.path and not self.path.startswith("/storage"):
            return (
                f"MVSep's API has no {self.request_line} (HTTP {self.status_code}): the base URL is probably wrong. "
                f"Set MVSEP_BASE_URL to the API's address, e.g. https://mvsep.com/api (note the /api), restart the "
                f"server, and call this tool again."
            )
        if "premium" in message.lower():
            return (
                f"MVSep refused: {message}. Choose a model your account may use (search_models with "
                "usable_only=true) or buy premium on mvsep.com."
            )
        return f"MVSep refused the request: {message}. Fix the request and call again."


class AuthenticationError(APIError):
    """HTTP 401 or an "invalid token" message: the API token is wrong or revoked."""

    def user_text(self) -> str:
        return (
            'MVSep refused the API token ("invalid token"). Copy it again from https://mvsep.com/user-api into '
            "MVSEP_API_TOKEN (or run `mvsep-mcp login`), restart the server, and call this tool again."
        )


class RateLimitError(APIError):
    """HTTP 429 that persisted through the retries (or asked for a wait longer than policy allows)."""

    def __init__(self, message: str, *, retry_after: float | None = None, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.retry_after = retry_after

    def user_text(self) -> str:
        wait = f"{self.retry_after:.0f} seconds" if self.retry_after else "a minute"
        return f"MVSep is rate-limiting requests (HTTP 429). Wait {wait}, then call this tool again."


class ServerError(APIError):
    """HTTP 5xx that persisted through the retries (or was not safe to retry)."""

    def user_text(self) -> str:
        return f"MVSep is having trouble (HTTP {self.status_code}); nothing was lost. Call this tool again in a minute."


class InvalidResponseError(APIError):
    """A 2xx answer whose body is not JSON or not the shape the endpoint documents."""

    def user_text(self) -> str:
        return "MVSep sent an answer we could not read; it may be under maintenance. Call this tool again in a minute."

