"""completion/complete: render ids from part of a model's name, the caller's jobs and their stems, and a prompt's
model, format and path, in both eras; a prompt or template that does not exist is -32602."""

from __future__ import annotations

from pathlib import Path

import pytest
from mcp.client.client import Client
from mcp.shared.exceptions import MCPError
from mcp_types import PromptReference, ResourceTemplateReference
from mcp_types.jsonrpc import INVALID_PARAMS
from mvsep_mcp_testbench.sandbox import SandboxServer

from tests.audio_factory import make_audio

from .conftest import connect, make_settings
from .test_file_resources import separate_and_wait

MODELS = ResourceTemplateReference(uri="mvsep://models/{render_id}")
JOB = ResourceTemplateReference(uri="mvsep://jobs/{job_id}")
FLAC_STEM = ResourceTemplateReference(uri="mvsep://jobs/{job_id}/files/{stem}.flac")
KARAOKE = PromptReference(name="karaoke")


async def values(client: Client, ref: PromptReference | ResourceTemplateReference, name: str, value: str,
                 known: dict[str, str] | None = None) -> list[str]:
    answer = await client.complete(ref, {"name": name, "value": value}, known)
    found = answer.completion
    assert found.total is not None and found.has_more is (found.total > len(found.values) == 100)
    return found.values


async def test_render_ids_from_part_of_a_name(tmp_path: Path, sandbox: SandboxServer, mode: str) -> None:
    async with connect(make_settings(tmp_path, sandbox.base_url), mode) as client:
        if mode == "legacy":
            assert client.server_capabilities.completions is not None
        assert (await values(client, MODELS, "render_id", "bs rofo"))[:2] == ["63", "40"]
        assert await values(client, MODELS, "render_id", "40") == ["40"]
        assert all(v.isdigit() for v in await values(client, MODELS, "render_id", ""))
        assert all(v.isdigit() for v in await values(client, MODELS, "render_id", "roformer"))


async def test_a_long_list_is_cut_at_a_hundred(tmp_path: Path, sandbox: SandboxServer) -> None:
    async with connect(make_settings(tmp_path, sandbox.base_url)) as client:
        answer = await client.complete(MODELS, {"name": "render_id", "value": ""})
        assert len(answer.completion.values) == 100
        assert answer.completion.total is not None and answer.completion.total > 100 and answer.completion.has_more


async def test_the_callers_jobs_and_their_stems(tmp_path: Path, sandbox: SandboxServer, mode: str) -> None:
    song = make_audio(tmp_path / "in", "wav", name="Completed", seconds=2)
    async with connect(make_settings(tmp_path, sandbox.base_url), mode) as client:
        assert await values(client, JOB, "job_id", "") == []
        waited = await separate_and_wait(client, song, "flac")
        [job] = waited.structured_content["jobs"]
        assert await values(client, JOB, "job_id", "") == [job["id"]]
        assert await values(client, JOB, "job_id", job["id"][:3]) == [job["id"]]
        assert await values(client, JOB, "job_id", "complet") == [job["id"]]  # by the song's name
        assert await values(client, JOB, "job_id", "zz") == []
        stems = await values(client, FLAC_STEM, "stem", "", {"job_id": job["id"]})
        assert sorted(stems) == sorted(out["stem"] for out in job["outputs"])
        assert await values(client, FLAC_STEM, "stem", "voc", {"job_id": job["id"]}) == ["Vocals"]
        assert await values(client, FLAC_STEM, "stem", "", {"job_id": "jnothere"}) == []
        assert await values(client, FLAC_STEM, "stem", "") == []  # which job: not said yet


async def test_no_jobs_without_an_account(tmp_path: Path, sandbox: SandboxServer) -> None:
    async with connect(make_settings(tmp_path, sandbox.base_url, token=None)) as client:
        assert await values(client, JOB, "job_id", "") == []


async def test_prompt_arguments(tmp_path: Path, sandbox: SandboxServer, mode: str) -> None:
    song = make_audio(tmp_path / "music", "flac", name="Karaoke Song", seconds=1)
    (tmp_path / "music" / "Kids").mkdir()
    async with connect(make_settings(tmp_path, sandbox.base_url), mode) as client:
        assert await values(client, KARAOKE, "output_format", "fl") == ["flac", "flac24"]
        models = await values(client, KARAOKE, "model", "karaoke")
        assert models[0] == "MVSep Karaoke (lead/back vocals)"
        assert await values(client, KARAOKE, "model", "40") == ["BS Roformer (vocals, instrumental)"]
        assert await values(client, KARAOKE, "path", f"{song.parent}/K") == [f"{song.parent}/Kids/", str(song)]
        remix = PromptReference(name="remix_stems")
        assert await values(client, remix, "paths", f"/x.flac,{song.parent}/Kar") == [f"/x.flac,{song}"]
        prompt = await client.get_prompt("karaoke", {"path": str(song), "model": models[0]})
        text = prompt.messages[0].content.text  # type: ignore[union-attr]
        assert "Use the model MVSep Karaoke (lead/back vocals) (render_id 49: pass it as model)" in text
        by_id = await client.get_prompt("karaoke", {"path": str(song), "model": "49", "output_format": ""})
        assert by_id.messages[0].content.text == text  # type: ignore[union-attr]


@pytest.mark.parametrize(("ref", "name", "message"), [
    (PromptReference(name="nope"), "path",
     "No prompt is named 'nope'; this server's prompts are karaoke, remix_stems, clean_dialogue."),
    (KARAOKE, "speed", "The prompt 'karaoke' has no argument 'speed'; its arguments are path, output_format, model."),
    (ResourceTemplateReference(uri="mvsep://nope/{x}"), "x", "No resource template is 'mvsep://nope/{x}'"),
    (MODELS, "job_id", "The template 'mvsep://models/{render_id}' has no variable 'job_id'; its variables are "
                       "render_id."),
])
async def test_what_does_not_exist_is_invalid_params(tmp_path: Path, sandbox: SandboxServer, mode: str,
                                                     ref: PromptReference | ResourceTemplateReference, name: str,
                                                     message: str) -> None:
    async with connect(make_settings(tmp_path, sandbox.base_url), mode) as client:
        with pytest.raises(MCPError) as refused:
            await client.complete(ref, {"name": name, "value": ""})
    assert refused.value.error.code == INVALID_PARAMS and refused.value.error.message.startswith(message)
