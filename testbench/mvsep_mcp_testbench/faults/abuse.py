"""The abuse suite (group ``abuse`` of ``mvsep-mcp faults``): the six weaknesses once found in hosted mode, tried
again against the real server in a child process, each row naming what it did and what it cost the server.

1. ``link page``: a 100 MB body to a link page (chunked, and declared), 64 fields of 1,000 KB to a real ticket's
   page with its CSRF value: answered 413 with memory growth within the form's limit plus 5 MB, no temporary file.
2. ``/mcp body``: 300 MB to ``/mcp`` with a read-only key: 413, memory growth within the body limit plus 5 MB.
3. ``sessions``: one read-only key opens thousands of legacy sessions: another user's ``initialize`` still works,
   and the key holds no more than its share.
4. ``X-MVSep-Token``: 3,000 different header tokens from one key: a bounded number of MVSep requests and of open
   descriptors afterwards.
5. ``log doors``: link tickets a tool answered with never reach the log; using one revokes the others; strings an
   attacker chose (as a header token, on a used link page) are never blanked out of the log.
6. ``log forgery``: a request path with a line break and escape sequences writes no line of its own.

A finding goes in the ``harm`` column (``leaks`` for a ticket in the log). The sizes are the real ones of the
report; tests may pass smaller ones.
"""

from __future__ import annotations

import html
import re
import secrets
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import anyio.to_thread
import httpx
from mvsep_mcp import policy
from mvsep_mcp.hosted.paths import LINK_PATH

from mvsep_mcp_testbench.faults import checks
from mvsep_mcp_testbench.faults.abuse_server import HostedChild, McpSession, PeakMemory, hosted_child, raw_post, zeros
from mvsep_mcp_testbench.sandbox import JobTiming, SandboxServer, SandboxState

SLACK_BYTES = 5 * 1024 * 1024  # "memory growth within the configured limit plus 5 MB"
MB = 1024 * 1024
READER = ("mvsep:read",)
EVERYTHING = ("mvsep:read", "mvsep:separate", "mvsep:account")
LINK = re.compile(r"https?://\S+?" + re.escape(LINK_PATH) + r"[A-Za-z0-9_-]+")
FORM_ACTION = re.compile(r'<form method="post" action="([^"]+)"')
FORGED = "2000-01-01 00:00:00,000 WARNING mvsep_mcp.http: GET /admin 200"


@dataclass(frozen=True)
class Sizes:
    """How hard each row pushes (the report uses these defaults: the magnitudes of the original findings)."""

    link_body: int = 100 * MB
    link_fields: int = 64
    link_field_bytes: int = 1000 * 1024
    mcp_body: int = 300 * MB
    sessions: int = 10_000  # the SDK's global cap: one key opening that many must not lock anyone out
    header_tokens: int = 3_000
    tickets: int = 5


ROWS = ("link page", "/mcp body", "sessions", "X-MVSep-Token", "log doors", "log forgery")


async def run_abuse(sizes: Sizes = Sizes(), work: Path | None = None,
                    only: tuple[str, ...] = ROWS) -> list[checks.Row]:
    """Every row against one server (one sandbox); each row in a worker thread (plain, blocking HTTP)."""
    return await anyio.to_thread.run_sync(lambda: _run_all(sizes, work, only))


def _run_all(sizes: Sizes, work: Path | None, only: tuple[str, ...]) -> list[checks.Row]:
    if work is None:
        with tempfile.TemporaryDirectory(prefix="mvsep-abuse-") as folder:
            return _run_all(sizes, Path(folder), only)
    steps: dict[str, Callable[[HostedChild, SandboxServer, Sizes], checks.Row]] = {
        "link page": _link_page, "/mcp body": _mcp_body, "sessions": _sessions, "X-MVSep-Token": _header_tokens,
        "log doors": _log_doors, "log forgery": _log_forgery}
    users = {"mallory": READER, "alice": EVERYTHING, "bob": EVERYTHING}
    state = SandboxState(timing=JobTiming.fast())
    rows: list[checks.Row] = []
    try:
        with SandboxServer(state) as sandbox, hosted_child(work, sandbox.base_url, users,
                                                         calls_per_minute="1000000") as child:
            for name in only:
                started = time.monotonic()
                row = steps[name](child, sandbox, sizes)
                row.seconds = time.monotonic() - started
                rows.append(row)
    finally:
        state.close()
    return rows


def _memory_check(row: checks.Row, peak: PeakMemory, limit: int) -> str:
    growth = peak.growth
    if growth is None:
        return "memory not measured (no /proc)"
    if growth > limit + SLACK_BYTES:
        row.add("harm", [f"memory grew {growth / MB:.1f} MB (limit {limit / MB:.2f} MB + 5 MB)"])
    return f"+{max(growth, 0) / MB:.1f} MB RSS (≤ {(limit + SLACK_BYTES) / MB:.1f})"


def _link_page(child: HostedChild, sandbox: SandboxServer, sizes: Sizes) -> checks.Row:
    row = checks.Row("abuse", f"link page: {sizes.link_body // MB} MB body, {sizes.link_fields} fields of "
                              f"{sizes.link_field_bytes // 1024:,} KB")
    with httpx.Client(timeout=30) as http:
        session = McpSession(http, child.url, child.keys["alice"])
        session.open()
        _, offer, _ = session.call("account_info")
        found = LINK.search(offer)
        link = found.group(0) if found else child.url + LINK_PATH + "unknown"
        action = FORM_ACTION.search(http.get(link).text)  # the real form's address: its CSRF value is right
        path = html.unescape(action.group(1)) if action else httpx.URL(link).path
    boundary = "x" + secrets.token_hex(8)
    multipart = {"Content-Type": f"multipart/form-data; boundary={boundary}"}
    fields = _many_fields(boundary, sizes.link_fields, sizes.link_field_bytes)
    statuses = []
    with PeakMemory(child) as peak:
        statuses.append(raw_post(child.url, LINK_PATH + "no-such-ticket", multipart, zeros(sizes.link_body)).status)
        statuses.append(raw_post(child.url, path, multipart, zeros(sizes.link_body),
                                 declared=sizes.link_body).status)
        statuses.append(raw_post(child.url, path, multipart, fields).status)
        statuses.append(raw_post(child.url, path, {"Content-Type": "application/x-www-form-urlencoded"},
                                 _urlencoded_fields(sizes.link_fields, sizes.link_field_bytes)).status)
    memory = _memory_check(row, peak, policy.LINK_FORM_MAX_BYTES)
    if any(status not in (404, 410, 413) for status in statuses):
        row.add("harm", [f"answers {statuses}: a body past the limit was taken"])
    temporary = child.temporary_files()
    if temporary:
        row.add("harm", [f"temporary files written: {temporary[:3]}"])
    row.outcome = f"answers {'/'.join(map(str, statuses))}; {memory}; {len(temporary)} temporary files"
    return row


def _many_fields(boundary: str, count: int, size: int) -> Iterator[bytes]:
    for n in range(count):
        yield f"--{boundary}\r\nContent-Disposition: form-data; name=\"f{n}\"\r\n\r\n".encode()
        yield from zeros(size)
        yield b"\r\n"
    yield f"--{boundary}--\r\n".encode()


def _urlencoded_fields(count: int, size: int) -> Iterator[bytes]:
    for n in range(count):
        yield f"{'&' if n else ''}f{n}=".encode()
        yield from (b"a" * len(piece) for piece in zeros(size))


def _mcp_body(child: HostedChild, sandbox: SandboxServer, sizes: Sizes) -> checks.Row:
    row = checks.Row("abuse", f"/mcp: {sizes.mcp_body // MB} MB body with a read-only key")
    headers = {"Authorization": f"Bearer {child.keys['mallory']}", "Content-Type": "application/json",
               "Accept": "application/json, text/event-stream"}
    with PeakMemory(child) as peak:
        chunked = raw_post(child.url, "/mcp", headers, zeros(sizes.mcp_body))
        declared = raw_post(child.url, "/mcp", headers, zeros(sizes.mcp_body), declared=sizes.mcp_body)
    memory = _memory_check(row, peak, policy.MCP_BODY_MAX_BYTES)
    if (chunked.status, declared.status) != (413, 413):
        row.add("harm", [f"answers {chunked.status}/{declared.status}, not 413"])
    row.outcome = (f"413 after {chunked.sent / MB:.1f} MB sent chunked, {declared.sent / MB:.1f} MB declared; "
                   f"{memory}")
    return row


def _sessions(child: HostedChild, sandbox: SandboxServer, sizes: Sizes) -> checks.Row:
    row = checks.Row("abuse", f"sessions: one read-only key opens {sizes.sessions:,}")
    opened: list[str] = []
    refused = 0
    with httpx.Client(timeout=30) as http:
        for _ in range(sizes.sessions):
            attacker = McpSession(http, child.url, child.keys["mallory"])
            status = attacker.open()
            if status == 200 and attacker.session_id:
                opened.append(attacker.session_id)
            else:
                refused += 1
        others = [McpSession(http, child.url, child.keys[user]) for user in ("alice", "bob")]
        answers = [other.open() for other in others]
        alive = sum(McpSession(http, child.url, child.keys["mallory"], session_id=sid).send("ping", {})[0] == 200
                    for sid in opened[-2 * policy.SESSIONS_PER_USER:])
    if any(status != 200 for status in answers):
        row.add("harm", [f"another user's initialize was answered {answers}"])
    if alive > policy.SESSIONS_PER_USER:
        row.add("harm", [f"the key holds {alive} sessions (share {policy.SESSIONS_PER_USER})"])
    row.outcome = (f"{len(opened)} opened, {refused} refused; the key holds {alive} (share "
                   f"{policy.SESSIONS_PER_USER}); others' initialize: {'/'.join(map(str, answers))}")
    return row


def _header_tokens(child: HostedChild, sandbox: SandboxServer, sizes: Sizes) -> checks.Row:
    row = checks.Row("abuse", f"X-MVSep-Token: {sizes.header_tokens:,} different values from one key")
    before_requests, before_fds = sandbox.state.traffic.requests, child.descriptors()
    refused = busy = 0
    with httpx.Client(timeout=30) as http:
        session = McpSession(http, child.url, child.keys["mallory"])
        session.open()
        for n in range(sizes.header_tokens):
            _, text, _ = session.call("account_info", headers={"X-MVSep-Token": f"Chosen{n:07d}".ljust(30, "z")})
            refused += "does not accept the token sent in the X-MVSep-Token header" in text
            busy += "different MVSep tokens" in text
            if "MVSEP_API_TOKEN" in text or "mvsep-mcp login" in text:
                row.add("harm", [f"a hosted user was told local-install steps: {text[:120]}"])
                break
    asked = sandbox.state.traffic.requests - before_requests
    after_fds = child.descriptors()
    bound = policy.HEADER_TOKENS_PER_USER + 2  # one question per admitted token (plus the catalogue, at most)
    if asked > bound:
        row.add("harm", [f"{asked} MVSep requests (bound {bound})"])
    grown = None if before_fds is None or after_fds is None else after_fds - before_fds
    if grown is not None and grown > policy.MVSEP_KEEPALIVE_CONNECTIONS:
        row.add("harm", [f"{grown} more open descriptors afterwards"])
    row.outcome = (f"{refused} refused by MVSep, {busy} past the key's share; {asked} MVSep requests; descriptors "
                   f"{'not measured' if grown is None else f'{grown:+d}'}")
    return row


def _log_doors(child: HostedChild, sandbox: SandboxServer, sizes: Sizes) -> checks.Row:
    row = checks.Row("abuse", f"log: {sizes.tickets} link tickets, chosen strings")
    token = "AbuseLinked".ljust(30, "0")
    sandbox.state.add_account(token, name="Abuse Linked", email="linked@abuse.test")
    chosen = ["ChosenWordAlpha", "ChosenWordBeta"]
    with httpx.Client(timeout=30) as http:
        session = McpSession(http, child.url, child.keys["bob"])
        session.open()
        links = []
        for _ in range(sizes.tickets):
            _, text, _ = session.call("account_info")
            found = LINK.search(text)
            if found:
                links.append(found.group(0))
        session.call("account_info", headers={"X-MVSep-Token": chosen[0]})
        page = http.get(links[0]) if links else None
        action = FORM_ACTION.search(page.text) if page is not None else None
        if action is not None:
            target = str(httpx.URL(links[0]).join(html.unescape(action.group(1))))
            http.post(target, data={"token": token, "confirm": "yes"})  # links bob's account: the ticket is used
            http.post(target, data={"token": chosen[1], "confirm": "yes"})  # a used page, its old CSRF value
        still = [link for link in links[1:] if http.get(link).status_code != 410]
        for word in chosen:
            http.get(f"{child.url}/{word}")  # the access log writes the path: the word must be there
    log = child.log()
    tickets = [link.rsplit("/", 1)[1] for link in links]
    row.add("leaks", [f"link ticket {t[:6]}… in the log" for t in tickets if t in log])
    row.add("harm", [f"{len(still)} of the user's other tickets still work after one was used"] if still else [])
    row.add("harm", [f"{w!r} blanked out of the log" for w in chosen if f"GET /{w} 404" not in log])
    if len(links) < sizes.tickets:
        row.add("harm", [f"only {len(links)} of {sizes.tickets} answers carried a link"])
    row.outcome = (f"{len(links)} tickets, {sum(t in log for t in tickets)} in the log, {len(still)} still valid "
                   f"after one was used; chosen words intact: {all(f'GET /{w} 404' in log for w in chosen)}")
    return row


def _log_forgery(child: HostedChild, sandbox: SandboxServer, sizes: Sizes) -> checks.Row:
    row = checks.Row("abuse", "log: a forged line and escape sequences in a path")
    paths = ["/x%0a" + FORGED.replace(" ", "%20"), "/x%0d%0a" + FORGED.replace(" ", "%20"),
             "/x%1b%5b2J%1b%5b31mred", "/x%e2%80%a8" + FORGED.replace(" ", "%20")]
    with httpx.Client(timeout=30) as http:
        for path in paths:
            http.get(child.url + path)
    lines = child.log().splitlines()
    forged = [line for line in lines if line.startswith("2000-01-01")]
    escapes = [line for line in lines if "\x1b" in line or "\u2028" in line or "\r" in line]
    row.add("harm", [f"forged line: {line[:80]!r}" for line in forged])
    row.add("harm", [f"escape sequence in: {line[:80]!r}" for line in escapes])
    row.outcome = f"{len(paths)} paths sent; {len(forged)} forged lines, {len(escapes)} lines with escapes"
    return row
