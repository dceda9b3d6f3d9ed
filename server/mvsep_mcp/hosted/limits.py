"""Fair shares of a hosted server, as plain bookkeeping (no HTTP, no MCP; ``hosted.guards`` applies them):

- :class:`RateLimiter`: calls per principal per minute, as a token bucket (a burst of a minute's calls, refilled
  evenly); a refused call learns how long to wait.
- :class:`SessionBook`: each principal's legacy sessions. A principal at its cap makes room by closing its own
  least recently used idle session (a session with no request in flight); with none idle, it is refused. At the
  server's global cap, the idle sessions of whoever holds the most go first, so one principal never brings the global
  cap within reach of others.
- :class:`Verdicts`: what MVSep said of a token (accepted or refused), remembered briefly by its hash.
- :class:`DistinctTokens`: how many different MVSep tokens a principal sent within a window (each costs MVSep
  requests, an account and its client), bounded.

Every structure is bounded: entries that carry no information (a full bucket, an expired verdict, an empty window)
are dropped as new ones come.
"""

from __future__ import annotations

import math
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

Clock = Callable[[], float]


class RateLimiter:
    """``per_minute`` calls per key, with a burst of as many; at most ``max_keys`` keys remembered (full buckets,
    which say nothing, go first)."""

    def __init__(self, per_minute: int, *, max_keys: int, clock: Clock = time.monotonic) -> None:
        self.capacity = float(per_minute)
        self.rate = per_minute / 60.0
        self.max_keys = max_keys
        self.clock = clock
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()  # key -> (tokens, at)

    def take(self, key: str) -> float:
        """Use one call of ``key``'s: 0 when it may go ahead, else the seconds until it may."""
        now = self.clock()
        tokens, at = self._buckets.pop(key, (self.capacity, now))
        tokens = min(self.capacity, tokens + (now - at) * self.rate)
        if tokens >= 1.0:
            self._buckets[key] = (tokens - 1.0, now)
            self._trim(now)
            return 0.0
        self._buckets[key] = (tokens, now)
        return (1.0 - tokens) / self.rate

    def _trim(self, now: float) -> None:
        if len(self._buckets) <= self.max_keys:
            return
        for key, (tokens, at) in list(self._buckets.items()):
            if tokens + (now - at) * self.rate >= self.capacity:
                del self._buckets[key]
        while len(self._buckets) > self.max_keys:  # every bucket in use: the least recently used goes
            self._buckets.popitem(last=False)


class Verdicts:
    """Whether MVSep accepted a token (by its hash), for ``ttl_s``; at most ``max_entries``, the oldest go first."""

    def __init__(self, ttl_s: float, *, max_entries: int, clock: Clock = time.monotonic) -> None:
        self.ttl_s, self.max_entries, self.clock = ttl_s, max_entries, clock
        self._entries: OrderedDict[str, tuple[float, bool]] = OrderedDict()

    def get(self, digest: str) -> bool | None:
        found = self._entries.get(digest)
        if found is None:
            return None
        if found[0] <= self.clock():
            del self._entries[digest]
            return None
        return found[1]

    def put(self, digest: str, accepted: bool) -> None:
        self._entries.pop(digest, None)
        self._entries[digest] = (self.clock() + self.ttl_s, accepted)
        while len(self._entries) > self.max_entries:
            self._entries.popitem(last=False)


class DistinctTokens:
    """At most ``per_key`` different tokens per key within ``window_s`` (of each, the time it was last sent)."""

    def __init__(self, per_key: int, window_s: float, *, max_keys: int, clock: Clock = time.monotonic) -> None:
        self.per_key, self.window_s, self.max_keys, self.clock = per_key, window_s, max_keys, clock
        self._seen: OrderedDict[str, dict[str, float]] = OrderedDict()

    def admit(self, key: str, digest: str) -> float:
        """Record ``digest`` as sent by ``key``: 0 when it may be used, else the seconds until a slot frees."""
        now = self.clock()
        seen = {d: at for d, at in self._seen.pop(key, {}).items() if now - at < self.window_s}
        if digest in seen or len(seen) < self.per_key:
            seen[digest] = now
            self._seen[key] = seen
            while len(self._seen) > self.max_keys:
                self._seen.popitem(last=False)
            return 0.0
        self._seen[key] = seen
        return max(0.0, min(seen.values()) + self.window_s - now)


@dataclass
class _Session:
    owner: str
    context: Any  # what the caller needs to close it (``hosted.guards``: the request that opened it)
    in_flight: int = 0
    last_used: float = 0.0


@dataclass
class Admission:
    """What admitting a new session takes: sessions to close first, or a refusal (with a wait, when known)."""

    close: list[tuple[str, Any]] = field(default_factory=list)
    refused: str | None = None  # "principal" (at its own cap, none idle) or "server" (global cap, none idle)
    retry_after: float = 0.0


class SessionBook:
    """Every open legacy session by owner; a session idle longer than ``idle_s`` is taken as ended (the SDK reaps
    it)."""

    def __init__(self, per_owner: int, global_cap: int | None, *, idle_s: float | None,
                 clock: Clock = time.monotonic) -> None:
        self.per_owner, self.global_cap, self.idle_s, self.clock = per_owner, global_cap, idle_s, clock
        self._sessions: dict[str, _Session] = {}
        self._pending: dict[str, int] = {}  # owner -> sessions being opened now

    def __len__(self) -> int:
        return len(self._sessions)

    def count(self, owner: str) -> int:
        self._expire()
        return sum(1 for s in self._sessions.values() if s.owner == owner)

    def admit(self, owner: str) -> Admission:
        """Make room for one more session of ``owner`` (reserved until :meth:`opened` or :meth:`abandoned`)."""
        self._expire()
        admission = Admission()
        if self.count(owner) + self._pending.get(owner, 0) >= self.per_owner:
            victim = self._idlest(owner)
            if victim is None:
                admission.refused, admission.retry_after = "principal", self._soonest_idle(owner)
                return admission
            admission.close.append(self._close(victim))
        total = len(self._sessions) + sum(self._pending.values())
        if self.global_cap is not None and total >= self.global_cap:
            victim = self._idlest_of_largest()
            if victim is None:
                admission.refused = "server"
                return admission
            admission.close.append(self._close(victim))
        self._pending[owner] = self._pending.get(owner, 0) + 1
        return admission

    def opened(self, owner: str, session_id: str, context: Any) -> None:
        self._release(owner)
        self._sessions[session_id] = _Session(owner, context, last_used=self.clock())

    def abandoned(self, owner: str) -> None:
        """The reserved session was not opened (the request failed)."""
        self._release(owner)

    def began(self, session_id: str) -> bool:
        """A request of ``session_id`` is under way; whether the session is known."""
        found = self._sessions.get(session_id)
        if found is None:
            return False
        found.in_flight += 1
        return True

    def finished(self, session_id: str) -> None:
        found = self._sessions.get(session_id)
        if found is not None:
            found.in_flight = max(0, found.in_flight - 1)
            found.last_used = self.clock()

    def closed(self, session_id: str) -> None:
        self._sessions.pop(session_id, None)

    def _release(self, owner: str) -> None:
        left = self._pending.get(owner, 0) - 1
        if left > 0:
            self._pending[owner] = left
        else:
            self._pending.pop(owner, None)

    def _close(self, session_id: str) -> tuple[str, Any]:
        return session_id, self._sessions.pop(session_id).context

    def _idlest(self, owner: str | None) -> str | None:
        idle = [(s.last_used, sid) for sid, s in self._sessions.items()
                if s.in_flight == 0 and (owner is None or s.owner == owner)]
        return min(idle)[1] if idle else None

    def _idlest_of_largest(self) -> str | None:
        sizes: dict[str, int] = {}
        for session in self._sessions.values():
            sizes[session.owner] = sizes.get(session.owner, 0) + 1
        for owner in sorted(sizes, key=lambda o: -sizes[o]):
            victim = self._idlest(owner)
            if victim is not None:
                return victim
        return None

    def _soonest_idle(self, owner: str) -> float:
        """No session of ``owner`` is idle: a client may try again within a minute (requests end)."""
        return 60.0 if any(s.owner == owner for s in self._sessions.values()) else 1.0

    def _expire(self) -> None:
        if self.idle_s is None:
            return
        now = self.clock()
        for sid, session in list(self._sessions.items()):
            if session.in_flight == 0 and now - session.last_used > self.idle_s:
                del self._sessions[sid]


def retry_after_header(seconds: float) -> str:
    """``Retry-After`` in whole seconds, at least 1."""
    return str(max(1, math.ceil(seconds)))
