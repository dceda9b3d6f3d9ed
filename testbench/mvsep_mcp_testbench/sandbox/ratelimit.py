"""A per-minute request limiter keyed by token or client address, driven by the sandbox clock."""

from __future__ import annotations

import math
import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

DEFAULT_LIMIT_PER_MINUTE = 120  # MVSep's limit since 2024 (60 before)
WINDOW_S = 60.0


@dataclass(frozen=True)
class RateDecision:
    allowed: bool
    limit: int
    remaining: int
    retry_after: int  # seconds; 0 when allowed


class RateLimiter:
    """Sliding one-minute window per key. ``limit`` may be changed at any time (tests shrink it)."""

    def __init__(self, now: Callable[[], float], limit: int = DEFAULT_LIMIT_PER_MINUTE) -> None:
        self._now = now
        self.limit = limit
        self._hits: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def hit(self, key: str) -> RateDecision:
        now = self._now()
        with self._lock:
            hits = self._hits.setdefault(key, deque())
            while hits and hits[0] <= now - WINDOW_S:
                hits.popleft()
            if len(hits) >= self.limit:
                retry = max(1, math.ceil(hits[0] + WINDOW_S - now))
                return RateDecision(False, self.limit, 0, retry)
            hits.append(now)
            return RateDecision(True, self.limit, max(0, self.limit - len(hits)), 0)

    def reset(self) -> None:
        with self._lock:
            self._hits.clear()
