"""Every other route of the sandbox against the recorded MVSep responses: envelopes, key sets, types, headers;
plus rate limiting, injected faults, accounts, queue, demo and the quality checker."""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path
from typing import Any

import httpx
from mvsep_mcp_testbench.sandbox import SANDBOX_FREE_TOKEN, SANDBOX_PREMIUM_TOKEN, FaultRule, SandboxServer
from mvsep_mcp_testbench.sandbox.separations import JobTiming

from tests.sandbox.conftest import create, poll, recorded


def same_shape(real: Any, ours: Any, where: str = "$") -> None:
    """Every key of the recording is present in ours with a compatible JSON type (null matches anything)."""
    if real is None or ours is None:
        return
    if isinstance(real, bool) or isinstance(ours, bool):
        assert isinstance(ours, bool) == isinstance(real, bool) or isinstance(real, int), where
        return
    if isinstance(real, (int, float)):
        assert isinstance(ours, (int, float)), f"{where}: {ours!r}"
        return
    assert type(real) is type(ours), f"{where}: {type(real).__name__} vs {type(ours).__name__}"
    if isinstance(real, dict):
        missing = set(real) - set(ours)
        assert not missing, f"{where}: missing {missing}"
        for key in real:
            same_shape(real[key], ours[key], f"{where}.{key}")
    elif isinstance(real, list) and real and ours:
        same_shape(real[0], ours[0], f"{where}[0]")


def test_toggles_register_login_match_recordings(api: httpx.Client) -> None:
    for name, path in [("profile-enable-premium-200-1.json", "/app/enable_premium"),
                       ("profile-disable-premium-200-1.json", "/app/disable_premium"),
                       ("profile-enable-long-filenames-200-1.json", "/app/enable_long_filenames"),
                       ("profile-disable-long-filenames-200-1.json", "/app/disable_long_filenames")]:
        r = api.post(path, data={"api_token": SANDBOX_FREE_TOKEN})
        assert r.status_code == 200 and r.json() == recorded(name)["body"]
        assert r.headers["X-RateLimit-Limit"] == "120" and int(r.headers["X-RateLimit-Remaining"]) >= 0
    assert api.post("/app/enable_premium", data={"api_token": "bad"}).status_code == 400

    reg = api.post("/app/register", data={"name": "N", "email": "n@example.com", "password": "secret123",
                                          "password_confirmation": "secret123"})
    assert reg.json() == {"success": True, "message": "Account verification email sent to n@example.com"}
    dup = api.post("/app/register", data={"name": "N", "email": "n@example.com", "password": "secret123",
                                          "password_confirmation": "secret123"})
    assert dup.status_code == 400 and "email" in dup.json()["message"]

    empty = api.post("/app/login", data={})
    assert empty.status_code == 400 and empty.json() == recorded("login-400-1.json")["body"]
    ok = api.post("/app/login", data={"email": "n@example.com", "password": "secret123"})
    same_shape(recorded("login-200-2.json")["body"], ok.json())
    token = ok.json()["data"]["api_token"]
    assert len(token) == 30 and token.isalnum()
    user = api.get("/app/user", params={"api_token": token}).json()
    assert user["success"] and user["data"]["email"] == "n@example.com" and user["data"]["current_queue"] == 0
    assert api.post("/app/login", data={"email": "n@example.com", "password": "wrong"}).status_code == 400
    assert api.get("/app/user", params={"api_token": "nope"}).json()["success"] is False


def test_catalogue_served_as_recorded(api: httpx.Client) -> None:
    listing = api.get("/app/algorithms").json()
    assert isinstance(listing, list) and len(listing) == 117
    assert all(a["audio_widget"] == "single_upload" for a in listing)
    assert isinstance(listing[0]["output_stems"], str) and isinstance(listing[0]["algorithm_fields"][0]["options"], str)
    old = recorded("algorithms-200-1.json")["body"][0]
    same_shape({k: v for k, v in old.items() if k != "algorithm_fields"}, listing[0])
    everything = api.get("/app/algorithms", params={"scopes": "single_upload,no_upload,matchering_upload"}).json()
    assert len(everything) > 117 and any(a["render_id"] == 68 for a in everything)


def test_news(api: httpx.Client) -> None:
    en = api.get("/app/news").json()
    assert isinstance(en, list) and en and all(n["lang"] == "en" for n in en)
    same_shape(recorded("news-200-2.json")["body"], en)
    ru = api.get("/app/news", params={"lang": "ru", "start": 1, "limit": 1}).json()
    assert len(ru) == 1 and ru[0]["lang"] == "ru"
    assert "\\/" in api.get("/app/news").text  # PHP-style escaping


def test_separation_history_demo_queue(api: httpx.Client, sandbox: SandboxServer, song: Path) -> None:
    waiting = recorded("separation-200-1.json")["body"]
    sandbox.state.timing = JobTiming(queue_s=3600)
    slow_hash = create(api, SANDBOX_FREE_TOKEN, song).json()["data"]["hash"]
    body = api.get("/separation/get", params={"hash": slow_hash}).json()
    assert set(body) == set(waiting) and set(body["data"]) == set(waiting["data"])
    queue = api.get("/app/queue", params={"api_token": SANDBOX_FREE_TOKEN}).json()
    assert "success" not in queue and queue["queue"]["registered"] == 1 and queue["plan"]["name"] == "registered"
    assert "plan" not in api.get("/app/queue").json()

    sandbox.state.timing = JobTiming.fast()
    hashes = [create(api, SANDBOX_PREMIUM_TOKEN, song, is_demo="1").json()["data"]["hash"] for _ in range(2)]
    done = [poll(api, h)[0] for h in hashes]
    same_shape({k: v for k, v in recorded("separation-200-2.json")["body"]["data"].items() if k != "tags"},
               done[0]["data"])
    history = api.get("/app/separation_history", params={"api_token": SANDBOX_PREMIUM_TOKEN, "start": 0,
                                                          "limit": 50}).json()
    same_shape(recorded("profile-separation-history-200-1.json")["body"], history)
    assert [h["hash"] for h in history["data"]] == hashes[::-1]
    page = api.get("/app/separation_history", params={"api_token": SANDBOX_PREMIUM_TOKEN, "start": 1,
                                                       "limit": 1}).json()["data"]
    assert [h["hash"] for h in page] == [hashes[0]]
    demo = api.get("/app/demo", params={"start": 0, "limit": 2}).json()
    same_shape(recorded("demo-200-1.json")["body"], demo)
    assert [d["hash"] for d in demo] == hashes[::-1]
    assert httpx.get(demo[0]["input_audio"]).status_code == 200


def _zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("song_000_vocals.wav", b"RIFF....")
    return buffer.getvalue()


def test_quality_checker(api: httpx.Client, sandbox: SandboxServer) -> None:
    form = {"api_token": SANDBOX_PREMIUM_TOKEN, "algo_name": "My Model", "main_text": "desc", "dataset_type": "1",
            "ensemble": "0", "password": "pw"}
    added = api.post("/quality_checker/add", data=form, files={"zipfile": ("out.zip", _zip())})
    same_shape(recorded("quality-checker-add-entry-200-1.json")["body"], added.json())
    entry_id = added.json()["data"]["id"]
    queued = api.get("/quality_checker/queue").json()
    assert queued[0]["id"] == entry_id and queued[0]["proc"] == 0
    seeded = api.get("/quality_checker/leaderboard", params={"dataset_type": 1}).json()["data"]
    assert seeded and entry_id not in [e["id"] for e in seeded], "the sandbox's own models, not the new entry yet"
    sandbox.state.clock.advance(seconds=10)
    entry = api.get("/quality_checker/entry", params={"id": entry_id}).json()["data"]
    assert entry["proc"] == 1 and entry["msg"] == "OK" and isinstance(entry["sdr_vocals"], float)
    board = api.get("/quality_checker/leaderboard", params={"dataset_type": 1, "sort": "sdr_bass"}).json()
    assert board["sort"] == "sdr_bass" and "sdr_vocals" in board["sortables"]
    assert entry_id in [e["id"] for e in board["data"]]
    assert [e["sdr_bass"] or 0 for e in board["data"]] == sorted((e["sdr_bass"] or 0 for e in board["data"]),
                                                                  reverse=True)
    bad = api.post("/quality_checker/add", data={"api_token": SANDBOX_PREMIUM_TOKEN})
    assert bad.status_code == 400 and "zipfile" in bad.json()["message"]
    wrong = api.post("/quality_checker/delete", data={"id": str(entry_id), "password": "nope"})
    assert wrong.status_code == 400
    deleted = api.post("/quality_checker/delete", data={"id": str(entry_id), "password": "pw"})
    assert deleted.json() == recorded("quality-checker-delete-entry-200-1.json")["body"]
    assert api.get("/quality_checker/entry", params={"id": entry_id}).status_code == 404


def test_rate_limit(api: httpx.Client, sandbox: SandboxServer) -> None:
    sandbox.state.rate_limiter.limit = 3
    answers = [api.get("/app/news") for _ in range(4)]
    assert [r.status_code for r in answers] == [200, 200, 200, 429]
    assert [r.headers["X-RateLimit-Remaining"] for r in answers] == ["2", "1", "0", "0"]
    assert int(answers[-1].headers["Retry-After"]) >= 1
    assert httpx.get(f"{sandbox.root_url}/storage/processed/none.mp3").status_code == 404  # not limited
    sandbox.state.clock.advance(seconds=61)
    assert api.get("/app/news").status_code == 200


def test_injected_faults(api: httpx.Client, sandbox: SandboxServer) -> None:
    sandbox.state.faults.append(FaultRule("/api/app/news", kind="status", status=503, count=1))
    sandbox.state.faults.append(FaultRule("/api/app/demo", kind="malformed", count=1))
    sandbox.state.faults.append(FaultRule("/api/app/queue", kind="rate_limit", retry_after=7, count=1))
    first = api.get("/app/news")
    assert first.status_code == 503 and "Service Temporarily Unavailable" in first.text
    assert api.get("/app/news").status_code == 200
    broken = api.get("/app/demo")
    assert broken.status_code == 200
    try:
        json.loads(broken.text)
        raise AssertionError("expected malformed JSON")
    except ValueError:
        pass
    limited = api.get("/app/queue")
    assert limited.status_code == 429 and limited.headers["Retry-After"] == "7"
    assert api.get("/app/queue").status_code == 200


async def test_async_context_manager() -> None:
    async with SandboxServer() as server:
        async with httpx.AsyncClient(base_url=server.base_url, trust_env=False) as client:
            r = await client.get("/app/user", params={"api_token": SANDBOX_PREMIUM_TOKEN})
            assert r.json()["data"]["premium_enabled"] == 1
        storage = server.state.storage_dir
        assert storage is not None and storage.exists()
    assert not storage.exists()
