"""separate_audio can ask for a DAW session: once the job is done, its .dawproject and .rpp lie beside the stems."""

from __future__ import annotations

import zipfile
from pathlib import Path

from mcp.client.client import Client
from mcp_types import ResourceLink
from mvsep_mcp.app import create_server
from mvsep_mcp.media.files import sha256_file
from mvsep_mcp.media.manifest import read_manifest
from mvsep_mcp_testbench.sandbox import SandboxServer

from tests.audio_factory import make_audio

from .conftest import make_settings, text_of


async def test_a_session_is_written_beside_the_stems_when_asked(tmp_path: Path, sandbox: SandboxServer) -> None:
    song = make_audio(tmp_path / "in", "wav", name="Session Song", seconds=2)
    async with Client(create_server(make_settings(tmp_path, sandbox.base_url)), mode="legacy") as client:
        started = await client.call_tool("separate_audio", {"inputs": [str(song)], "model": "20",
                                                            "output_format": "wav", "daw_session": "both"})
        ids = [j["id"] for j in started.structured_content["jobs"]]
        for _ in range(60):
            waited = await client.call_tool("wait_for_jobs", {"job_ids": ids, "max_wait_s": 10})
            if waited.structured_content["all_finished"]:
                break
        links = [b for b in waited.content if isinstance(b, ResourceLink) and "/sessions/" in b.uri]
        read = [(await client.read_resource(link.uri)).contents[0].mime_type for link in links]
    [job] = waited.structured_content["jobs"]
    assert job["state"] == "completed", text_of(waited)
    folder = Path(job["outputs"][0]["path"]).parent
    projects = sorted(p.name for p in folder.iterdir() if p.suffix in (".dawproject", ".rpp"))
    assert [Path(p).suffix for p in projects] == [".dawproject", ".rpp"], projects
    assert "DAW session" in job["phase"] and all(name in job["phase"] for name in projects)
    with zipfile.ZipFile(folder / projects[0]) as archive:
        xml = archive.read("project.xml").decode("utf-8")
    assert all(Path(o["path"]).name in xml for o in job["outputs"])
    assert [link.name for link in links] == projects and read == ["application/zip", "text/plain"]
    sessions = read_manifest(Path(job["manifest_path"])).sessions  # the job's record lists them
    assert [(s.kind, s.path, s.sha256) for s in sessions] == [
        (Path(name).suffix[1:], name, sha256_file(folder / name)) for name in projects]
    assert [s.stem for s in sessions[1].stems] == [o["stem"] for o in job["outputs"]]


async def test_no_session_unless_asked(tmp_path: Path, sandbox: SandboxServer) -> None:
    song = make_audio(tmp_path / "in", "wav", name="Plain Song", seconds=2)
    async with Client(create_server(make_settings(tmp_path, sandbox.base_url)), mode="legacy") as client:
        started = await client.call_tool("separate_audio", {"inputs": [str(song)], "model": "20"})
        ids = [j["id"] for j in started.structured_content["jobs"]]
        for _ in range(60):
            waited = await client.call_tool("wait_for_jobs", {"job_ids": ids, "max_wait_s": 10})
            if waited.structured_content["all_finished"]:
                break
    folder = Path(waited.structured_content["jobs"][0]["outputs"][0]["path"]).parent
    assert not [p for p in folder.iterdir() if p.suffix in (".dawproject", ".rpp")]
