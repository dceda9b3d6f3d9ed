"""Whole separations against the live sandbox over loopback HTTP: statuses, files, tags, credits, limits."""

from __future__ import annotations

import re
import threading
from http.server import HTTPServer, SimpleHTTPRequestHandler
from pathlib import Path

import httpx
import pytest
from mvsep_mcp_testbench.sandbox import SANDBOX_FREE_TOKEN, SANDBOX_PREMIUM_TOKEN, SandboxServer
from mvsep_mcp_testbench.sandbox.audio import OUTPUT_FORMATS
from mvsep_mcp_testbench.sandbox.separations import JobTiming

from tests.audio_factory import make_audio
from tests.sandbox.conftest import create, poll

HASH_RE = re.compile(r"^\d{14}-[0-9a-f]{10}-[a-z0-9-]+\.[a-z0-9]+$")


def test_whole_separation_of_a_tagged_file(api: httpx.Client, sandbox: SandboxServer, song: Path) -> None:
    r = create(api, SANDBOX_PREMIUM_TOKEN, song, output_format="2")
    assert r.status_code == 200, r.text
    body = r.json()
    job_hash = body["data"]["hash"]
    assert HASH_RE.match(job_hash)
    assert body["data"]["link"] == f"{sandbox.base_url}/separation/get?hash={job_hash}"

    done, seen = poll(api, job_hash)
    assert seen[0] == "waiting" and seen[-1] == "done" and "processing" in seen
    data = done["data"]
    assert data["algorithm"] == "Demucs4 HT (vocals, drums, bass, other)"
    assert data["output_format"] == OUTPUT_FORMATS[2].label == "flac (lossless, 16 bit)"
    assert re.fullmatch(r"\d+\.\d\d MB", data["size"])
    assert data["tags"]["audio"]["dataformat"] == "mp3"
    assert data["tags"]["tags"]["id3v2"]["title"] == ["Sandbox Song"]
    assert all(isinstance(v, list) for v in data["tags"]["tags"]["id3v2"].values())
    assert set(data["input_file"]) == {"url", "size", "download"}
    stem = job_hash.rsplit(".", 1)[0]
    types = [f["type"] for f in data["files"]]
    assert {"Vocals", "Drums", "Bass", "Other"} <= set(types)
    for item in data["files"]:
        assert set(item) == {"type", "url", "size", "download"}
        assert item["url"].startswith(f"{sandbox.root_url}/storage/processed/{stem}_")
        assert re.search(r"_mt_[^_]+_[a-z_]+\.flac$", item["url"])
        assert item["download"] == item["url"].rsplit("/", 1)[1].split("-", 2)[2]
        content = httpx.get(item["url"]).content
        assert content[:4] == b"fLaC"
    assert httpx.get(data["input_file"]["url"]).content == song.read_bytes()


def test_range_requests_on_outputs(api: httpx.Client, song: Path) -> None:
    job_hash = create(api, SANDBOX_PREMIUM_TOKEN, song).json()["data"]["hash"]
    url = poll(api, job_hash)[0]["data"]["files"][0]["url"]
    full = httpx.get(url).content
    part = httpx.get(url, headers={"Range": "bytes=10-19"})
    assert part.status_code == 206
    assert part.headers["content-range"] == f"bytes 10-19/{len(full)}"
    assert part.content == full[10:20]
    assert httpx.get(url, headers={"Range": f"bytes={len(full) + 5}-"}).status_code == 416
    assert httpx.get(url.replace("_vocals.", "_nothing.")).status_code == 404


def test_long_input_distributes_then_merges(api: httpx.Client, tmp_path: Path) -> None:
    long_song = make_audio(tmp_path / "long", "wav", seconds=7.0)  # fast timing: >= 6 s counts as long
    job_hash = create(api, SANDBOX_PREMIUM_TOKEN, long_song).json()["data"]["hash"]
    chunks: list[tuple[int, int]] = []
    seen: list[str] = []
    while not seen or seen[-1] not in ("done", "failed"):
        body = api.get("/separation/get", params={"hash": job_hash}).json()
        if not seen or seen[-1] != body["status"]:
            seen.append(body["status"])
        if body["status"] == "distributing":
            chunks.append((body["data"]["finished_chunks"], body["data"]["all_chunks"]))
            assert {"queue_count", "current_order", "message"} <= set(body["data"])
    assert seen == ["waiting", "distributing", "merging", "done"]
    assert chunks and all(total == chunks[0][1] >= 2 for _, total in chunks)
    assert [c for c, _ in chunks] == sorted(c for c, _ in chunks)


def test_waiting_order_falls(api: httpx.Client, sandbox: SandboxServer, song: Path) -> None:
    sandbox.state.timing = JobTiming(queue_s=3600, queue_positions=5, processing_s=1)
    job_hash = create(api, SANDBOX_PREMIUM_TOKEN, song).json()["data"]["hash"]
    first = api.get("/separation/get", params={"hash": job_hash}).json()
    assert first["status"] == "waiting" and set(first["data"]) == {"queue_count", "current_order"}
    sandbox.state.clock.advance(seconds=2000)
    later = api.get("/separation/get", params={"hash": job_hash}).json()
    assert later["data"]["current_order"] < first["data"]["current_order"]


def test_undecodable_input_fails(api: httpx.Client, tmp_path: Path) -> None:
    junk = tmp_path / "broken.mp3"
    junk.write_bytes(b"this is not audio at all" * 100)
    r = create(api, SANDBOX_PREMIUM_TOKEN, junk)
    assert r.status_code == 200
    body, seen = poll(api, r.json()["data"]["hash"])
    assert seen == ["waiting", "failed"] and body["data"]["message"]


def test_unknown_hash_and_expiry(api: httpx.Client, sandbox: SandboxServer, song: Path) -> None:
    assert api.get("/separation/get", params={"hash": "nope"}).json()["status"] == "not_found"
    job_hash = create(api, SANDBOX_PREMIUM_TOKEN, song).json()["data"]["hash"]
    url = poll(api, job_hash)[0]["data"]["files"][0]["url"]
    sandbox.state.clock.advance(hours=73)
    assert api.get("/separation/get", params={"hash": job_hash}).json()["status"] == "not_found"
    assert httpx.get(url).status_code == 404
    item = api.get("/app/separation_history", params={"api_token": SANDBOX_PREMIUM_TOKEN}).json()["data"][0]
    assert item["hash"] == job_hash and item["job_exists"] is False and item["time_left"] < 0


def test_credits_charged_and_refunded_on_cancel(api: httpx.Client, sandbox: SandboxServer, song: Path) -> None:
    def credits() -> int:
        return api.get("/app/user", params={"api_token": SANDBOX_PREMIUM_TOKEN}).json()["data"]["premium_minutes"]

    sandbox.state.timing = JobTiming(queue_s=3600)
    before = credits()
    # BS Roformer, option "8" of add_opt2 doubles the price; the 3 s song costs 1 credit base
    r = create(api, SANDBOX_PREMIUM_TOKEN, song, sep_type="40", add_opt2="8")
    assert r.status_code == 200, r.text
    assert credits() == before - 2
    job_hash = r.json()["data"]["hash"]
    cancelled = api.post("/separation/cancel", data={"api_token": SANDBOX_PREMIUM_TOKEN, "hash": job_hash})
    assert cancelled.json() == {"success": True}
    assert credits() == before
    assert api.get("/separation/get", params={"hash": job_hash}).json()["status"] == "not_found"
    again = api.post("/separation/cancel", data={"api_token": SANDBOX_PREMIUM_TOKEN, "hash": job_hash})
    assert again.json() == {"success": False}


def test_insufficient_credits_refused(api: httpx.Client, sandbox: SandboxServer, song: Path) -> None:
    sandbox.state.add_account("Poor00000000000000000000000000", premium_minutes=1, premium_enabled=1)
    r = create(api, "Poor00000000000000000000000000", song, sep_type="40", add_opt2="8")
    assert r.status_code == 400 and "credits" in r.json()["errors"][0]


def test_free_account_one_job_in_flight(api: httpx.Client, sandbox: SandboxServer, song: Path) -> None:
    sandbox.state.timing = JobTiming(queue_s=3600)
    assert create(api, SANDBOX_FREE_TOKEN, song).status_code == 200
    second = create(api, SANDBOX_FREE_TOKEN, song)
    assert second.status_code == 400
    assert second.json()["success"] is False and "1 separation" in second.json()["errors"][0]
    user = api.get("/app/user", params={"api_token": SANDBOX_FREE_TOKEN}).json()["data"]
    assert user["current_queue"] == 1 and user["premium_minutes"] == 0


def test_refusals(api: httpx.Client, song: Path) -> None:
    premium_only = create(api, SANDBOX_FREE_TOKEN, song, sep_type="26")
    assert premium_only.status_code == 400
    assert premium_only.json() == {"success": False, "errors": [
        "Seperation type is unavailable until you purchase premium membership"]}
    unknown = create(api, SANDBOX_PREMIUM_TOKEN, song, sep_type="9999")
    assert unknown.json()["errors"] == ["Seperation type is not set"]
    bad_option = create(api, SANDBOX_PREMIUM_TOKEN, song, sep_type="40", add_opt1="nope")
    assert bad_option.status_code == 400 and bad_option.json()["errors"] == ["The selected add_opt1 is invalid."]
    bad_token = create(api, "X" * 30, song)
    assert bad_token.status_code == 401 and bad_token.json()["errors"] == ["invalid token"]
    no_file = create(api, SANDBOX_PREMIUM_TOKEN, None)
    assert no_file.status_code == 400 and no_file.json()["errors"]
    bad_format = create(api, SANDBOX_PREMIUM_TOKEN, song, output_format="9")
    assert bad_format.status_code == 400


def test_long_filenames_change_output_names(api: httpx.Client, song: Path) -> None:
    r = api.post("/app/enable_long_filenames", data={"api_token": SANDBOX_PREMIUM_TOKEN})
    assert r.json() == {"success": True, "message": "successfully enabled"}
    job_hash = create(api, SANDBOX_PREMIUM_TOKEN, song, sep_type="40", add_opt1="81").json()["data"]["hash"]
    files = poll(api, job_hash)[0]["data"]["files"]
    assert files and all("BS-Roformer" in f["url"] and "model_type-81" in f["url"] for f in files)


def test_mirror_costs_a_credit(api: httpx.Client, song: Path) -> None:
    job_hash = create(api, SANDBOX_PREMIUM_TOKEN, song).json()["data"]["hash"]
    poll(api, job_hash)
    before = api.get("/app/user", params={"api_token": SANDBOX_PREMIUM_TOKEN}).json()["data"]["premium_minutes"]
    mirrored = api.get("/separation/get", params={"hash": job_hash, "mirror": "1", "api_token": SANDBOX_PREMIUM_TOKEN})
    assert mirrored.json()["status"] == "done"
    after = api.get("/app/user", params={"api_token": SANDBOX_PREMIUM_TOKEN}).json()["data"]["premium_minutes"]
    assert after == before - 1
    assert api.get("/separation/get", params={"hash": job_hash, "mirror": "1"}).status_code == 401


@pytest.fixture
def file_server(song: Path) -> str:
    class Quiet(SimpleHTTPRequestHandler):
        def __init__(self, *args: object, **kwargs: object) -> None:
            super().__init__(*args, directory=str(song.parent), **kwargs)  # type: ignore[misc]

        def log_message(self, *args: object) -> None:
            pass

    server = HTTPServer(("127.0.0.1", 0), Quiet)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/{song.name}"
    server.shutdown()


def test_url_input_from_loopback(api: httpx.Client, file_server: str) -> None:
    r = api.post("/separation/create", data={"api_token": SANDBOX_PREMIUM_TOKEN, "sep_type": "20", "url": file_server})
    assert r.status_code == 200, r.text
    remote_hash = r.json()["data"]["hash"]
    assert "/separation/get-remote?hash=" in r.json()["data"]["link"]
    remote, seen = poll(api, remote_hash, path="/separation/get-remote")
    assert remote["status"] == "done", remote
    assert remote["data"]["hash"] != remote_hash and "link" in remote["data"]
    done, _ = poll(api, remote["data"]["hash"])
    assert done["status"] == "done" and done["data"]["files"]


def test_url_input_refuses_the_internet(api: httpx.Client) -> None:
    r = api.post("/separation/create", data={"api_token": SANDBOX_PREMIUM_TOKEN, "sep_type": "20",
                                             "url": "https://example.com/song.mp3"})
    assert r.status_code == 400 and "127.0.0.1" in r.json()["errors"][0]


def test_matchering_and_text_only_models(api: httpx.Client, song: Path, tmp_path: Path) -> None:
    listing = api.get("/app/algorithms", params={"scopes": "matchering_upload,no_upload"}).json()
    by_widget = {a["audio_widget"]: a for a in listing}
    match_id = by_widget["matchering_upload"]["render_id"]
    reference = make_audio(tmp_path / "ref", "wav", seed=3)
    r = api.post("/separation/create", data={"api_token": SANDBOX_PREMIUM_TOKEN, "sep_type": str(match_id)},
                 files={"target_audiofile": (song.name, song.read_bytes()),
                        "reference_audiofile": (reference.name, reference.read_bytes())})
    assert r.status_code == 200, r.text
    assert poll(api, r.json()["data"]["hash"])[0]["status"] == "done"

    tts = by_widget["no_upload"]
    text_field = next(f["name"] for f in tts["algorithm_fields"] if f["input_type"] != "select")
    missing = api.post("/separation/create",
                       data={"api_token": SANDBOX_PREMIUM_TOKEN, "sep_type": str(tts["render_id"])})
    assert missing.status_code == 400 and missing.json()["errors"] == [f"The {text_field} field is required."]
    spoken = api.post("/separation/create", data={"api_token": SANDBOX_PREMIUM_TOKEN,
                                                  "sep_type": str(tts["render_id"]), text_field: "Hello there"})
    assert spoken.status_code == 200, spoken.text
    done = poll(api, spoken.json()["data"]["hash"])[0]
    assert done["status"] == "done" and done["data"]["files"]
