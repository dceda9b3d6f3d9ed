"""What reached the sandbox: a request log and the counters a fault suite and the benchmark assert on.

One ``Traffic`` per sandbox (``state.traffic``). Every request except the ``/_sandbox/`` control routes is recorded:
method, path (never the query), the token when the query names one (kept in memory only, like the rate limiter's
keys: per-account counts for benchmarks), Host header, arrival and finishing times, status (``None`` when the
connection was dropped before a status line), body bytes in and out, whether the connection was dropped, which faults
fired, and the job it concerned when the sandbox knows. Counters survive the log's length limit: requests and bytes
per Host header, bytes served and received, and jobs created per account (``summary`` names accounts by email).
"""

from __future__ import annotations

import fnmatch
import threading
import time
from collections import Counter, deque
from dataclasses import dataclass, field
from typing import Any

MAX_LOGGED_REQUESTS = 20_000  # the log keeps the newest requests; the counters count every one


@dataclass
class RequestRecord:
    method: str
    path: str
    host: str
    status: int | None = None  # None: no status line was sent (dropped, or still running)
    bytes_in: int = 0  # request body bytes the sandbox read
    bytes_out: int = 0  # response body bytes the sandbox sent
    dropped: bool = False  # the sandbox closed or reset the connection instead of completing the answer
    faults: list[str] = field(default_factory=list)  # kinds of the rules that fired on this request
    job_hash: str | None = None  # the job the request concerned, when known
    done: bool = False  # the sandbox has finished with this request
    token: str | None = None  # the api_token query parameter (GET requests), in memory only
    started: float = field(default_factory=time.time)
    finished: float | None = None


class Traffic:
    def __init__(self, max_logged: int = MAX_LOGGED_REQUESTS) -> None:
        self._lock = threading.Lock()
        self.log: deque[RequestRecord] = deque(maxlen=max_logged)
        self.requests_by_host: Counter[str] = Counter()
        self.bytes_by_host: Counter[str] = Counter()
        self.creates_by_token: Counter[str] = Counter()
        self.bytes_served = 0
        self.bytes_received = 0
        self.requests = 0
        self.dropped = 0

    # --- recording (the middleware and the state call these) ------------------------------------------------------

    def begin(self, method: str, path: str, host: str, token: str | None = None) -> RequestRecord:
        record = RequestRecord(method, path, host, token=token)
        with self._lock:
            self.log.append(record)
            self.requests += 1
            self.requests_by_host[host] += 1
        return record

    def add_in(self, record: RequestRecord, n: int) -> None:
        with self._lock:
            record.bytes_in += n
            self.bytes_received += n

    def add_out(self, record: RequestRecord, n: int) -> None:
        with self._lock:
            record.bytes_out += n
            self.bytes_served += n
            self.bytes_by_host[record.host] += n

    def mark_dropped(self, record: RequestRecord) -> None:
        with self._lock:
            if not record.dropped:
                record.dropped = True
                self.dropped += 1

    def count_create(self, token: str) -> None:
        with self._lock:
            self.creates_by_token[token] += 1

    # --- reading (tests and /_sandbox/stats) -----------------------------------------------------------------------

    def records(self, path_pattern: str = "*", *, method: str | None = None, host: str | None = None,
                job_hash: str | None = None, token: str | None = None, since: float | None = None,
                until: float | None = None) -> list[RequestRecord]:
        """Logged requests matching an ``fnmatch`` path pattern and the given method, Host header, job, account and
        arrival time (``time.time()`` values)."""
        with self._lock:
            entries = list(self.log)
        return [r for r in entries if fnmatch.fnmatchcase(r.path, path_pattern)
                and (method is None or r.method.upper() == method.upper())
                and (host is None or r.host == host) and (job_hash is None or r.job_hash == job_hash)
                and (token is None or r.token == token)
                and (since is None or r.started >= since) and (until is None or r.started <= until)]

    def bytes_in(self, path_pattern: str = "*", *, since: float | None = None, until: float | None = None) -> int:
        """Request body bytes of the logged requests that match (uploads, for benchmarks)."""
        return sum(r.bytes_in for r in self.records(path_pattern, since=since, until=until))

    def hosts(self) -> dict[str, int]:
        """Requests per Host header."""
        with self._lock:
            return dict(self.requests_by_host)

    def creates(self, token: str | None = None) -> int:
        """Jobs created (for one account, or in all)."""
        with self._lock:
            return self.creates_by_token[token] if token is not None else sum(self.creates_by_token.values())

    def summary(self, account_names: dict[str, str] | None = None) -> dict[str, Any]:
        """Counters as JSON-ready data; accounts by ``account_names[token]`` (never the token itself)."""
        names = account_names or {}
        with self._lock:
            creates: Counter[str] = Counter()
            for token, n in self.creates_by_token.items():
                creates[names.get(token, "unknown account")] += n
            return {
                "requests": self.requests,
                "requests_by_host": dict(self.requests_by_host),
                "bytes_served": self.bytes_served,
                "bytes_served_by_host": dict(self.bytes_by_host),
                "bytes_received": self.bytes_received,
                "creates_by_account": dict(creates),
                "dropped": self.dropped,
            }

    def reset(self) -> None:
        with self._lock:
            self.log.clear()
            self.requests_by_host.clear()
            self.bytes_by_host.clear()
            self.creates_by_token.clear()
            self.bytes_served = self.bytes_received = self.requests = self.dropped = 0
