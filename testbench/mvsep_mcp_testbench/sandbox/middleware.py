"""ASGI middleware of the sandbox: the request log, injected faults, rate limiting with MVSep's headers.

Every request but the ``/_sandbox/`` control routes goes into ``state.traffic``. Then the fault rules apply in list
order (``faults.py``): ``slow`` rules wait; a ``fail_job`` rule about a known job marks it failed; the first rule that
answers *instead of* the sandbox fires (status, rate_limit, not_found, vanish, wrong_body, a reset during the upload)
and the request goes no further. Otherwise the request is handled; when a rule may change the answer *after* the
sandbox acted (handled status/rate_limit/slow, drop, truncated, malformed, unknown_status, foreign_host, a reset during
the answer, fail_job on a create), the answer is captured and the first of them that fires changes it. One rule
changes what is on the wire per request; ``slow`` and ``fail_job`` add to it.

Rate limiting applies to ``/api/...`` only (downloads are static files), keyed by the ``api_token`` query parameter
when there is one, else by the client address. Faults answered before the sandbox acts do not count against it.
"""

from __future__ import annotations

import asyncio
import time
from pathlib import PurePosixPath
from typing import Any
from urllib.parse import parse_qs, urlsplit

from starlette.datastructures import MutableHeaders
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from mvsep_mcp_testbench.sandbox import fault_wire as wire
from mvsep_mcp_testbench.sandbox.fault_wire import Answer, php_json
from mvsep_mcp_testbench.sandbox.faults import DEFAULT_FAIL_MESSAGE, FaultRule, RequestFacts
from mvsep_mcp_testbench.sandbox.state import SandboxState
from mvsep_mcp_testbench.sandbox.traffic import RequestRecord

CONTROL_PREFIX = "/_sandbox/"
CREATE_PATH = "/api/separation/create"
STATUS_PATH = "/api/separation/get"
INSTEAD_KINDS = ("status", "rate_limit", "not_found", "vanish", "wrong_body", "reset_mid")
AFTER_KINDS = ("status", "rate_limit", "slow", "drop", "truncated", "malformed", "unknown_status", "reset_mid")


class PhpJSONResponse(JSONResponse):
    """JSON as PHP's ``json_encode`` writes it: ``\\/`` and ``\\uXXXX`` escapes."""

    def render(self, content: Any) -> bytes:
        return php_json(content)


class SandboxMiddleware:
    def __init__(self, app: ASGIApp, state: SandboxState) -> None:
        self.app = app
        self.state = state

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path: str = scope.get("path", "")
        if scope["type"] != "http" or path.startswith(CONTROL_PREFIX):
            await self.app(scope, receive, send)
            return
        traffic = self.state.traffic
        query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
        record = traffic.begin(scope.get("method", "GET"), path, _header(scope, b"host"),
                               token=(query.get("api_token") or [None])[0])
        facts = self._facts(scope)
        record.job_hash = facts.job_hash
        create_answer: list[bytes] | None = [] if path == CREATE_PATH else None  # to log the created job's hash

        async def counted_receive() -> Message:
            message = await receive()
            if message["type"] == "http.request":
                traffic.add_in(record, len(message.get("body", b"")))
            return message

        async def counted_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                record.status = int(message["status"])
            elif message["type"] == "http.response.body":
                traffic.add_out(record, len(message.get("body", b"")))
                if create_answer is not None:
                    create_answer.append(bytes(message.get("body", b"")))
            await send(message)

        try:
            await self._serve(scope, counted_receive, counted_send, facts, record)
        finally:
            if create_answer and record.job_hash is None:
                record.job_hash = _created_hash(Answer(200, [], b"".join(create_answer)))
            record.done = True
            record.finished = time.time()

    # --- faults ----------------------------------------------------------------------------------------------------

    async def _serve(self, scope: Scope, receive: Receive, send: Send, facts: RequestFacts,
                     record: RequestRecord) -> None:
        faults = self.state.faults
        for rule in faults.candidates(facts, ("slow",)):
            if not rule.handled and faults.fire(rule):
                record.faults.append(rule.kind)
                await asyncio.sleep(rule.delay_s)
        if facts.job_hash is not None and facts.path != CREATE_PATH:
            for rule in faults.candidates(facts, ("fail_job",)):
                if self.state.can_fail(facts.job_hash) and faults.fire(rule):
                    record.faults.append(rule.kind)
                    self.state.fail_job(facts.job_hash, rule.text or DEFAULT_FAIL_MESSAGE)
        has_body = _has_body(scope)
        for rule in faults.candidates(facts, INSTEAD_KINDS):
            if _acts_after(rule, has_body) or not faults.fire(rule):
                continue
            record.faults.append(rule.kind)
            await self._instead(rule, scope, receive, send, record)
            return
        creating = facts.path == CREATE_PATH  # the job is known from the answer only: job filters wait for it
        after = [r for r in faults.candidates(facts, AFTER_KINDS, any_job=creating) if _acts_after(r, has_body)]
        if creating:
            after += faults.candidates(facts, ("fail_job",), any_job=True)
        if facts.path == STATUS_PATH:
            after += [r for r in faults.active(("foreign_host",)) if _request_filter_matches(r, facts)]
        if not after:
            await self._handle(scope, receive, send)
            return
        answer = await wire.capture(self._handle, scope, receive)
        await self._after(after, answer, scope, send, facts, record)

    async def _instead(self, rule: FaultRule, scope: Scope, receive: Receive, send: Send,
                       record: RequestRecord) -> None:
        """Answer with the fault; the sandbox never acts on the request."""
        if rule.kind == "reset_mid":
            await _read_part(scope, receive, rule.fraction)
            self.state.traffic.mark_dropped(record)
            await self.state.connections.drop(scope, reset=True)
            return
        await wire.emit(_instead_answer(rule), send)

    async def _after(self, rules: list[FaultRule], answer: Answer, scope: Scope, send: Send, facts: RequestFacts,
                     record: RequestRecord) -> None:
        """The sandbox has acted and ``answer`` is what it said: let the first rule that applies change it."""
        faults = self.state.faults
        if facts.path == CREATE_PATH:
            facts = self._with_job(facts, _created_hash(answer))
            record.job_hash = facts.job_hash
        for rule in rules:
            if not rule.matches_job(facts):
                continue
            if rule.kind == "fail_job":
                if facts.job_hash is not None and self.state.can_fail(facts.job_hash) and faults.fire(rule):
                    record.faults.append(rule.kind)
                    self.state.fail_job(facts.job_hash, rule.text or DEFAULT_FAIL_MESSAGE)
                continue
            if rule.kind == "slow":
                if faults.fire(rule):
                    record.faults.append(rule.kind)
                    await asyncio.sleep(rule.delay_s)
                continue
            changed = self._changed(rule, answer, scope, facts)
            if changed is None or not faults.fire(rule):
                continue
            record.faults.append(rule.kind)
            if rule.kind in ("drop", "reset_mid"):
                if rule.kind == "reset_mid":
                    sent = min(len(answer.body) - 1, int(len(answer.body) * rule.fraction))
                    await wire.emit(answer, send, limit=sent)
                self.state.traffic.mark_dropped(record)
                await self.state.connections.drop(scope, reset=False)
                return
            answer = changed
            break
        await wire.emit(answer, send)

    def _changed(self, rule: FaultRule, answer: Answer, scope: Scope, facts: RequestFacts) -> Answer | None:
        """The answer this rule makes of the real one (the real one for drops), or None when it does not apply."""
        kind = rule.kind
        if kind in ("status", "rate_limit"):
            return _instead_answer(rule)
        if kind in ("drop", "reset_mid"):
            return answer if kind == "drop" or answer.body else None
        if kind == "truncated":
            return wire.truncated(answer, rule.fraction)
        if kind == "malformed":
            return wire.malformed(answer)
        if kind == "unknown_status":
            return wire.with_status(answer, rule.text)
        if kind == "foreign_host":
            urls = {item["url"] for item in wire.result_files(answer) if rule.matches(self._file_facts(item, facts))}
            if not urls:
                return None
            return wire.with_file_hosts(answer, urls, wire.foreign_netloc(_header(scope, b"host"), rule.host))
        return None

    # --- which job and stem a request concerns ---------------------------------------------------------------------

    def _facts(self, scope: Scope) -> RequestFacts:
        method, path = scope.get("method", "GET"), scope.get("path", "")
        job_hash: str | None = None
        stem_key = stem_label = None
        if path == STATUS_PATH:
            query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
            job_hash = (query.get("hash") or [None])[0]
        elif path.startswith("/storage/temp/"):
            job_hash = path.rsplit("/", 1)[-1]
        elif path.startswith("/storage/processed/"):
            owner = self.state.file_owner(path.rsplit("/", 1)[-1])
            if owner is not None:
                job_hash, stem_key, stem_label = owner
        return self._with_job(RequestFacts(method, path, stem_key=stem_key, stem_label=stem_label), job_hash)

    def _with_job(self, facts: RequestFacts, job_hash: str | None) -> RequestFacts:
        return RequestFacts(facts.method, facts.path, job_hash, self.state.job_number(job_hash),
                            facts.stem_key, facts.stem_label)

    def _file_facts(self, item: dict[str, Any], facts: RequestFacts) -> RequestFacts:
        path = urlsplit(item["url"]).path
        owner = self.state.file_owner(PurePosixPath(path).name)
        key = owner[1] if owner is not None else None
        label = item.get("type") if isinstance(item.get("type"), str) else None
        return RequestFacts(facts.method, path, facts.job_hash, facts.job_number, key, label)

    # --- the sandbox proper ----------------------------------------------------------------------------------------

    async def _handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        if not scope.get("path", "").startswith("/api/"):
            await self.app(scope, receive, send)
            return
        self.state.sweep()
        decision = self.state.rate_limiter.hit(_rate_key(scope))
        if not decision.allowed:
            response = PhpJSONResponse({"message": "Too Many Attempts."}, status_code=429, headers={
                "Retry-After": str(decision.retry_after),
                "X-RateLimit-Limit": str(decision.limit),
                "X-RateLimit-Remaining": "0",
            })
            await response(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                headers["X-RateLimit-Limit"] = str(decision.limit)
                headers["X-RateLimit-Remaining"] = str(decision.remaining)
                headers.setdefault("Cache-Control", "no-cache, private")
            await send(message)

        await self.app(scope, receive, send_with_headers)


def _instead_answer(rule: FaultRule) -> Answer:
    if rule.kind == "rate_limit":
        return wire.rate_limit_answer(rule.retry_after)
    if rule.kind == "not_found":
        return wire.not_found_answer(rule)
    if rule.kind == "vanish":
        return wire.vanished_answer()
    if rule.kind == "wrong_body":
        return wire.wrong_body_answer(rule.body_or_default())
    return wire.error_answer(rule.status, rule.body_or_default())


def _acts_after(rule: FaultRule, has_body: bool) -> bool:
    """Whether the rule changes the answer after the sandbox acted (else it answers instead of the sandbox)."""
    if rule.kind == "reset_mid":
        return rule.side == "response" or (rule.side == "auto" and not has_body)
    if rule.kind in ("status", "rate_limit", "slow"):
        return rule.handled
    return rule.kind not in ("not_found", "vanish", "wrong_body")


def _request_filter_matches(rule: FaultRule, facts: RequestFacts) -> bool:
    """A foreign_host rule's method and job filters against the status request (its path is matched per file)."""
    return (rule.method is None or rule.method.upper() == facts.method.upper()) and rule.matches_job(facts)


async def _read_part(scope: Scope, receive: Receive, fraction: float) -> int:
    """Read ``fraction`` of the request body (of its Content-Length; one chunk when it has none)."""
    length = _header(scope, b"content-length")
    target = int(int(length) * fraction) if length.isdigit() else 1
    read = 0
    while read < target:
        message = await receive()
        if message["type"] != "http.request":
            break
        read += len(message.get("body", b""))
        if not message.get("more_body", False):
            break
    return read


def _created_hash(answer: Answer) -> str | None:
    content = answer.json()
    if isinstance(content, dict) and content.get("success") is True and isinstance(content.get("data"), dict):
        value = content["data"].get("hash")
        return value if isinstance(value, str) else None
    return None


def _has_body(scope: Scope) -> bool:
    length = _header(scope, b"content-length")
    return (length.isdigit() and int(length) > 0) or "chunked" in _header(scope, b"transfer-encoding").lower()


def _header(scope: Scope, name: bytes) -> str:
    for key, value in scope.get("headers", []):
        if key.lower() == name:
            return bytes(value).decode("latin-1")
    return ""


def _rate_key(scope: Scope) -> str:
    query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
    token = (query.get("api_token") or [""])[0]
    if token:
        return f"token:{token}"
    client = scope.get("client") or ("unknown", 0)
    return f"ip:{client[0]}"
