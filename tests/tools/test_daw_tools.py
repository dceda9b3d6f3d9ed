"""The DAW companion's MCP side: make_daw_session, the stem player App on wait_for_jobs, and stem previews."""

from __future__ import annotations

import base64
import io
import json
import zipfile
from pathlib import Path
from typing import Any

import soundfile as sf
from mcp.client.client import Client
from mcp.client.extension import advertise
from mcp.server.apps import APP_MIME_TYPE, EXTENSION_ID
from mcp_types import ResourceLink
from mvsep_mcp.app import create_server
from mvsep_mcp.media.manifest import read_manifest
from mvsep_mcp_testbench.sandbox import SandboxServer
from mvsep_mcp_tools.player import PLAYER_URI

from tests.audio_factory import Song, make_audio

from .conftest import make_settings, text_of
from .test_every_tool import ok, wait_done

APPS_CLIENT = advertise(EXTENSION_ID, {"mimeTypes": [APP_MIME_TYPE]})


async def separate(client: Client, song: Path, model: str) -> dict[str, Any]:
    started = await ok(client, "separate_audio", {"inputs": [str(song)], "model": model, "output_format": "flac"})
    job: dict[str, Any] = (await wait_done(client, [started["jobs"][0]["id"]]))["jobs"][0]
    assert job["state"] == "completed", job
    return job


async def test_make_daw_session_from_two_models(tmp_path: Path, sandbox: SandboxServer, mode: str) -> None:
    song = make_audio(tmp_path / "in", "flac", name="Two", seconds=2, song=Song(title="Two Models"))
    other = make_audio(tmp_path / "in", "wav", name="Else", seconds=2, song=Song(title="Something Else"), seed=5)
    settings = make_settings(tmp_path, sandbox.base_url)
    async with Client(create_server(settings), mode=mode) as client:
        roformer = await separate(client, song, "40")
        demucs = await separate(client, song, "20")
        picks = [{"job_id": roformer["id"], "stem": "vocals"}, {"job_id": demucs["id"], "stem": "Drums"},
                 {"job_id": demucs["id"], "stem": "bass"}]
        out = await ok(client, "make_daw_session", {"picks": picks})
        assert out["title"] == "Two Models" and out["tracks"] == ["Vocals", "Drums", "Bass", "Original mix"]
        assert [Path(f).suffix for f in out["files"]] == [".dawproject", ".rpp"]
        assert all(Path(f).is_file() and Path(f).parent == Path(roformer["outputs"][0]["path"]).parent
                   for f in out["files"])
        called = await client.call_tool("make_daw_session", {"picks": [{"job_id": demucs["id"]}], "formats": ["rpp"]})
        assert "REAPER" in text_of(called) and called.structured_content["files"][0].endswith("Two Models (2).rpp")

        elsewhere = await separate(client, other, "40")
        refused = await client.call_tool("make_daw_session", {"picks": [{"job_id": roformer["id"]},
                                                                        {"job_id": elsewhere["id"]}]})
        assert refused.is_error and "different songs" in text_of(refused)
        unknown = await client.call_tool("make_daw_session", {"picks": [{"job_id": "jnothere"}]})
        assert unknown.is_error and "No job 'jnothere'" in text_of(unknown)


async def test_a_session_is_in_its_jobs_records_and_readable(tmp_path: Path, sandbox: SandboxServer) -> None:
    song = make_audio(tmp_path / "in", "flac", name="Kept", seconds=2, song=Song(title="Kept Session"))
    async with Client(create_server(make_settings(tmp_path, sandbox.base_url)), mode="legacy") as client:
        roformer = await separate(client, song, "40")
        demucs = await separate(client, song, "20")
        picks = [{"job_id": roformer["id"], "stem": "vocals"}, {"job_id": demucs["id"], "stem": "drums"}]
        made = await client.call_tool("make_daw_session", {"picks": picks})
        links = [b for b in made.content if isinstance(b, ResourceLink)]
        files = made.structured_content["files"]
        assert [(link.name, link.mime_type) for link in links] == [("Kept Session.dawproject", "application/zip"),
                                                                    ("Kept Session.rpp", "text/plain")]
        assert links[0].uri == f"mvsep://jobs/{roformer['id']}/sessions/Kept%20Session.dawproject"
        assert [link.size for link in links] == [Path(f).stat().st_size for f in files]
        project = (await client.read_resource(links[0].uri)).contents[0]
        assert project.mime_type == "application/zip"
        with zipfile.ZipFile(io.BytesIO(base64.b64decode(project.blob))) as archive:  # type: ignore[union-attr]
            assert "project.xml" in archive.namelist()
        reaper = (await client.read_resource(links[1].uri)).contents[0]
        assert reaper.mime_type == "text/plain" and reaper.text.startswith("<REAPER_PROJECT")  # type: ignore[union-attr]
        # the other job lists it too: its own URI reads the same file
        other = links[1].uri.replace(roformer["id"], demucs["id"])
        assert (await client.read_resource(other)).contents[0].text == reaper.text  # type: ignore[union-attr]
        again = await ok(client, "make_daw_session", {"picks": picks, "formats": ["rpp"]})  # never overwrites
        status = await client.call_tool("wait_for_jobs", {"job_ids": [roformer["id"]]})
    for job, manifest_path in ((roformer, roformer["manifest_path"]), (demucs, demucs["manifest_path"])):
        manifest = read_manifest(Path(manifest_path))
        assert [s.path for s in manifest.sessions] == ["Kept Session.dawproject", "Kept Session.rpp",
                                                       "Kept Session (2).rpp"], job["id"]
        assert [(s.job_id, s.stem) for s in manifest.sessions[0].stems] == [(roformer["id"], "Vocals"),
                                                                            (demucs["id"], "Drums")]
        assert json.loads(Path(manifest_path).read_text(encoding="utf-8"))["outputs"]  # the rest as it was
    assert again["files"][0].endswith("Kept Session (2).rpp")
    assert [b.name for b in status.content if isinstance(b, ResourceLink) and "/sessions/" in b.uri] == [
        "Kept Session.dawproject", "Kept Session.rpp", "Kept Session (2).rpp"]


async def test_session_results_follow_results_as(tmp_path: Path, sandbox: SandboxServer) -> None:
    song = make_audio(tmp_path / "in", "flac", name="Shown", seconds=2, song=Song(title="Shown"))
    for results_as, linked in (("paths", False), ("resources", True)):
        settings = make_settings(tmp_path / results_as, sandbox.base_url, results_as=results_as)
        async with Client(create_server(settings), mode="legacy") as client:
            job = await separate(client, song, "40")
            made = await client.call_tool("make_daw_session", {"picks": [{"job_id": job["id"]}]})
        assert bool([b for b in made.content if isinstance(b, ResourceLink)]) is linked
        shown = json.dumps(made.structured_content) + text_of(made)
        assert (str(tmp_path) in shown) is not linked, shown


async def test_the_player_is_for_apps_hosts_only(tmp_path: Path, sandbox: SandboxServer, mode: str) -> None:
    song = make_audio(tmp_path / "in", "flac", name="Play", seconds=2, song=Song(title="Play Me"))
    settings = make_settings(tmp_path, sandbox.base_url)
    async with Client(create_server(settings), mode=mode, extensions=[APPS_CLIENT]) as apps:
        job = await separate(apps, song, "40")
        listed = {t.name: t for t in (await apps.list_tools()).tools}
        assert listed["wait_for_jobs"].meta == {"ui": {"resourceUri": PLAYER_URI}}
        with_apps = await apps.call_tool("wait_for_jobs", {"job_ids": [job["id"]]})
        view = await apps.read_resource(PLAYER_URI)
        assert view.contents[0].mime_type == APP_MIME_TYPE
        html = view.contents[0].text  # type: ignore[union-attr]
        assert "ui/initialize" in html and "<script" in html and "http://" not in html and "https://" not in html
        player = with_apps.structured_content["player"]
        stems = player["songs"][0]["stems"]
        assert player["songs"][0]["title"] == "Play Me" and {s["stem"] for s in stems} == {"Vocals", "Other"}
        assert all(len(base64.b64decode(s["peaks"])) == 800 for s in stems)
        preview = await apps.read_resource(stems[0]["preview"])
        content = preview.contents[0]
        assert content.mime_type == "audio/mpeg"
        audio, rate = sf.read(io.BytesIO(base64.b64decode(content.blob)), always_2d=True)  # type: ignore[union-attr]
        assert audio.shape[1] == 1 and rate in (22050, 24000) and len(audio) / rate > 1.5
        again = await apps.call_tool("wait_for_jobs", {"job_ids": [job["id"]]})  # peaks cached: the same answer
        assert again.structured_content == with_apps.structured_content
    async with Client(create_server(settings), mode=mode) as plain:
        without = await plain.call_tool("wait_for_jobs", {"job_ids": [job["id"]]})
    assert text_of(without) == text_of(with_apps)
    assert "player" not in without.structured_content
    assert without.structured_content == {k: v for k, v in with_apps.structured_content.items()
                                          if k != "player"}


async def test_previews_refuse_with_a_sentence(tmp_path: Path, sandbox: SandboxServer) -> None:
    song = make_audio(tmp_path / "in", "flac", name="Refuse", seconds=2)
    async with Client(create_server(make_settings(tmp_path, sandbox.base_url)), extensions=[APPS_CLIENT]) as client:
        job = await separate(client, song, "40")
        for uri, message in ((f"mvsep://jobs/{job['id']}/preview/bass", "has no 'bass' stem"),
                             ("mvsep://jobs/jnothere/preview/vocals", "No job 'jnothere'")):
            try:
                await client.read_resource(uri)
            except Exception as exc:  # the client raises the server's error
                assert message in str(exc), exc
            else:
                raise AssertionError(f"{uri} was read")


async def test_no_jobs_toolset_no_app(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, "http://127.0.0.1:9/api", toolsets="catalog")
    async with Client(create_server(settings), mode="auto") as client:
        assert client.server_capabilities.extensions is None
        resources = await client.list_resources()
    assert PLAYER_URI not in [str(r.uri) for r in resources.resources]
