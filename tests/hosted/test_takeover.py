"""Hosted replicas take over each other's users: two servers on one PostgreSQL journal and one stems volume. A user
links their account and starts a job through replica A; A stops mid-job; replica B, which that user never talked to,
finds the linked account with unfinished jobs (its resume sweep), opens its sealed token with the shared server key,
and finishes the job: created once, downloaded once, the user sees it completed through B."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import anyio
import httpx
import psycopg
import pytest
from mvsep_mcp.serving import users as accounts
from mvsep_mcp_testbench.sandbox import JobTiming, SandboxServer, SandboxState

from tests.http_server import free_port

from .conftest import Issuer, RunningServer, hosted_settings, link_account, mcp_client, text_of

pytestmark = pytest.mark.timeout(300)

SLOW_QUEUE = JobTiming(queue_s=3.0, queue_positions=3, processing_s=0.5, long_input_s=600.0, distributing_s=0.5,
                       merging_s=0.2, chunk_s=60.0, remote_download_s=0.1, quality_s=0.3)


def journal_state(url: str, job_id: str) -> str | None:
    with psycopg.connect(url) as conn:
        row = conn.execute("SELECT state FROM jobs WHERE id = %s", (job_id,)).fetchone()
    return str(row[0]) if row else None


def replicas(tmp_path: Path, issuer: Issuer, postgres_url: str,
             sandbox: SandboxServer) -> tuple[RunningServer, RunningServer]:
    """Replicas A and B (not started yet) on one PostgreSQL journal, one stems volume and one server key."""
    shared = {"database_url": postgres_url, "output_dir": str(tmp_path / "stems"), "lease_ttl": "1",
              "server_key": "s" * 43, "auth_issuer": issuer.issuer, "auth_jwks_url": issuer.url + "/jwks.json"}
    port_a, port_b = free_port(), free_port()
    return (RunningServer(hosted_settings(tmp_path / "a", sandbox.base_url, port_a, **shared), port_a),
            RunningServer(hosted_settings(tmp_path / "b", sandbox.base_url, port_b, **shared), port_b))


async def start_until_created(client: Any, song_url: str) -> str:
    """Start a separation of ``song_url`` and wait until MVSep has the job (active, with its hash); its id."""
    started = await client.call_tool("separate_audio", {"inputs": [song_url], "model": 27})
    assert not started.is_error, text_of(started)
    job_id = str((started.structured_content or {})["jobs"][0]["id"])
    job: dict[str, Any] = {}
    for _ in range(100):
        waited = await client.call_tool("wait_for_jobs", {"job_ids": [job_id], "max_wait_s": 0.2})
        job = (waited.structured_content or {})["jobs"][0]
        if job["state"] == "active" and job.get("hash"):
            break
    assert job["state"] == "active", job
    return job_id


def assert_created_and_downloaded_once(sandbox: SandboxServer, token: str) -> None:
    assert sandbox.state.traffic.creates(token) == 1
    downloads = Counter(r.path for r in sandbox.state.traffic.records("/storage/*", method="GET"))
    assert downloads and all(n == 1 for n in downloads.values()), downloads


async def test_a_linked_users_job_started_on_a_stopped_replica_finishes_on_the_other(
        tmp_path: Path, issuer: Issuer, song_urls: list[str], postgres_url: str,
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(accounts.policy, "HOSTED_RESUME_SWEEP_S", 0.2)  # look for orphaned users' jobs often
    token = "TakeoverUser".ljust(30, "0")
    with SandboxServer(SandboxState(timing=SLOW_QUEUE)) as sandbox:
        sandbox.state.add_account(token, email="takeover@users.test")
        a, b = replicas(tmp_path, issuer, postgres_url, sandbox)
        with a:
            bearer_a = issuer.token("taylor", aud=a.url + "/mcp")
            async with mcp_client(a.url, bearer_a) as client, httpx.AsyncClient() as http:
                first = await client.call_tool("list_jobs", {})
                await link_account(http, text_of(first), token)
                job_id = await start_until_created(client, song_urls[0])
            assert sandbox.state.status_of(sandbox.state.jobs_of(token)[0]) in ("waiting", "processing")
        with b:  # A is gone mid-job; B was never asked about this user, and is not until the job has completed
            for _ in range(300):
                if journal_state(postgres_url, job_id) == "completed":
                    break
                await anyio.sleep(0.1)
            assert journal_state(postgres_url, job_id) == "completed"
            bearer_b = issuer.token("taylor", aud=b.url + "/mcp")  # the same user, at B's address
            async with mcp_client(b.url, bearer_b) as client:
                for _ in range(60):
                    waited = await client.call_tool("wait_for_jobs", {"job_ids": [job_id], "max_wait_s": 5})
                    assert not waited.is_error, text_of(waited)
                    done = waited.structured_content or {}
                    if done["all_finished"]:
                        break
        [job] = done["jobs"]
        assert job["state"] == "completed", job
        assert_created_and_downloaded_once(sandbox, token)


def kept_tokens(url: str) -> list[tuple[str, str]]:
    with psycopg.connect(url) as conn:
        return [(str(r[0]), str(r[1])) for r in conn.execute("SELECT account_key, sealed_token FROM job_tokens")]


async def test_a_job_started_with_a_per_request_token_finishes_on_the_other_replica(
        tmp_path: Path, issuer: Issuer, song_urls: list[str], postgres_url: str,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """The user never linked an account: their automation sends ``X-MVSep-Token`` with each request. The token is
    kept sealed while the job runs, so B finishes it after A stops; then it is dropped, and it never served as a
    linked account (a call without the header is offered the link page)."""
    monkeypatch.setattr(accounts.policy, "HOSTED_RESUME_SWEEP_S", 0.2)
    monkeypatch.setattr(accounts.policy, "JOB_TOKEN_GRACE_S", 1.0)
    token = "HeaderUser".ljust(30, "0")
    with SandboxServer(SandboxState(timing=SLOW_QUEUE)) as sandbox:
        sandbox.state.add_account(token, email="header@users.test")
        a, b = replicas(tmp_path, issuer, postgres_url, sandbox)
        with a:
            bearer_a = issuer.token("robin", aud=a.url + "/mcp")
            async with mcp_client(a.url, bearer_a, headers={"X-MVSep-Token": token}) as client:
                job_id = await start_until_created(client, song_urls[0])
            [(_, sealed)] = kept_tokens(postgres_url)
            assert token not in sealed  # sealed with the server key
            assert sandbox.state.status_of(sandbox.state.jobs_of(token)[0]) in ("waiting", "processing")
        with b:  # A is gone mid-job; B has never seen this user nor their token but through the kept row
            for _ in range(300):
                if journal_state(postgres_url, job_id) == "completed" and not kept_tokens(postgres_url):
                    break
                await anyio.sleep(0.1)
            assert journal_state(postgres_url, job_id) == "completed"
            assert kept_tokens(postgres_url) == []  # dropped once the account had no unfinished job
            bearer_b = issuer.token("robin", aud=b.url + "/mcp")
            async with mcp_client(b.url, bearer_b, headers={"X-MVSep-Token": token}) as client:
                waited = await client.call_tool("wait_for_jobs", {"job_ids": [job_id], "max_wait_s": 5})
                assert not waited.is_error, text_of(waited)
                [job] = (waited.structured_content or {})["jobs"]
            async with mcp_client(b.url, bearer_b) as client:  # without the header: no account to act as
                unlinked = await client.call_tool("list_jobs", {})
                assert unlinked.is_error and "/account/link/" in text_of(unlinked)
        assert job["state"] == "completed", job
        assert_created_and_downloaded_once(sandbox, token)
