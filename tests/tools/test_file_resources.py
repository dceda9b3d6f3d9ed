"""Stems as resources: results carry a resource_link per saved stem and manifest, resources/read serves them (the
bytes on disk, with their type), MVSEP_RESULTS_AS chooses paths, links or both, and audio previews come when asked."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import pytest
from mcp.client.client import Client
from mcp.shared.exceptions import MCPError
from mcp_types import AudioContent, BlobResourceContents, ResourceLink, TextResourceContents
from mcp_types.jsonrpc import INVALID_PARAMS
from mvsep_mcp.app import create_server
from mvsep_mcp_testbench.sandbox import SandboxServer

from tests.audio_factory import make_audio

from .conftest import make_settings, text_of


async def separate_and_wait(client: Client, song: Path, fmt: str = "flac", **wait: Any) -> Any:
    started = await client.call_tool("separate_audio", {"inputs": [str(song)], "model": "20", "output_format": fmt})
    assert not started.is_error, text_of(started)
    ids = [j["id"] for j in started.structured_content["jobs"]]
    for _ in range(60):
        waited = await client.call_tool("wait_for_jobs", {"job_ids": ids, "max_wait_s": 10, **wait})
        if waited.structured_content["all_finished"]:
            return waited
    raise AssertionError("the job did not finish")


@pytest.mark.parametrize(("fmt", "mime"), [("flac", "audio/flac"), ("wav", "audio/wav"), ("mp3", "audio/mpeg")])
async def test_links_are_served_as_the_saved_bytes(tmp_path: Path, sandbox: SandboxServer, mode: str, fmt: str,
                                                   mime: str) -> None:
    song = make_audio(tmp_path / "in", "wav", name="Linked", seconds=2)
    async with Client(create_server(make_settings(tmp_path, sandbox.base_url)), mode=mode) as client:
        waited = await separate_and_wait(client, song, fmt)
        [job] = waited.structured_content["jobs"]
        links = [b for b in waited.content if isinstance(b, ResourceLink)]
        stems = [link for link in links if link.uri.startswith(f"mvsep://jobs/{job['id']}/files/")]
        assert len(stems) == len(job["outputs"]) == 5  # Demucs4 HT: vocals, drums, bass, other, instrumental
        for link, out in zip(stems, job["outputs"], strict=True):
            assert link.uri == out["uri"] and link.mime_type == mime and link.size == out["size"]
            assert link.name == Path(out["path"]).name
            read = await client.read_resource(link.uri)
            [content] = read.contents
            assert isinstance(content, BlobResourceContents) and content.mime_type == mime
            assert base64.b64decode(content.blob) == Path(out["path"]).read_bytes()
        [manifest] = [link for link in links if link.uri.endswith("/manifest")]
        read = await client.read_resource(manifest.uri)
        [content] = read.contents
        assert isinstance(content, TextResourceContents)
        assert json.loads(content.text) == json.loads(Path(job["manifest_path"]).read_text(encoding="utf-8"))


async def test_paths_only(tmp_path: Path, sandbox: SandboxServer) -> None:
    song = make_audio(tmp_path / "in", "wav", name="Paths", seconds=2)
    settings = make_settings(tmp_path, sandbox.base_url, results_as="paths")
    async with Client(create_server(settings), mode="legacy") as client:
        waited = await separate_and_wait(client, song)
    assert not [b for b in waited.content if isinstance(b, ResourceLink)]
    assert all(o["path"] for o in waited.structured_content["jobs"][0]["outputs"])


async def test_resources_only_shows_no_server_path(tmp_path: Path, sandbox: SandboxServer) -> None:
    song = make_audio(tmp_path / "in", "wav", name="Remote", seconds=2)
    settings = make_settings(tmp_path, sandbox.base_url, results_as="resources")
    async with Client(create_server(settings), mode="legacy") as client:
        started = await client.call_tool("separate_audio", {"inputs": [str(song)], "model": "20", "dry_run": True})
        waited = await separate_and_wait(client, song)
        links = [b for b in waited.content if isinstance(b, ResourceLink)]
        assert links
        read = await client.read_resource(links[0].uri)
    everything = json.dumps(waited.structured_content) + text_of(waited)
    assert str(tmp_path) not in everything, everything
    answer = json.dumps(started.structured_content) + text_of(started)
    assert str(tmp_path / "out") not in answer, answer  # (the input is the user's own path)
    assert "(as resources)" in text_of(waited)
    assert read.contents


async def test_audio_previews_only_when_asked(tmp_path: Path, sandbox: SandboxServer) -> None:
    song = make_audio(tmp_path / "in", "wav", name="Previewed", seconds=2)
    async with Client(create_server(make_settings(tmp_path, sandbox.base_url)), mode="legacy") as client:
        plain = await separate_and_wait(client, song)
        assert not [b for b in plain.content if isinstance(b, AudioContent)]
        ids = [j["id"] for j in plain.structured_content["jobs"]]
        asked = await client.call_tool("wait_for_jobs", {"job_ids": ids, "audio_preview": True})
    audio = [b for b in asked.content if isinstance(b, AudioContent)]
    assert len(audio) == 5 and all(a.mime_type == "audio/mpeg" for a in audio)
    assert all(len(base64.b64decode(a.data)) > 1000 for a in audio)


async def test_reading_a_stem_of_an_unknown_job_is_not_found(tmp_path: Path, sandbox: SandboxServer) -> None:
    async with Client(create_server(make_settings(tmp_path, sandbox.base_url)), mode="legacy") as client:
        with pytest.raises(Exception, match="(?i)not found|unknown|no job"):
            await client.read_resource("mvsep://jobs/jnothing/files/Vocals.flac")


async def test_a_stem_or_session_the_job_does_not_have_is_not_found(tmp_path: Path, sandbox: SandboxServer,
                                                                    mode: str) -> None:
    """-32602 (the spec's resource not found) with the sentence naming what the job has."""
    song = make_audio(tmp_path / "in", "wav", name="Missing", seconds=2)
    async with Client(create_server(make_settings(tmp_path, sandbox.base_url)), mode=mode) as client:
        [job] = (await separate_and_wait(client, song)).structured_content["jobs"]
        for uri, sentence in ((f"mvsep://jobs/{job['id']}/files/Piano.flac", "no 'Piano' stem; its stems are "),
                              (f"mvsep://jobs/{job['id']}/sessions/Song.rpp", "no DAW session 'Song.rpp'")):
            with pytest.raises(MCPError) as refused:
                await client.read_resource(uri)
            assert refused.value.error.code == INVALID_PARAMS and sentence in refused.value.error.message
