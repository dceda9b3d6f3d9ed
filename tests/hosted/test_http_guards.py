"""The HTTP server's limits over real HTTP on loopback (http_guards, and the link page's own checks): a body past a
route's limit is refused before it is read; a user's sessions beyond their share close their own idle ones first and
never touch another user's; tool calls beyond a user's share get a sentence naming the wait and ``Retry-After``; the
link page refuses another user's sign-in and takes only its own small form."""

from __future__ import annotations

import contextlib
import html
import re
from collections.abc import Iterator

import httpx
import pytest
from mvsep_mcp.hosted.api_keys import add_key
from mvsep_mcp_testbench.faults.abuse_server import McpSession, raw_post, zeros
from mvsep_mcp_testbench.sandbox import SandboxServer

from tests.http_server import free_port

from .conftest import INITIALIZE, LINK_URL, MCP_HEADERS, RunningServer, hosted_settings, mcp_client, text_of

pytestmark = pytest.mark.timeout(180)
SESSIONS, CALLS = 3, 6


@pytest.fixture(scope="module")
def keyed(tmp_path_factory: pytest.TempPathFactory,
          sandbox: SandboxServer) -> Iterator[tuple[RunningServer, dict[str, str]]]:
    root = tmp_path_factory.mktemp("guards")
    keys_file = root / "keys"
    keys = {user: add_key(keys_file, user, ("mvsep:read", "mvsep:separate", "mvsep:account"))
            for user in ("mallory", "alice", "carol")}
    port = free_port()
    settings = hosted_settings(root, sandbox.base_url, port, auth_api_keys=str(keys_file),
                               sessions_per_user=str(SESSIONS), calls_per_minute=str(CALLS))
    with RunningServer(settings, port) as running:
        yield running, keys


async def test_a_users_idle_sessions_make_room_and_nobody_elses(keyed: tuple[RunningServer, dict[str, str]]) -> None:
    server, keys = keyed
    with httpx.Client(timeout=30) as http:
        alice = McpSession(http, server.url, keys["alice"])
        assert alice.open() == 200
        mallory = [McpSession(http, server.url, keys["mallory"]) for _ in range(20)]
        assert all(m.open() == 200 for m in mallory)  # each new one closed mallory's idlest
        assert [m.send("ping", {})[0] for m in mallory[-SESSIONS:]] == [200] * SESSIONS
        assert all(m.send("ping", {})[0] == 404 for m in mallory[:-SESSIONS])  # closed: the client starts anew
        assert alice.send("ping", {})[0] == 200  # another user's session was never touched
        assert McpSession(http, server.url, keys["carol"]).open() == 200


async def test_with_no_idle_session_a_user_is_refused_with_retry_after(
        keyed: tuple[RunningServer, dict[str, str]]) -> None:
    """Sessions with a request in flight (here each one's GET stream, which a client keeps open for the server's
    messages) are never closed to make room: the next one is refused, 429 with Retry-After."""
    server, keys = keyed
    with httpx.Client(timeout=30) as http:
        sessions = [McpSession(http, server.url, keys["carol"]) for _ in range(SESSIONS)]
        assert all(s.open() == 200 for s in sessions)
    async with httpx.AsyncClient(timeout=30) as http, contextlib.AsyncExitStack() as streams:
        for session in sessions:
            assert session.session_id
            stream = await streams.enter_async_context(http.stream("GET", server.url + "/mcp", headers={
                "Accept": "text/event-stream", "Authorization": f"Bearer {keys['carol']}",
                "Mcp-Session-Id": session.session_id, "MCP-Protocol-Version": "2025-06-18"}))
            assert stream.status_code == 200
        refused = await http.post(server.url + "/mcp", json=INITIALIZE,
                                  headers={**MCP_HEADERS, "Authorization": f"Bearer {keys['carol']}"})
        assert refused.status_code == 429 and int(refused.headers["retry-after"]) >= 1
        assert "Too many open sessions for this sign-in" in refused.text
        other = await http.post(server.url + "/mcp", json=INITIALIZE,
                                headers={**MCP_HEADERS, "Authorization": f"Bearer {keys['alice']}"})
        assert other.status_code == 200  # nobody else is held up


@pytest.mark.parametrize("mode", ["legacy", "auto"])
async def test_tool_calls_beyond_a_users_share_name_the_wait(keyed: tuple[RunningServer, dict[str, str]],
                                                             mode: str) -> None:
    server, _ = keyed
    key = add_key(server.settings.hosted.api_keys_file, f"rate-{mode}", ("mvsep:read",))  # a fresh budget
    async with mcp_client(server.url, key, mode=mode) as client:
        answers = [await client.call_tool("search_models", {"text": "demucs", "limit": 1}) for _ in range(CALLS + 1)]
    assert not any(a.is_error for a in answers[:CALLS]), [text_of(a) for a in answers]
    assert answers[-1].is_error
    assert re.search(r"at most 6 tool calls and resource reads a minute from one user\. Wait \d+ seconds",
                     text_of(answers[-1])), text_of(answers[-1])
    with httpx.Client(timeout=30) as http:
        session = McpSession(http, server.url, key)
        session.open()
        status, message, headers = session.send("tools/call", {"name": "search_models", "arguments": {}})
    assert status == 200 and int(headers["retry-after"]) >= 1 and message and message["result"]["isError"]


async def test_bodies_past_a_routes_limit_are_refused_unread(keyed: tuple[RunningServer, dict[str, str]]) -> None:
    server, keys = keyed
    assert raw_post(server.url, "/healthz", {}, zeros(64 * 1024)).status == 413
    assert raw_post(server.url, "/account/link/x", {"Content-Type": "multipart/form-data; boundary=b"},
                    zeros(10 * 1024 * 1024), declared=10 * 1024 * 1024).status == 413
    answer = raw_post(server.url, "/mcp", {"Authorization": f"Bearer {keys['mallory']}",
                                           "Content-Type": "application/json"}, zeros(20 * 1024 * 1024))
    assert answer.status == 413 and answer.sent < 20 * 1024 * 1024


async def test_the_link_page_is_its_users_only_and_takes_its_small_form_only(
        keyed: tuple[RunningServer, dict[str, str]]) -> None:
    server, keys = keyed
    async with mcp_client(server.url, keys["alice"]) as client:
        offer = text_of(await client.call_tool("account_info", {}))
    link = LINK_URL.search(offer)
    assert link
    async with httpx.AsyncClient(timeout=30) as http:
        other = await http.get(link.group(1), headers={"Authorization": f"Bearer {keys['mallory']}"})
        assert other.status_code == 403 and "made for another user" in other.text
        own = await http.get(link.group(1), headers={"Authorization": f"Bearer {keys['alice']}"})
        assert own.status_code == 200 and "<b>alice</b>" in own.text
        action = re.search(r'<form method="post" action="([^"]+)"', own.text)
        assert action
        target = str(httpx.URL(link.group(1)).join(html.unescape(action.group(1))))
        multipart = await http.post(target, files={"token": ("t", b"x")}, data={"confirm": "yes"})
        assert multipart.status_code == 415  # never a temporary file
        many = await http.post(target, content="&".join(f"f{n}=1" for n in range(10)),
                               headers={"Content-Type": "application/x-www-form-urlencoded"})
        assert many.status_code == 400
        page = await http.get(link.group(1))
        assert page.status_code == 200  # none of that used the ticket up
