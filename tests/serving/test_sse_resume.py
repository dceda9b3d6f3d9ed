"""Resumable SSE streams: the store's cursors directly, then the raw stream of ``mvsep-mcp serve --transport http``
(every POST's stream opens with a priming event and ``retry:``; a dropped call is resumed with ``Last-Event-ID``)."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from mcp_types.jsonrpc import JSONRPCError, JSONRPCNotification, JSONRPCResponse
from mvsep_mcp import policy
from mvsep_mcp.serving.sse_resume import NO_ID, ResumableStreams
from mvsep_mcp_testbench.sandbox import SANDBOX_PREMIUM_TOKEN, JobTiming, SandboxServer, SandboxState

from tests.audio_factory import make_audio
from tests.http_server import serving_http

VERSION = "2025-11-25"


def response(request_id: int) -> JSONRPCResponse:
    return JSONRPCResponse(jsonrpc="2.0", id=request_id, result={})


async def nothing_sent(_: Any) -> None:
    raise AssertionError("no message is kept, so none is replayed")


async def test_a_cursor_resumes_its_stream_until_it_is_answered() -> None:
    store = ResumableStreams()
    cursor = await store.store_event("7", None)
    other = await store.store_event("8", None)
    assert len(cursor) >= 20 and cursor != other
    note = JSONRPCNotification(jsonrpc="2.0", method="notifications/progress", params={})
    assert await store.store_event("7", note) == NO_ID  # messages get no id: Last-Event-ID stays the cursor
    assert await store.replay_events_after(cursor, nothing_sent) == "7"
    assert await store.store_event("7", response(7)) == NO_ID
    assert await store.replay_events_after(cursor, nothing_sent) is None  # answered: the client asks again
    assert await store.replay_events_after(other, nothing_sent) == "8"
    error = JSONRPCError(jsonrpc="2.0", id=8, error={"code": -32800, "message": "Request cancelled"})
    await store.store_event("8", error)
    assert await store.replay_events_after(other, nothing_sent) is None
    assert await store.replay_events_after("made-up", nothing_sent) is None


async def test_the_same_request_id_in_another_session_ends_it_cautiously() -> None:
    """Every client numbers its requests from 1: an answer under that id may be either session's, so neither resumes
    (never a stream that is not the caller's)."""
    store = ResumableStreams()
    mine, theirs = await store.store_event("1", None), await store.store_event("1", None)
    await store.store_event("1", response(1))
    assert await store.replay_events_after(mine, nothing_sent) is None
    assert await store.replay_events_after(theirs, nothing_sent) is None


async def test_cursors_are_forgotten_after_the_window_and_beyond_the_limit() -> None:
    now = [0.0]
    store = ResumableStreams(window_s=10.0, max_streams=3, clock=lambda: now[0])
    first = await store.store_event("1", None)
    now[0] = 11.0
    assert await store.replay_events_after(first, nothing_sent) is None and store.streams == 0
    cursors = [await store.store_event(str(n), None) for n in range(5)]
    assert store.streams <= 4
    assert await store.replay_events_after(cursors[0], nothing_sent) is None
    assert await store.replay_events_after(cursors[-1], nothing_sent) == "4"
    assert store._unanswered.keys() == {"2", "3", "4"}  # the forgotten ones leave nothing behind


# --- the raw stream -----------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    """The HTTP server against a sandbox whose jobs take about three seconds; its URL and a song."""
    root = tmp_path_factory.mktemp("sse")
    timing = JobTiming(queue_s=1.0, queue_positions=1, processing_s=2.0)
    with SandboxServer(SandboxState(timing=timing)) as sandbox:
        env = {"PATH": os.environ.get("PATH", ""), "HOME": str(root), "MVSEP_BASE_URL": sandbox.base_url,
               "MVSEP_API_TOKEN": SANDBOX_PREMIUM_TOKEN, "MVSEP_OUTPUT_DIR": str(root / "out"),
               "MVSEP_DATA_DIR": str(root / "data"), "MVSEP_POLL_INTERVAL": "0.1", "MVSEP_STATUS_RATE": "100000",
               "MVSEP_AUTO_APPROVE_CREDITS": "1000000", "MVSEP_CONFIG": str(root / "absent.toml"),
               "MVSEP_CREDENTIALS": str(root / "absent.json")}
        with serving_http(env, root / "server.log") as url:
            yield url, make_audio(root / "in", "flac", name="Resumed", seconds=1)


def events(lines: Iterator[str]) -> Iterator[dict[str, str]]:
    """SSE events off raw lines: each a dict of its fields (``data`` lines joined)."""
    event: dict[str, str] = {}
    for line in lines:
        if not line:
            if event:
                yield event
            event = {}
            continue
        field, _, value = line.partition(":")
        value = value.removeprefix(" ")
        event[field] = event[field] + "\n" + value if field == "data" and field in event else value


class Session:
    def __init__(self, http: httpx.Client, url: str) -> None:
        self.http, self.url = http, url
        self.headers = {"Accept": "application/json, text/event-stream", "MCP-Protocol-Version": VERSION}
        first = self.post(1, "initialize", {"protocolVersion": VERSION, "capabilities": {},
                                            "clientInfo": {"name": "raw", "version": "1"}})
        self.opening = first
        self.headers["Mcp-Session-Id"] = self.session_id
        self.http.post(url, headers=self.headers, json={"jsonrpc": "2.0", "method": "notifications/initialized"})

    def post(self, request_id: int, method: str, params: dict[str, Any]) -> list[dict[str, str]]:
        with self.http.stream("POST", self.url, headers=self.headers,
                              json={"jsonrpc": "2.0", "id": request_id, "method": method, "params": params}) as sent:
            assert sent.headers["content-type"].startswith("text/event-stream")
            self.session_id = sent.headers["mcp-session-id"]
            return list(events(sent.iter_lines()))

    def call(self, request_id: int, tool: str, arguments: dict[str, Any]) -> dict[str, Any]:
        found = self.post(request_id, "tools/call", {"name": tool, "arguments": arguments})
        return json.loads(found[-1]["data"])["result"]  # type: ignore[no-any-return]


def test_every_stream_opens_with_a_priming_event_and_retry(server: tuple[str, Path]) -> None:
    url, _ = server
    with httpx.Client(timeout=30) as http:
        session = Session(http, url)
        for stream in (session.opening, session.post(2, "ping", {}), session.post(3, "tools/list", {})):
            priming, answer = stream[0], stream[-1]
            assert priming["data"] == "" and len(priming["id"]) >= 20
            assert priming["retry"] == str(policy.SSE_RETRY_MS)
            assert answer.get("event") == "message" and "id" not in answer  # messages carry no cursor


def test_a_dropped_call_is_resumed_with_last_event_id(server: tuple[str, Path]) -> None:
    url, song = server
    with httpx.Client(timeout=30) as http:
        session = Session(http, url)
        started = session.call(2, "separate_audio", {"inputs": [str(song)], "model": "27"})
        job_id = started["structuredContent"]["jobs"][0]["id"]
        wait = {"jsonrpc": "2.0", "id": 3, "method": "tools/call",
                "params": {"name": "wait_for_jobs", "arguments": {"job_ids": [job_id], "max_wait_s": 30}}}
        with http.stream("POST", url, headers=session.headers, json=wait) as sent:
            priming = next(events(sent.iter_lines()))  # then the connection drops, the job still running
        assert priming["data"] == ""
        dropped_at = time.monotonic()
        resume = {**session.headers, "Accept": "text/event-stream", "Last-Event-ID": priming["id"]}
        with http.stream("GET", url, headers=resume) as resumed:
            assert resumed.status_code == 200
            answers = (e for e in events(resumed.iter_lines()) if e.get("event") == "message")
            result = next(json.loads(e["data"]) for e in answers if json.loads(e["data"]).get("id") == 3)
        assert result["result"]["structuredContent"]["jobs"][0]["state"] == "completed"
        assert time.monotonic() - dropped_at < 30

        with http.stream("GET", url, headers=resume) as again:  # answered since: nothing to resume
            assert [e for e in events(again.iter_lines()) if e.get("event") == "message"] == []
