"""One MVSep account per user, over real HTTP on loopback: a user links their own token on the server's one-time
page (never through the model) or sends it per request; it is stored sealed; their files stay in their own storage
and reach them as signed, expiring download links and resource links, never as server paths; a hosted server reads
nothing from its own disk for them and lets no client pick a folder on it.
"""

from __future__ import annotations

import json
import re
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import anyio
import httpx
import pytest
from mcp import types
from mvsep_mcp.hosted.identity import User
from mvsep_mcp.hosted.storage import sweep
from mvsep_mcp.logs import redact
from mvsep_mcp_testbench.sandbox import SandboxServer

from tests.http_server import free_port

from .conftest import Issuer, RunningServer, form_action, hosted_settings, link_account, mcp_client, text_of

pytestmark = pytest.mark.timeout(180)
MODEL = 27  # Demucs4 Vocals 2023: two stems


def mvsep_token(sandbox: SandboxServer, name: str, *, premium: bool = False) -> str:
    token = f"Hosted{name}".ljust(30, "0")[:30]
    sandbox.state.add_account(token, name=name, email=f"{name.lower()}@users.test",
                              premium_minutes=1000 if premium else 0, premium_enabled=1 if premium else 0)
    return token


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, issuer: Issuer, sandbox: SandboxServer) -> Iterator[RunningServer]:
    root = tmp_path_factory.mktemp("users")
    port = free_port()
    settings = hosted_settings(root, sandbox.base_url, port, auth_issuer=issuer.issuer,
                               auth_jwks_url=issuer.url + "/jwks.json", user_quota_mb="1")
    with RunningServer(settings, port) as running:
        yield running


def bearer(issuer: Issuer, server: RunningServer, sub: str) -> str:
    return issuer.token(sub, aud=server.url + "/mcp")


async def call(client: Any, name: str, arguments: dict[str, Any]) -> tuple[bool, str, dict[str, Any], Any]:
    answer = await client.call_tool(name, arguments)
    return answer.is_error, text_of(answer), answer.structured_content or {}, answer


async def test_linking_on_the_one_time_page(server: RunningServer, issuer: Issuer, sandbox: SandboxServer) -> None:
    token = mvsep_token(sandbox, "Linda")
    async with mcp_client(server.url, bearer(issuer, server, "linda")) as client, httpx.AsyncClient() as http:
        failed, text, _, _ = await call(client, "account_info", {})
        assert failed and "/account/link/" in text and "Never ask for the token in the chat" in text
        link = re.search(r"(http://\S+/account/link/[\w-]+)", text)
        assert link
        page = await http.get(link.group(1))
        assert page.status_code == 200 and 'type="password"' in page.text
        assert "frame-ancestors 'none'" in page.headers["content-security-policy"]
        assert page.headers["cache-control"] == "no-store" and page.headers["referrer-policy"] == "no-referrer"
        assert "<b>linda</b>" in page.text and 'name="confirm"' in page.text  # who it links, to be confirmed
        action = form_action(link.group(1), page.text)
        forged = await http.post(link.group(1) + "?csrf=" + "0" * 64, data={"token": token, "confirm": "yes"})
        assert forged.status_code == 403
        no_csrf = await http.post(link.group(1), data={"token": token, "confirm": "yes"})
        assert no_csrf.status_code == 403
        cross = await http.post(action, data={"token": token, "confirm": "yes"},
                                headers={"Origin": "https://evil.example.org"})
        assert cross.status_code == 403
        unconfirmed = await http.post(action, data={"token": token})
        assert unconfirmed.status_code == 400 and "confirm that you are linda" in unconfirmed.text
        wrong = await http.post(action, data={"token": "Nope".ljust(30, "x"), "confirm": "yes"})
        assert wrong.status_code == 400 and "does not accept this token" in wrong.text  # the ticket still works
        done = await http.post(action, data={"token": token, "confirm": "yes"})
        assert done.status_code == 200 and "Linda" in done.text
        again = await http.post(action, data={"token": token, "confirm": "yes"})
        assert again.status_code == 410  # one time only
        failed, text, info, _ = await call(client, "account_info", {})
        assert not failed, text
        assert info["email"] == "linda@users.test" and info["token_source"] == "linked on this server"
    journal = server.settings.data_dir / "journal.sqlite3"
    assert token.encode() not in journal.read_bytes()  # sealed at rest
    with sqlite3.connect(journal) as db:
        assert db.execute("SELECT COUNT(*) FROM linked_accounts").fetchone()[0] >= 1


async def test_unlinking_on_a_fresh_one_time_page(server: RunningServer, issuer: Issuer,
                                                  sandbox: SandboxServer) -> None:
    """account_info names a fresh one-time page where a linked user replaces or unlinks their token; unlinking
    (same CSRF and origin rules as linking) deletes the sealed row, and the next call offers the link page again."""
    token = mvsep_token(sandbox, "Uma")
    journal = server.settings.data_dir / "journal.sqlite3"
    uma = User.of(issuer.issuer, "uma", "test-client").key

    def linked_rows() -> int:
        with sqlite3.connect(journal) as db:
            return int(db.execute("SELECT COUNT(*) FROM linked_accounts WHERE user_key = ?", (uma,)).fetchone()[0])

    async with mcp_client(server.url, bearer(issuer, server, "uma")) as client, httpx.AsyncClient() as http:
        _, offer, _, _ = await call(client, "account_info", {})
        await link_account(http, offer, token)
        assert linked_rows() == 1
        failed, text, _, _ = await call(client, "account_info", {})
        assert not failed and "replace or unlink" in text, text
        reader = issuer.token("uma", aud=server.url + "/mcp", scope="mvsep:read mvsep:separate")
        async with mcp_client(server.url, reader) as without_account_scope:
            failed, read_only, _, _ = await call(without_account_scope, "account_info", {})
            assert not failed and "unlink" not in read_only and "/account/link/" not in read_only, read_only
        link = re.search(r"(http://\S+/account/link/[\w-]+)", text)
        assert link
        page = await http.get(link.group(1))
        assert page.status_code == 200 and 'value="unlink"' in page.text
        action = form_action(link.group(1), page.text)
        unlinking = {"action": "unlink", "confirm": "yes"}
        forged = await http.post(link.group(1) + "?csrf=" + "0" * 64, data={**unlinking, "token": "Traceback"})
        assert redact("Traceback (most recent call last)") == "Traceback (most recent call last)"  # not a secret
        cross = await http.post(action, data=unlinking, headers={"Origin": "https://evil.example.org"})
        assert forged.status_code == cross.status_code == 403 and linked_rows() == 1
        done = await http.post(action, data=unlinking)
        assert done.status_code == 200 and "no longer holds your MVSep token" in done.text, done.text
        assert linked_rows() == 0
        again = await http.post(action, data=unlinking)
        assert again.status_code == 410  # one time only
        failed, text, _, _ = await call(client, "account_info", {})
        assert failed and "/account/link/" in text, text  # the link offer again
    async with mcp_client(server.url, bearer(issuer, server, "uma"), headers={"X-MVSep-Token": token}) as client:
        failed, text, info, _ = await call(client, "account_info", {})
        assert not failed and "unlink" not in text and info["token_source"] == "X-MVSep-Token header", text


async def test_a_host_that_opens_links_is_offered_the_page_mid_call(server: RunningServer, issuer: Issuer,
                                                                   sandbox: SandboxServer) -> None:
    """URL-mode elicitation (a legacy connection whose client declared it): the host opens the link page, the user
    pastes the token there, and the same call goes on with the linked account; the token never passes the model."""
    token = mvsep_token(sandbox, "Ursula")
    offered: list[types.ElicitRequestURLParams] = []

    async def open_the_page(context: Any, params: types.ElicitRequestParams) -> types.ElicitResult:
        assert isinstance(params, types.ElicitRequestURLParams), params
        offered.append(params)

        async def user_links() -> None:  # the user, in their browser, a few seconds after the host opened the page
            await anyio.sleep(2.5)
            async with httpx.AsyncClient() as http:
                await link_account(http, params.url, token)

        task_group.start_soon(user_links)
        return types.ElicitResult(action="accept")

    async with anyio.create_task_group() as task_group, \
            mcp_client(server.url, bearer(issuer, server, "ursula"), elicitation_callback=open_the_page) as client:
        failed, text, info, _ = await call(client, "account_info", {})
    assert len(offered) == 1 and "/account/link/" in offered[0].url and token not in offered[0].message
    assert not failed, text
    assert info["email"] == "ursula@users.test"
    ursula = User.of(issuer.issuer, "ursula", "test-client").key
    with sqlite3.connect(server.settings.data_dir / "journal.sqlite3") as db:  # waiting made no new links: the one
        assert db.execute("SELECT COUNT(*) FROM link_tickets WHERE user_key = ?",  # left is account_info's own
                          (ursula,)).fetchone()[0] == 1


async def test_a_declined_link_page_leaves_the_link_in_the_answer(server: RunningServer, issuer: Issuer) -> None:
    async def decline(context: Any, params: types.ElicitRequestParams) -> types.ElicitResult:
        return types.ElicitResult(action="decline")

    async with mcp_client(server.url, bearer(issuer, server, "dora"), elicitation_callback=decline) as client:
        failed, text, _, _ = await call(client, "account_info", {})
    assert failed and "/account/link/" in text


async def test_a_token_per_request_for_automation(server: RunningServer, issuer: Issuer,
                                                  sandbox: SandboxServer) -> None:
    token = mvsep_token(sandbox, "Robo")
    async with mcp_client(server.url, bearer(issuer, server, "robo"), headers={"X-MVSep-Token": token}) as client:
        failed, text, info, _ = await call(client, "account_info", {})
        assert not failed, text
        assert info["email"] == "robo@users.test"
    async with mcp_client(server.url, bearer(issuer, server, "robo")) as client:
        failed, text, _, _ = await call(client, "account_info", {})
        assert failed and "/account/link/" in text  # nothing was stored


async def test_a_hosted_server_reads_no_local_files_and_takes_no_folder(
        server: RunningServer, issuer: Issuer, sandbox: SandboxServer, song_urls: list[str]) -> None:
    token = mvsep_token(sandbox, "Paula")
    async with mcp_client(server.url, bearer(issuer, server, "paula"), headers={"X-MVSep-Token": token}) as client:
        tools = {t.name for t in (await client.list_tools()).tools}
        assert "login" not in tools and "register_account" not in tools  # the auth toolset is off in hosted mode
        failed, text, _, _ = await call(client, "separate_audio", {"inputs": ["/etc/passwd"], "model": MODEL})
        assert failed and "does not read files on its own disk" in text
        failed, text, _, _ = await call(client, "separate_audio", {"inputs": song_urls[:1], "model": MODEL,
                                                                    "output_dir": "/tmp/elsewhere"})
        assert failed and "leave output_dir out" in text
        failed, text, _, _ = await call(client, "master_audio", {"target": "/tmp/a.wav", "reference": "/tmp/b.wav"})
        assert failed and "hosted server" in text
        failed, text, _, _ = await call(client, "fetch_job_results", {"job_id": "j0000000", "output_dir": "/tmp/x"})
        assert failed and "own storage" in text


@pytest.mark.parametrize("mode", ["legacy", "auto"])
async def test_results_come_as_signed_links_never_server_paths(
        server: RunningServer, issuer: Issuer, sandbox: SandboxServer, song_urls: list[str], mode: str) -> None:
    token = mvsep_token(sandbox, f"Sam{mode}")
    output_dir = str(server.settings.output_dir)
    async with mcp_client(server.url, bearer(issuer, server, f"sam-{mode}"), mode=mode) as client, \
            httpx.AsyncClient() as http:
        failed, text, _, _ = await call(client, "list_jobs", {})
        assert failed
        await link_account(http, text, token)
        failed, text, started, _ = await call(client, "separate_audio", {"inputs": song_urls[:1], "model": MODEL})
        assert not failed, text
        assert started.get("jobs"), text
        job_id = started["jobs"][0]["id"]
        for _ in range(60):
            failed, text, done, answer = await call(client, "wait_for_jobs", {"job_ids": [job_id], "max_wait_s": 5})
            assert not failed, text
            if done["all_finished"]:
                break
        job = done["jobs"][0]
        assert job["state"] == "completed", job
        everything = json.dumps(answer.model_dump(mode="json")) + text
        assert output_dir not in everything and "/tmp/" not in everything  # no server path anywhere
        assert all("path" not in o and o["url"].startswith(server.url + "/files/") for o in job["outputs"])
        assert all(o["url"] in text for o in job["outputs"])  # the model can hand the downloads to the user
        links = [b for b in answer.content if b.type == "resource_link"]
        assert {str(b.uri) for b in links} >= {o["uri"] for o in job["outputs"]}
        first = job["outputs"][0]
        got = await http.get(first["url"])
        assert got.status_code == 200 and len(got.content) == first["size"]
        assert "attachment" in got.headers["content-disposition"]
        tampered = first["url"].replace("/files/", "/files/x")
        assert (await http.get(tampered)).status_code == 404
        read = await client.read_resource(first["uri"])  # the same bytes through resources/read, as the user
        assert read.contents and getattr(read.contents[0], "blob", None)
        failed, text, made, answer = await call(client, "mix_stems", {"job_id": job_id, "without": ["Vocals"]})
        assert not failed, text  # a file made of the stems: in the user's storage, a signed link, a resource
        everything = json.dumps(answer.model_dump(mode="json")) + text
        assert output_dir not in everything and "/tmp/" not in everything
        assert made["url"].startswith(server.url + "/files/") and made["url"] in text
        assert (await http.get(made["url"])).status_code == 200
        assert getattr((await client.read_resource(made["uri"])).contents[0], "blob", None)
        for uri in (f"mvsep://jobs/{job_id}", f"mvsep://jobs/{job_id}/manifest"):  # the job and its manifest too
            shown = (await client.read_resource(uri)).contents[0]
            text_of_it = getattr(shown, "text", "")
            assert text_of_it and output_dir not in text_of_it and "/tmp/" not in text_of_it, (uri, text_of_it)


def test_retention_sweeps_old_files_of_users_only(tmp_path: Path) -> None:
    import os
    import time

    user = tmp_path / ("a" * 24) / "Song"
    user.mkdir(parents=True)
    old, new = user / "old.flac", user / "new.flac"
    old.write_bytes(b"x")
    new.write_bytes(b"y")
    other = tmp_path / "not-a-user" / "keep.flac"
    other.parent.mkdir()
    other.write_bytes(b"z")
    week = 7 * 86400
    os.utime(old, (time.time() - week - 60, time.time() - week - 60))
    os.utime(other, (time.time() - week - 60, time.time() - week - 60))
    assert sweep(tmp_path, week) == 1
    assert not old.exists() and new.exists() and other.exists()


async def test_a_full_storage_refuses_new_jobs(server: RunningServer, issuer: Issuer, sandbox: SandboxServer,
                                               song_urls: list[str]) -> None:
    token = mvsep_token(sandbox, "Quinn")
    async with mcp_client(server.url, bearer(issuer, server, "quinn"), headers={"X-MVSep-Token": token}) as client:
        failed, text, _, _ = await call(client, "separate_audio", {"inputs": song_urls[:1], "model": MODEL,
                                                                    "dry_run": True})
        assert not failed, text
        quinn = server.settings.output_dir / User.of(issuer.issuer, "quinn", "test-client").key
        quinn.mkdir(parents=True, exist_ok=True)
        (quinn / "big.bin").write_bytes(b"\0" * (1024 * 1024 + 1))  # over the 1 MB quota of this server
        failed, text, _, _ = await call(client, "separate_audio", {"inputs": song_urls[:1], "model": MODEL})
        assert failed and "storage on this server is full" in text, text


def test_sentences_shown_to_a_user_name_no_server_path(tmp_path: Path) -> None:
    from mvsep_mcp.hosted.presenting import Presenter
    from mvsep_mcp.hosted.signing import DownloadSigner
    from mvsep_mcp.hosted.vault import ServerKey, new_server_key

    root = tmp_path / "storage" / ("a" * 24)
    presenter = Presenter(root, "a" * 24, DownloadSigner(ServerKey((new_server_key(),)), "https://mcp.example.org"))
    shown = presenter.text(f"Could not write {root}/Song/Song (vocals).flac: disk full; {root} and "
                           f"{tmp_path / 'storage'} are full")
    assert str(tmp_path) not in shown
    assert shown == ("Could not write Song/Song (vocals).flac: disk full; your folder and the server's storage "
                     "are full")


async def test_a_refused_token_tells_a_hosted_user_what_to_do(server: RunningServer, issuer: Issuer,
                                                              sandbox: SandboxServer) -> None:
    """MVSep refusing a token (sent as X-MVSep-Token, or linked and later revoked on mvsep.com) is answered with what
    a hosted user can do (the header, or a fresh link page), never a local setting, and the account is let go."""
    bad = "NotAnMVSepToken".ljust(30, "q")
    async with mcp_client(server.url, bearer(issuer, server, "rita"), headers={"X-MVSep-Token": bad}) as client:
        failed, text, _, _ = await call(client, "account_info", {})
    assert failed and "X-MVSep-Token header" in text and "leave the header out" in text
    token = mvsep_token(sandbox, "Rita")
    async with mcp_client(server.url, bearer(issuer, server, "rita")) as client, httpx.AsyncClient() as http:
        _, offer, _, _ = await call(client, "account_info", {})
        await link_account(http, offer, token)
        failed, text, _, _ = await call(client, "account_info", {})
        assert not failed, text
        with sandbox.state.accounts.lock:  # the user changes their token on mvsep.com
            del sandbox.state.accounts.accounts[token]
        failed, text, _, _ = await call(client, "account_info", {})
    assert failed and "no longer accepts the MVSep token linked to you" in text and "/account/link/" in text, text
    for local in ("MVSEP_API_TOKEN", "mvsep-mcp login", "restart"):
        assert local not in text
