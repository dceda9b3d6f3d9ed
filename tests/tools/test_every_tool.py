"""Every tool, resource and prompt, called in-process in both connection modes against the sandbox."""

from __future__ import annotations

import io
import sys
import zipfile
from pathlib import Path
from typing import Any

import anyio
from mcp.client.client import Client
from mvsep_mcp_testbench.sandbox import JobTiming, SandboxServer
from mvsep_mcp_testbench.sandbox.accounts import SANDBOX_PASSWORD

from tests.audio_factory import make_audio

from .conftest import SANDBOX_FREE_TOKEN, connect, make_settings, text_of

ALL_WITH_AUTH = "all,auth"


async def ok(client: Client, tool: str, args: dict[str, Any] | None = None) -> dict[str, Any]:
    outcome = await client.call_tool(tool, args or {})
    assert not outcome.is_error, f"{tool}: {text_of(outcome)}"
    assert outcome.structured_content is not None, tool
    assert text_of(outcome).strip(), tool
    return outcome.structured_content


async def wait_done(client: Client, job_ids: list[str]) -> dict[str, Any]:
    for _ in range(60):
        out = await ok(client, "wait_for_jobs", {"job_ids": job_ids, "max_wait_s": 10})
        if out["all_finished"]:
            return out
    raise AssertionError("jobs did not finish")


async def test_separation_tools(tmp_path: Path, sandbox: SandboxServer, mode: str) -> None:
    song = make_audio(tmp_path / "in", "mp3", name="Tune", seconds=2)
    settings = make_settings(tmp_path, sandbox.base_url, toolsets=ALL_WITH_AUTH)
    async with connect(settings, mode) as client:
        found = await ok(client, "search_models", {"stem": "vocals", "sort": "usage", "limit": 3})
        assert len(found["models"]) == 3 and found["total"] > 3 and found["next_offset"] == 3
        details = await ok(client, "get_model", {"model": "BS Roformer"})
        assert details["render_id"] == 40 and details["fields"]

        dry = await ok(client, "separate_audio", {"inputs": [str(song)], "model": "40", "dry_run": True})
        assert dry["dry_run"] and dry["jobs"] == [] and dry["estimated_credits_total"] == 1
        assert not (tmp_path / "out").exists()

        started = await ok(
            client,
            "separate_audio",
            {
                "inputs": [str(song.parent)],
                "model": "40",
                "options": {"Vocal model type": "ver 2024.08"},
                "output_format": "wav",
            },
        )
        assert started["options"]["add_opt1"] == "29"
        job_id = started["jobs"][0]["id"]
        done = await wait_done(client, [job_id])
        job = done["jobs"][0]
        assert job["state"] == "completed", job
        assert sorted(o["stem"] for o in job["outputs"]) == ["Other", "Vocals"]
        assert all(Path(o["path"]).is_file() and o["path"].endswith(".wav") for o in job["outputs"])
        assert Path(job["manifest_path"]).is_file()

        listed = await ok(client, "list_jobs", {})
        assert job_id in [j["id"] for j in listed["jobs"]]
        again = await ok(client, "fetch_job_results", {"job_id": job_id, "output_dir": str(tmp_path / "again")})
        refetched = (await wait_done(client, [again["id"]]))["jobs"][0]
        assert refetched["state"] == "completed" and refetched["outputs"][0]["path"].startswith(str(tmp_path / "again"))
        status = await ok(client, "check_mvsep_hash", {"hash": job["hash"]})
        assert status["status"] == "done" and len(status["files"]) == 2

        resource = await client.read_resource(f"mvsep://jobs/{job_id}")
        assert job_id in resource.contents[0].text  # type: ignore[union-attr]
        model = await client.read_resource("mvsep://models/40")
        assert "BS Roformer" in model.contents[0].text  # type: ignore[union-attr]
        catalog = await client.read_resource("mvsep://catalog")
        assert '"render_id": 40' in catalog.contents[0].text  # type: ignore[union-attr]
        prompts = await client.list_prompts()
        assert {p.name for p in prompts.prompts} == {"karaoke", "remix_stems", "clean_dialogue"}
        prompt = await client.get_prompt("karaoke", {"path": str(song)})
        assert str(song) in prompt.messages[0].content.text  # type: ignore[union-attr]


async def test_cancel_and_studio_tools(tmp_path: Path, sandbox: SandboxServer, mode: str) -> None:
    target = make_audio(tmp_path / "in", "wav", name="Target", seconds=2)
    reference = make_audio(tmp_path / "in", "flac", name="Reference", seconds=2, seed=3)
    settings = make_settings(tmp_path, sandbox.base_url, toolsets=ALL_WITH_AUTH)
    async with connect(settings, mode) as client:
        slow = JobTiming(queue_s=60, processing_s=60)
        fast, sandbox.state.timing = sandbox.state.timing, slow
        try:
            started = await ok(client, "separate_audio", {"inputs": [str(target)], "model": "29"})
        finally:
            sandbox.state.timing = fast
        cancelled = await ok(client, "cancel_job", {"job_id": started["jobs"][0]["id"]})
        assert cancelled["state"] == "cancelled"

        mastered = await ok(client, "master_audio", {"target": str(target), "reference": str(reference)})
        spoken = await ok(
            client,
            "generate_from_text",
            {"model": "115", "title": "Greeting", "options": {"Text prompt": "Hello there"}, "confirm_credits": 0},
        )
        done = await wait_done(client, [mastered["jobs"][0]["id"], spoken["jobs"][0]["id"]])
        assert [j["state"] for j in done["jobs"]] == ["completed", "completed"], done
        assert Path(done["jobs"][0]["outputs"][0]["path"]).name.startswith("Test Song (")  # the target's title
        assert Path(done["jobs"][1]["outputs"][0]["path"]).name.startswith("Greeting (")  # the given title


async def test_account_site_quality_and_auth_tools(tmp_path: Path, sandbox: SandboxServer, mode: str) -> None:
    token = "SandboxTools" + "0" * 17 + ("1" if mode == "auto" else "2")
    sandbox.state.add_account(
        token,
        name="Tool Tester",
        email=f"tools-{mode}@sandbox.mvsep.test",
        password=SANDBOX_PASSWORD,
        premium_minutes=50,
        premium_enabled=1,
    )
    settings = make_settings(tmp_path, sandbox.base_url, token=token, toolsets=ALL_WITH_AUTH)
    async with connect(settings, mode) as client:
        info = await ok(client, "account_info")
        assert info["credits"] == 50 and info["premium_enabled"] and info["token_source"] == "environment"
        assert token not in str(info)
        assert (await ok(client, "set_premium_mode", {"enabled": False}))["enabled"] is False
        assert (await ok(client, "account_info"))["premium_enabled"] is False
        await ok(client, "set_premium_mode", {"enabled": True})
        await ok(client, "set_long_filenames", {"enabled": True})
        assert (await ok(client, "account_info"))["long_filenames_enabled"] is True
        await ok(client, "set_long_filenames", {"enabled": False})
        history = await ok(client, "separation_history", {"limit": 5})
        assert history["items"] == [] and "next_start" not in history

        queue = await ok(client, "mvsep_queue")
        assert queue["queue"]
        news = await ok(client, "mvsep_news", {"limit": 2})
        assert len(news["items"]) == 2 and "<" not in news["items"][0]["text"]
        await ok(client, "mvsep_demos", {"limit": 3})

        archive = tmp_path / "outputs.zip"
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w") as zf:
            zf.writestr("song_vocals.wav", b"RIFF" + bytes(64))
        archive.write_bytes(buffer.getvalue())
        submitted = await ok(
            client,
            "quality_submit",
            {
                "zip_path": str(archive),
                "algo_name": f"My algo {mode}",
                "description": "test",
                "dataset_type": 0,
                "password": "secret-pass",
            },
        )
        entry_id = submitted["id"]
        queued = await ok(client, "quality_queue", {"limit": 50})
        assert entry_id in [e["id"] for e in queued["entries"]]
        entry = await ok(client, "quality_entry", {"entry_id": entry_id})
        assert entry["algo_name"] == f"My algo {mode}"
        for _ in range(50):  # evaluated after the sandbox's quality delay
            board = await ok(client, "quality_leaderboard", {"dataset_type": 0, "algo_name_filter": f"My algo {mode}"})
            if board["entries"]:
                break
            await anyio.sleep(0.1)
        assert [e["id"] for e in board["entries"]] == [entry_id]
        deleted = await ok(client, "quality_delete", {"entry_id": entry_id, "password": "secret-pass"})
        assert deleted["id"] == entry_id

        registered = await ok(
            client,
            "register_account",
            {"name": "New", "email": f"new-{mode}@example.test", "password": "long-enough-pw"},
        )
        assert registered["message"]
    # login through the opt-in toolset: stores the token owner-only, never returns it
    settings = make_settings(tmp_path / "login", sandbox.base_url, token=None, toolsets="account,auth")
    async with connect(settings, mode) as client:
        login = await client.call_tool(
            "login", {"email": f"tools-{mode}@sandbox.mvsep.test", "password": SANDBOX_PASSWORD}
        )
        assert not login.is_error, text_of(login)
        assert token not in text_of(login) and token not in str(login.structured_content)
        assert (await ok(client, "account_info"))["name"] == "Tool Tester"
    stored = settings.credentials_file
    assert sys.platform == "win32" or stored.stat().st_mode & 0o777 == 0o600  # Windows: the folder's ACL
    assert token in stored.read_text()


async def test_free_account_sees_free_queue_cost(tmp_path: Path, sandbox: SandboxServer) -> None:
    song = make_audio(tmp_path / "in", "flac", name="Free", seconds=2)
    async with connect(make_settings(tmp_path, sandbox.base_url, token=SANDBOX_FREE_TOKEN)) as client:
        dry = await ok(client, "separate_audio", {"inputs": [str(song)], "model": "40", "dry_run": True})
        assert dry["spends_credits"] is False
