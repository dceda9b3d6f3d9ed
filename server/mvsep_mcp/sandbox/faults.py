"""Fault injection for tests of client resilience: rules the HTTP middleware applies before routing.

``state.faults.append(FaultRule("/api/separation/get", kind="status", status=503, count=2))`` makes the next two
matching requests fail. Kinds: ``status`` (an HTML 5xx page, or any status given), ``rate_limit`` (429 with
Retry-After), ``malformed`` (HTTP 200 with a truncated JSON body), ``slow`` (``delay_s`` then the real answer).
Patterns are ``fnmatch`` patterns over the request path.
"""

from __future__ import annotations

import fnmatch
import threading
from dataclasses import dataclass

FAULT_KINDS = ("status", "rate_limit", "malformed", "slow")


@dataclass
class FaultRule:
    path_pattern: str
    kind: str = "status"
    status: int = 503
    count: int | None = 1  # how many matching requests it affects; None = every one
    retry_after: int = 2
    delay_s: float = 1.0
    method: str | None = None  # only this HTTP method when set

    def __post_init__(self) -> None:
        if self.kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault kind {self.kind!r}; one of {FAULT_KINDS}")


class FaultList(list[FaultRule]):
    """The active rules; ``take`` consumes one use of the first rule matching a request."""

    _lock = threading.Lock()

    def take(self, method: str, path: str) -> FaultRule | None:
        with self._lock:
            for rule in list(self):
                if rule.method and rule.method.upper() != method.upper():
                    continue
                if not fnmatch.fnmatchcase(path, rule.path_pattern):
                    continue
                if rule.count is not None:
                    rule.count -= 1
                    if rule.count <= 0:
                        self.remove(rule)
                return rule
        return None
