"""When the client may repeat a request, and how long it waits first.

Every call is classified by what repeating it could do:

- ``SAFE``: GETs, ``cancel`` and the premium / long-file-name toggles (they set a state, so sending them twice leaves
  the same state), and ``login`` (reads credentials, creates nothing). Retried after any network failure and after
  HTTP 429 and 5xx.
- ``UNSAFE``: ``register`` (a second one re-sends the verification mail or fails "already taken"), ``quality_add``
  (a second submission) and ``quality_delete`` (a second one reports "not found" for a delete that succeeded).
  Retried only when the request cannot have been acted upon: connection never made (connect / pool timeout),
  the body never fully written, HTTP 429 (refused), HTTP 503 (service unavailable: refused before the application).
- ``CREATE``: ``POST /separation/create``, which starts (and may bill) a job. Same as ``UNSAFE``, except that a failure
  after the request was sent (read timeout, connection reset or protocol error while waiting for the answer) and a
  gateway/server error that may follow processing (500, 502, 504, any 5xx but 503) raise
  :class:`mvsep_mcp.mvsep.errors.AmbiguousCreateError` instead of an error that suggests trying again.
  429 is retried honouring ``Retry-After``: MVSep's throttle refuses the request before it is handled.
  A write failure (the upload broke off) is retried: MVSep only handles a request once its whole body has arrived.

HTTP 400/401 (and every other 4xx but 429) are never retried: they are permanent.

Waits: exponential back-off with jitter, ``RETRY_BACKOFF_INITIAL_S * RETRY_BACKOFF_MULTIPLIER**n`` capped at
``RETRY_BACKOFF_MAX_S``, +-``RETRY_JITTER_FRACTION``. A ``Retry-After`` header (seconds or an HTTP date) replaces the
back-off; one longer than ``RETRY_AFTER_MAX_S`` is not slept through but reported (the error carries it).
"""

from __future__ import annotations

import enum
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

import httpx

from mvsep_mcp.policy import (
    MAX_RETRIES,
    RETRY_AFTER_MAX_S,
    RETRY_BACKOFF_INITIAL_S,
    RETRY_BACKOFF_MAX_S,
    RETRY_BACKOFF_MULTIPLIER,
    RETRY_JITTER_FRACTION,
)


class Idempotency(enum.Enum):
    SAFE = "safe"
    UNSAFE = "unsafe"
    CREATE = "create"


# Failures where the request provably did not reach the server's application.
NOT_SENT_ERRORS: tuple[type[Exception], ...] = (
    httpx.ConnectError,
    httpx.ConnectTimeout,
    httpx.PoolTimeout,
    httpx.WriteError,
    httpx.WriteTimeout,
)
NETWORK_ERRORS: tuple[type[Exception], ...] = (httpx.TransportError,)


@dataclass(frozen=True)
class RetryPolicy:
    """The numbers (from :mod:`mvsep_mcp.policy`) and the decisions built on them."""

    max_retries: int = MAX_RETRIES
    backoff_initial_s: float = RETRY_BACKOFF_INITIAL_S
    backoff_max_s: float = RETRY_BACKOFF_MAX_S
    backoff_multiplier: float = RETRY_BACKOFF_MULTIPLIER
    jitter_fraction: float = RETRY_JITTER_FRACTION
    retry_after_max_s: float = RETRY_AFTER_MAX_S
    rng: Callable[[], float] = field(default=random.random, compare=False)

    def backoff(self, retry_number: int) -> float:
        """Seconds to wait before retry ``retry_number`` (0 for the first retry)."""
        base = min(self.backoff_max_s, self.backoff_initial_s * self.backoff_multiplier ** max(0, retry_number))
        jitter = 1.0 + self.jitter_fraction * (2.0 * self.rng() - 1.0)
        return max(0.0, base * jitter)

    def delay(self, retry_number: int, retry_after: float | None) -> float:
        """The wait before a retry: ``Retry-After`` when given, else the back-off."""
        if retry_after is not None:
            return max(0.0, retry_after)
        return self.backoff(retry_number)

    def retry_after_acceptable(self, retry_after: float | None) -> bool:
        return retry_after is None or retry_after <= self.retry_after_max_s


def exception_is_retryable(exc: Exception, idempotency: Idempotency) -> bool:
    """May the request be sent again after this transport exception?"""
    if isinstance(exc, NOT_SENT_ERRORS):
        return True
    if idempotency is Idempotency.SAFE:
        return isinstance(exc, NETWORK_ERRORS)
    return False


def status_is_retryable(status_code: int, idempotency: Idempotency) -> bool:
    """May the request be sent again after this HTTP status?"""
    if status_code == 429 or status_code == 503:
        return True
    if 500 <= status_code < 600:
        return idempotency is Idempotency.SAFE
    return False


def create_status_is_ambiguous(status_code: int) -> bool:
    """A 5xx answer to a create that may have followed the job's creation (all but 503)."""
    return 500 <= status_code < 600 and status_code != 503


def parse_retry_after(value: str | None, *, now: datetime | None = None) -> float | None:
    """``Retry-After`` as seconds from now: delta-seconds or an HTTP date; ``None`` when absent or unreadable."""
    if value is None:
        return None
    text = value.strip()
    if not text:
        return None
    try:
        return max(0.0, float(text))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    current = now or datetime.now(UTC)
    return max(0.0, (when - current).total_seconds())
