"""Fault rules of the sandbox: what can go wrong, where, how often, and how many times it did.

A ``FaultRule`` names a *kind* of fault and where it applies: an ``fnmatch`` pattern over the request path, an optional
HTTP method, and optionally one job (``job_hash``, or ``job_number``: the Nth job this sandbox created, from 1) and one
stem (``stem``: a label such as ``Bass`` or a key such as ``bass``, for file downloads). ``count`` is how many times it
fires (``None``: every time), ``after`` how many would-be firings it lets pass first; ``fired`` counts the firings, so
a test can assert that a fault really happened. The middleware (``middleware.py``) applies the rules and
``fault_wire.py`` writes what the client sees; ``fault_spec.py`` parses the compact ``--faults`` text into rules.

Kinds (see the sandbox README section "Fault injection" for the exact wire behaviour of each):

==================  =============================================================================================
``status``          an error page with HTTP ``status`` (HTML; ``body="json"``: Laravel's ``{"message": ...}``)
``rate_limit``      429 ``{"message":"Too Many Attempts."}`` with ``Retry-After: retry_after`` (``None``: no header)
``slow``            waits ``delay_s`` before the real answer
``reset_mid``       drops the connection after ``fraction`` of the request body (an RST, the request never acts)
                    or of the response body (after the headers; ``Content-Length`` promised the whole)
``drop``            the request acts (a create creates) and the connection closes with no answer at all
``truncated``       the real answer cut to ``fraction`` of its bytes, ``Content-Length`` matching the cut body
``malformed``       the real answer after a PHP warning (``<br />\\n<b>Warning</b>: ...``): not JSON any more
``unknown_status``  ``/separation/get`` answers with ``status`` replaced by ``text`` (``paused``), data unchanged
``fail_job``        the job fails: ``failed`` with ``text`` as its message, from its processing phase onwards
``not_found``       a job's status answer says it does not exist (``status`` 404/410, or 200 with an envelope)
``vanish``          a file URL answers 404 ``Not Found`` as if the file had been deleted
``wrong_body``      HTTP 200 with a JSON error (``body="json"``) or an HTML "not yours" page (``"html"``)
``foreign_host``    ``files[].url`` of a done result point at another loopback host name (``host``)
==================  =============================================================================================

``status``, ``rate_limit`` and ``slow`` answer before the sandbox acts on the request unless ``handled=True`` (then the
request takes effect, e.g. a job is created and charged, and only its answer is replaced or delayed).
``foreign_host`` matches its ``path_pattern`` against the *file* URLs of a ``/separation/get`` answer (so
``/storage/processed/*`` means every stem); its ``count`` counts rewritten answers.
"""

from __future__ import annotations

import fnmatch
import threading
from dataclasses import dataclass, field

FAULT_KINDS = ("status", "rate_limit", "slow", "reset_mid", "drop", "truncated", "malformed", "unknown_status",
               "fail_job", "not_found", "vanish", "wrong_body", "foreign_host")
HANDLED_KINDS = ("status", "rate_limit", "slow")  # may act after the sandbox handled the request
BODY_CHOICES = {"status": ("html", "json"), "not_found": ("json", "html", "false", "true"),
                "wrong_body": ("json", "html")}
SIDES = ("auto", "request", "response")
DEFAULT_FAIL_MESSAGE = "Error while processing the file: out of GPU memory"
DEFAULT_UNKNOWN_STATUS = "paused"


@dataclass
class FaultRule:
    path_pattern: str = "*"
    kind: str = "status"
    status: int = 503  # status: the HTTP status; not_found: 404/410/... or 200 for an envelope answer
    count: int | None = 1  # how many times it fires; None = every time
    retry_after: int | None = 2  # rate_limit: Retry-After seconds; None = no Retry-After header
    delay_s: float = 1.0  # slow
    method: str | None = None  # only this HTTP method when set
    body: str | None = None  # status: html|json; not_found: json|html (status 200: false|true); wrong_body: json|html
    fraction: float = 0.5  # reset_mid, truncated: the share of the body that gets through
    side: str = "auto"  # reset_mid: request (upload) | response (download) | auto (request when it has a body)
    handled: bool = False  # status, rate_limit, slow: the request takes effect first
    text: str | None = None  # unknown_status: the status reported; fail_job: the failure message
    host: str | None = None  # foreign_host: the host name (with a port to override the request's port)
    job_hash: str | None = None  # only requests about this job
    job_number: int | None = None  # only requests about the Nth job created in this sandbox (from 1)
    stem: str | None = None  # only downloads (and foreign_host file URLs) of this stem, by label or key
    after: int = 0  # let this many would-be firings pass first
    fired: int = field(default=0, compare=False)  # how many times it fired
    passed: int = field(default=0, compare=False)  # how many would-be firings ``after`` let pass

    def __post_init__(self) -> None:
        if self.kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault kind {self.kind!r}; one of {', '.join(FAULT_KINDS)}")
        if self.side not in SIDES:
            raise ValueError(f"side must be one of {', '.join(SIDES)}, not {self.side!r}")
        if not 0.0 <= self.fraction <= 1.0:
            raise ValueError(f"fraction must be between 0 and 1, not {self.fraction}")
        if self.handled and self.kind not in HANDLED_KINDS:
            raise ValueError(f"handled applies to {', '.join(HANDLED_KINDS)} only, not {self.kind}")
        choices = BODY_CHOICES.get(self.kind)
        if self.body is not None and (choices is None or self.body not in choices):
            allowed = ", ".join(choices) if choices else "nothing"
            raise ValueError(f"body of a {self.kind} fault may be {allowed}, not {self.body!r}")
        if self.count is not None and self.count < 0:
            raise ValueError("count must be 0 or more (None for every time)")
        if not 100 <= self.status <= 599:
            raise ValueError(f"status must be an HTTP status code, not {self.status}")

    @property
    def remaining(self) -> int | None:
        """Firings left; ``None`` when unlimited."""
        return None if self.count is None else max(0, self.count - self.fired)

    @property
    def exhausted(self) -> bool:
        return self.count is not None and self.fired >= self.count

    def body_or_default(self) -> str:
        if self.body is not None:
            return self.body
        if self.kind == "not_found":
            return "false" if self.status == 200 else "json"
        return "html" if self.kind == "status" else "json"

    def matches(self, facts: RequestFacts, *, any_job: bool = False) -> bool:
        """Whether the rule concerns this request; ``any_job`` ignores the job filters (not known yet)."""
        if self.method and self.method.upper() != facts.method.upper():
            return False
        if not fnmatch.fnmatchcase(facts.path, self.path_pattern):
            return False
        if not any_job and not self.matches_job(facts):
            return False
        if self.stem is not None:
            wanted = self.stem.casefold()
            if wanted not in {(facts.stem_key or "").casefold(), (facts.stem_label or "").casefold()}:
                return False
        return True

    def matches_job(self, facts: RequestFacts) -> bool:
        return ((self.job_hash is None or self.job_hash == facts.job_hash)
                and (self.job_number is None or self.job_number == facts.job_number))


@dataclass(frozen=True)
class RequestFacts:
    """What a rule can be matched against: the request, and the job and stem it concerns when the sandbox knows."""

    method: str
    path: str
    job_hash: str | None = None
    job_number: int | None = None
    stem_key: str | None = None
    stem_label: str | None = None


class FaultList(list[FaultRule]):
    """The active rules, in order. Exhausted rules stay in the list (their ``fired`` stays readable)."""

    def __init__(self, rules: list[FaultRule] | None = None) -> None:
        super().__init__(rules or [])
        self._lock = threading.Lock()

    def candidates(self, facts: RequestFacts, kinds: tuple[str, ...] | None = None, *,
                   any_job: bool = False) -> list[FaultRule]:
        """Rules of these kinds that match and may still fire; nothing is consumed."""
        return [r for r in self.active(kinds) if r.matches(facts, any_job=any_job)]

    def active(self, kinds: tuple[str, ...] | None = None) -> list[FaultRule]:
        """Rules of these kinds that may still fire."""
        with self._lock:
            return [r for r in self if not r.exhausted and (kinds is None or r.kind in kinds)]

    def fire(self, rule: FaultRule) -> bool:
        """Consume one use of the rule: False while ``after`` lets it pass or once it is exhausted."""
        with self._lock:
            if rule.exhausted:
                return False
            if rule.passed < rule.after:
                rule.passed += 1
                return False
            rule.fired += 1
            return True

    def fired(self, kind: str | None = None) -> int:
        """How many times rules (of one kind) fired in total."""
        with self._lock:
            return sum(r.fired for r in self if kind is None or r.kind == kind)
