"""Sending one API request with the retry policy applied; request statistics.

The engine owns the ``httpx.AsyncClient``. Each attempt builds a fresh request (and so a fresh upload stream that
re-opens the files). The token is added here (query on GET, form field on POST) and nowhere else; log lines and
errors carry the endpoint path only, never the query string or form.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

import httpx

from mvsep_mcp.mvsep import errors
from mvsep_mcp.mvsep._envelope import build_error, decode_body, is_failure
from mvsep_mcp.mvsep._forms import StreamingMultipart
from mvsep_mcp.mvsep._redact import Redactor
from mvsep_mcp.mvsep.retry import (
    NOT_SENT_ERRORS,
    Idempotency,
    RetryPolicy,
    create_status_is_ambiguous,
    exception_is_retryable,
    parse_retry_after,
    status_is_retryable,
)

logger = logging.getLogger("mvsep_mcp.mvsep")

Sleep = Callable[[float], Awaitable[Any]]
Auth = Literal["required", "optional", "none"]


@dataclass
class RequestStats:
    """What the client has done so far (read by the job runner, tests and benchmarks)."""

    requests: Counter[str] = field(default_factory=Counter)  # attempts handed to the transport, per endpoint path
    creates_sent: int = 0  # create attempts that reached (or may have reached) MVSep
    retries: int = 0  # repeated attempts, API calls and downloads together
    downloads: int = 0  # completed downloads
    bytes_downloaded: int = 0

    @property
    def total_requests(self) -> int:
        return sum(self.requests.values())

    def add(self, other: RequestStats) -> None:
        """Count ``other``'s requests in these too (a closed client's, kept for counters that never go back)."""
        self.requests.update(other.requests)
        self.creates_sent += other.creates_sent
        self.retries += other.retries
        self.downloads += other.downloads
        self.bytes_downloaded += other.bytes_downloaded


@dataclass(frozen=True)
class CreateContext:
    """What an :class:`mvsep_mcp.mvsep.errors.AmbiguousCreateError` needs to name the job."""

    sep_type: int
    file_name: str | None


def transport_error(exc: Exception, *, method: str, path: str, redactor: Redactor) -> errors.TransportError:
    detail = redactor.text(str(exc)) or type(exc).__name__
    if isinstance(exc, (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)):
        return errors.ConnectError(f"could not connect to MVSep: {detail}", method=method, path=path)
    if isinstance(exc, httpx.TimeoutException):
        return errors.TimeoutError(f"MVSep did not answer in time ({type(exc).__name__})", method=method, path=path)
    return errors.TransportError(f"the connection to MVSep failed: {type(exc).__name__}: {detail}",
                                 method=method, path=path)


CLOSED = "Cannot send a request, as the client has been closed."  # httpx's own words, for a shared pool too


class Engine:
    def __init__(
        self,
        *,
        token: str | None,
        base_url: str,
        client: httpx.AsyncClient,
        policy: RetryPolicy,
        sleep: Sleep,
        stats: RequestStats,
    ) -> None:
        self.token = token or None
        self.base_url = base_url.rstrip("/")
        self.client = client
        self.policy = policy
        self.sleep = sleep
        self.stats = stats
        self.redactor = Redactor(self.token)
        self.closed = False  # its client let go (a shared pool stays open for the others): nothing more is sent

    def check_open(self) -> None:
        if self.closed:
            raise RuntimeError(CLOSED)

    def _build(
        self,
        method: str,
        path: str,
        params: Mapping[str, Any] | None,
        fields: Mapping[str, str] | None,
        files: Sequence[tuple[str, Path]],
        auth: Auth,
        on_body_sent: Callable[[], None] | None = None,
    ) -> httpx.Request:
        self.check_open()
        query = {k: str(v) for k, v in (params or {}).items() if v is not None}
        form = dict(fields or {})
        if auth == "required" and not self.token:
            raise errors.MissingTokenError(method=method, path=path)
        if self.token and auth != "none":
            if method == "GET":
                query["api_token"] = self.token
            else:
                form["api_token"] = self.token
        if method == "GET":
            return self.client.build_request(method, self.base_url + path, params=query or None)
        body = StreamingMultipart(form, files, before_last=on_body_sent)  # a fresh stream per attempt
        # an explicit Content-Length keeps httpx from switching to chunked transfer encoding
        return self.client.build_request(method, self.base_url + path, params=query or None,
                                         headers=body.headers, content=body)

    async def call(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        fields: Mapping[str, str] | None = None,
        files: Sequence[tuple[str, Path]] = (),
        auth: Auth = "none",
        idempotency: Idempotency = Idempotency.SAFE,
        create: CreateContext | None = None,
        tolerate: Callable[[Any], bool] | None = None,
        on_body_sent: Callable[[], None] | None = None,
    ) -> Any:
        """Send with retries; return the decoded JSON body (or raise an :mod:`mvsep_mcp.mvsep.errors` error).

        ``tolerate(body)`` lets an endpoint accept a ``success: false`` answer as a result (cancel's ``false``,
        get's ``not_found``); authentication, rate-limit and server errors are raised regardless.
        ``on_body_sent()`` is called just before the last bytes of a form body go out (see ``StreamingMultipart``).
        """
        retry_no = 0
        while True:
            request = self._build(method, path, params, fields, files, auth, on_body_sent)
            self.stats.requests[path] += 1
            sent_at = datetime.now(UTC)
            logger.debug("MVSep %s %s (attempt %d)", method, path, retry_no + 1)
            failure: httpx.TransportError | None = None
            try:
                response = await self.client.send(request)
            except httpx.TransportError as exc:
                failure = exc
            if failure is not None:
                # raised outside the except block: httpx's exception (whose request URL holds the token on GETs)
                # must not travel along as __context__
                if create is not None and not isinstance(failure, NOT_SENT_ERRORS):
                    self.stats.creates_sent += 1
                    raise self._ambiguous(create, sent_at, None, failure)
                if exception_is_retryable(failure, idempotency) and retry_no < self.policy.max_retries:
                    await self._wait(retry_no, None, f"{type(failure).__name__} on {method} {path}")
                    retry_no += 1
                    continue
                raise transport_error(failure, method=method, path=path, redactor=self.redactor)
            if create is not None:
                self.stats.creates_sent += 1
            body = decode_body(response)
            logger.debug("MVSep %s %s -> HTTP %d", method, path, response.status_code)
            status = response.status_code
            if status >= 400 and status_is_retryable(status, idempotency) and retry_no < self.policy.max_retries:
                retry_after = parse_retry_after(response.headers.get("Retry-After"))
                if self.policy.retry_after_acceptable(retry_after):
                    await self._wait(retry_no, retry_after, f"HTTP {status} on {method} {path}")
                    retry_no += 1
                    continue
            if create is not None and create_status_is_ambiguous(status):
                raise self._ambiguous(create, sent_at, status, None)
            if is_failure(response, body):
                error = build_error(response, body, method=method, path=path, redactor=self.redactor)
                fatal = (errors.AuthenticationError, errors.RateLimitError, errors.ServerError)
                if tolerate is not None and not isinstance(error, fatal) and tolerate(body):
                    return body
                raise error
            return body

    async def _wait(self, retry_no: int, retry_after: float | None, why: str) -> None:
        delay = self.policy.delay(retry_no, retry_after)
        self.stats.retries += 1
        logger.info("retrying after %s in %.1f s", why, delay)
        await self.sleep(delay)

    def _ambiguous(
        self, create: CreateContext, sent_at: datetime, status: int | None, exc: Exception | None
    ) -> errors.AmbiguousCreateError:
        what = f"HTTP {status}" if status is not None else type(exc).__name__
        name = self.redactor.text(create.file_name) if create.file_name else "(no input file)"
        return errors.AmbiguousCreateError(
            f"the create for {name} (sep_type {create.sep_type}) sent at {sent_at.isoformat(timespec='seconds')} "
            f"got no conclusive answer ({what}): the job may exist. Look in separation_history for a job created "
            "since then before creating it again.",
            sep_type=create.sep_type,
            file_name=create.file_name,
            sent_at=sent_at,
            status_code=status,
            cut_off=exc is not None and connection_reset(exc),
        )


def connection_reset(exc: BaseException) -> bool:
    """Whether the server reset the connection (``ECONNRESET`` anywhere in the exception's chain)."""
    seen: BaseException | None = exc
    for _ in range(10):  # httpx wraps httpcore wraps anyio wraps the OSError
        if seen is None:
            return False
        if isinstance(seen, ConnectionResetError):
            return True
        seen = seen.__cause__ or seen.__context__
    return False
