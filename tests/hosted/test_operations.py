"""Operating a hosted server: health and readiness, Prometheus metrics that move with the work, a request id on
every response and every log line written for it (text or JSON), bearer tokens redacted from logs, and the
``mvsep-mcp keys`` command."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from mvsep_mcp import cli
from mvsep_mcp.hosted.api_keys import add_key, read_keys
from mvsep_mcp.logs import REQUEST_ID, JsonFormatter, RedactingFilter, redact
from mvsep_mcp_testbench.sandbox import SandboxServer
from prometheus_client.parser import text_string_to_metric_families

from tests.http_server import free_port

from .conftest import RunningServer, hosted_settings, mcp_client, text_of

pytestmark = pytest.mark.timeout(180)


@pytest.fixture(scope="module")
def keyed(tmp_path_factory: pytest.TempPathFactory, sandbox: SandboxServer) -> Iterator[tuple[RunningServer, str]]:
    """A self-hosted server with static API keys only (no authorization server) and one user's key."""
    root = tmp_path_factory.mktemp("ops")
    keys = root / "keys"
    key = add_key(keys, "ops-user")
    port = free_port()
    with RunningServer(hosted_settings(root, sandbox.base_url, port, auth_api_keys=str(keys)), port) as running:
        yield running, key


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    found: dict[tuple[str, tuple[tuple[str, str], ...]], float] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            found[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return found


async def test_metrics_move_with_the_work(keyed: tuple[RunningServer, str], sandbox: SandboxServer,
                                          song_urls: list[str]) -> None:
    server, key = keyed
    token = "OpsUser".ljust(30, "0")
    sandbox.state.add_account(token, email="ops@users.test")
    async with httpx.AsyncClient() as http:
        before = samples((await http.get(server.url + "/metrics")).text)
        async with mcp_client(server.url, key, headers={"X-MVSep-Token": token}) as client:
            started = await client.call_tool("separate_audio", {"inputs": song_urls[:1], "model": 27})
            assert not started.is_error, text_of(started)
            job_id = (started.structured_content or {})["jobs"][0]["id"]
            for _ in range(60):
                done = await client.call_tool("wait_for_jobs", {"job_ids": [job_id], "max_wait_s": 5})
                if (done.structured_content or {}).get("all_finished"):
                    break
            assert await client.call_tool("cancel_job", {"job_id": "jnothing"})  # an error, counted
        answer = await http.get(server.url + "/metrics")
    assert answer.status_code == 200 and answer.headers["content-type"].startswith("text/plain")
    after = samples(answer.text)
    assert after[("mvsep_creates_total", ())] == before.get(("mvsep_creates_total", ()), 0) + 1
    assert after[("mvsep_polls_total", ())] > 0
    assert after[("mvsep_downloads_total", ())] >= 2 and after[("mvsep_download_bytes_total", ())] > 0
    assert ("mvsep_retries_total", ()) in after and after[("mvsep_requests_total", ())] > 0
    assert after[("mvsep_jobs", (("state", "completed"),))] >= 1
    assert after[("mvsep_jobs", (("state", "failed"),))] == 0
    assert after[("mvsep_tool_calls_total", (("tool", "separate_audio"),))] >= 1
    assert after[("mvsep_tool_errors_total", (("tool", "cancel_job"),))] >= 1
    assert after[("mvsep_runner_running", ())] == 1 and after[("mvsep_journal_up", ())] == 1


async def test_every_response_and_log_line_carries_the_request_id(
        keyed: tuple[RunningServer, str], caplog: pytest.LogCaptureFixture) -> None:
    server, key = keyed
    caplog.set_level(logging.DEBUG, logger="mvsep_mcp")
    async with httpx.AsyncClient() as http:
        given = await http.get(server.url + "/healthz", headers={"X-Request-Id": "proxy-abc-123"})
        made = await http.get(server.url + "/readyz")
        odd = await http.get(server.url + "/healthz", headers={"X-Request-Id": "bad id with spaces\x7f"})
    assert given.headers["x-request-id"] == "proxy-abc-123"
    assert len(made.headers["x-request-id"]) == 16 and odd.headers["x-request-id"] != "bad id with spaces\x7f"
    lines = [r for r in caplog.records if r.name == "mvsep_mcp.http"]
    assert any(r.getMessage().startswith("GET /healthz 200 ") for r in lines)  # one line per request
    tagged = [r for r in lines if getattr(r, "request_id", None) == "proxy-abc-123"]
    assert tagged, [(r.getMessage(), getattr(r, "request_id", None)) for r in lines]


def test_capability_urls_are_logged_without_their_secret() -> None:
    from mvsep_mcp.serving.http_server import _loggable

    assert _loggable("/files/eyJzaWduZWQ.abc/song.flac") == "/files/***/song.flac"
    assert _loggable("/account/link/T1cket-xyz") == "/account/link/***"
    assert _loggable("/mcp") == "/mcp"


def test_log_lines_as_json_with_the_request_id() -> None:
    record = logging.LogRecord("mvsep_mcp.jobs", logging.INFO, __file__, 1, "job %s done with Bearer %s",
                               ("j1234567", "eyJhbGciOi.secret.sig"), None)
    token = REQUEST_ID.set("req-42")
    try:
        RedactingFilter().filter(record)
    finally:
        REQUEST_ID.reset(token)
    line = json.loads(JsonFormatter().format(record))
    assert line["request_id"] == "req-42" and line["logger"] == "mvsep_mcp.jobs" and line["level"] == "INFO"
    assert line["message"] == "job j1234567 done with Bearer ***"


def test_bearer_tokens_never_reach_a_log() -> None:
    assert redact("Authorization: Bearer mvsk_abc.DEF-123") == "Authorization: Bearer ***"


async def test_readiness_fails_before_the_server_runs() -> None:
    from mvsep_mcp.serving.pages import health_routes
    from starlette.applications import Starlette

    app = Starlette(routes=health_routes(lambda: None, None))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as http:
        assert (await http.get("/readyz")).status_code == 503
        assert (await http.get("/healthz")).status_code == 200


def test_the_keys_command(tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cli, "setup_logging", lambda *args: None)  # keep the test run's own logging as it is
    path = tmp_path / "keys"
    assert cli.main(["keys", "add", "carol", "--file", str(path), "--scopes", "mvsep:read"]) == 0
    key = capsys.readouterr().out.strip()
    assert key.startswith("mvsk_") and key not in path.read_text()
    assert [(k.user, k.scopes) for k in read_keys(path)] == [("carol", ("mvsep:read",))]
    assert cli.main(["keys", "list", "--file", str(path)]) == 0
    assert capsys.readouterr().out.startswith("carol\tmvsep:read\t")
    assert cli.main(["keys", "add", "dave", "--file", str(path), "--scopes", "mvsep:everything"]) == 2
    assert cli.main(["keys", "remove", "carol", "--file", str(path)]) == 0
    assert read_keys(path) == []
    assert cli.main(["keys", "server-key"]) == 0
    assert len(capsys.readouterr().out.strip()) >= 32
