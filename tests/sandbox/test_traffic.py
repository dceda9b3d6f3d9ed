"""The sandbox's request log: every request with its path, account, status, bytes and times."""

from __future__ import annotations

import time
from pathlib import Path

import httpx
from mvsep_mcp_testbench.sandbox import SANDBOX_FREE_TOKEN, FaultRule, SandboxServer

from tests.sandbox.conftest import create


def test_every_request_is_counted_with_its_bytes(sandbox: SandboxServer, api: httpx.Client, song: Path) -> None:
    traffic = sandbox.state.traffic
    since = time.time()
    created = create(api, SANDBOX_FREE_TOKEN, song)
    assert created.status_code == 200
    job_hash = created.json()["data"]["hash"]
    api.get("/separation/get", params={"hash": job_hash, "api_token": SANDBOX_FREE_TOKEN})
    api.get("/separation/get", params={"hash": job_hash})
    sandbox.state.faults.append(FaultRule("/api/app/news", kind="status", status=503))
    assert api.get("/app/news").status_code == 503

    [upload] = traffic.records("/api/separation/create", since=since)
    assert upload.method == "POST" and upload.status == 200 and upload.token is None  # the token is in the form
    assert upload.bytes_in > song.stat().st_size and upload.bytes_out == len(created.content)
    assert traffic.bytes_in("/api/separation/create", since=since) == upload.bytes_in
    assert len(traffic.records("/api/separation/get", token=SANDBOX_FREE_TOKEN, since=since)) == 1
    assert len(traffic.records("/api/separation/get", since=since)) == 2
    [news] = traffic.records("/api/app/news", since=since)
    assert news.status == 503 and news.finished is not None and news.finished >= news.started
