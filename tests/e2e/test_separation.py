"""A real separation over stdio: stems on disk, named by the default template, tagged, listed in the manifest; a second
identical run reuses the result (no upload, no create, nothing overwritten)."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import mutagen
import pytest
from mvsep_mcp.media import read_tags
from mvsep_mcp_testbench.sandbox import SANDBOX_PREMIUM_TOKEN, SandboxServer

from .conftest import CreateLog, ServerEnv, count_creates, make_input, run_server

MODEL = "27"  # Demucs4 Vocals 2023: two stems, open to every account


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def model_tag(path: Path) -> str | None:
    """The tag naming the model (server/media/tag_write.py: MVSEP_MODEL / TXXX:MVSEP_MODEL / ----:com.mvsep:model)."""
    audio = mutagen.File(path)
    assert audio is not None and audio.tags is not None, f"{path.name} has no tags"
    tags = audio.tags
    suffix = path.suffix.lower()
    if suffix == ".mp3":
        frame = tags.get("TXXX:MVSEP_MODEL")
        return str(frame.text[0]) if frame else None
    if suffix == ".m4a":
        values = tags.get("----:com.mvsep:model")
        return bytes(values[0]).decode("utf-8") if values else None
    values = tags.get("MVSEP_MODEL")
    return str(values[0]) if values else None


def stem_labels(sandbox: SandboxServer, model: str = MODEL) -> set[str]:
    algorithm = sandbox.state.catalog.find(int(model))
    assert algorithm is not None
    return set(algorithm.outputs.values())


def check_job_outputs(job: dict[str, Any], *, input_path: Path, output_dir: Path, ext: str,
                      expected_stems: set[str]) -> None:
    """Every stem where the default template puts it, with the input's tags and cover, a model tag, and a manifest
    beside the stems listing every output with matching path, size and SHA-256."""
    song = read_tags(input_path)
    assert song.title and song.artist and song.cover is not None
    assert job["state"] == "completed", job
    folder = output_dir / f"{song.artist} - {song.title}"
    outputs = job["outputs"]
    assert {o["stem"] for o in outputs} == expected_stems
    for out in outputs:
        path = Path(out["path"])
        assert path == folder / f"{song.title} ({out['stem']}).{ext}"
        assert path.is_file()
        assert path.stat().st_size == out["size"]  # (its SHA-256 is checked against the manifest below)
        tags = read_tags(path)
        assert tags.artist == song.artist
        assert tags.album == song.album
        assert tags.title == f"{song.title} ({out['stem']})"
        assert tags.cover is not None and tags.cover.data == song.cover.data
        model = model_tag(path)
        assert model, f"{path.name} has no model tag"
        assert model == job["model"]

    manifest_path = Path(job["manifest_path"])
    assert manifest_path.is_file()
    assert manifest_path.parent == folder
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    listed = manifest["outputs"]
    assert {Path(o["absolute_path"]) for o in listed} == {Path(o["path"]) for o in outputs}
    for entry in listed:
        path = Path(entry["absolute_path"])
        assert path.is_file()
        assert (manifest_path.parent / entry["path"]).resolve() == path.resolve()
        assert entry["size"] == path.stat().st_size
        assert entry["sha256"] == sha256(path)
    # nothing else in the song's folder: no temporary .part files left behind
    assert {p.name for p in folder.iterdir()} == {Path(o["path"]).name for o in outputs} | {manifest_path.name}


@pytest.mark.parametrize(("input_fmt", "output_fmt"), [("mp3", "flac"), ("flac", "mp3"), ("m4a", "m4a")])
async def test_single_file_into_tagged_stems(sandbox: SandboxServer, server_env: ServerEnv, input_fmt: str,
                                            output_fmt: str) -> None:
    song = make_input(server_env.root / "in", input_fmt, title=f"Night Ride {input_fmt.upper()}")
    async with run_server(server_env.params(SANDBOX_PREMIUM_TOKEN), server_env.stderr_path) as session:
        submitted = await session.ok("separate_audio", {"inputs": [str(song)], "model": MODEL,
                                                        "output_format": output_fmt})
        ids = [job["id"] for job in submitted["jobs"]]
        assert len(ids) == 1
        done = await session.wait_all(ids)
    assert done["completed"] == 1
    check_job_outputs(done["jobs"][0], input_path=song, output_dir=server_env.output_dir, ext=output_fmt,
                      expected_stems=stem_labels(sandbox))


def snapshot(root: Path) -> dict[Path, tuple[int, str]]:
    return {p: (p.stat().st_mtime_ns, sha256(p)) for p in root.rglob("*") if p.is_file()}


async def test_identical_second_run_reuses_without_upload_or_overwrite(sandbox: SandboxServer,
                                                                      server_env: ServerEnv) -> None:
    creates = count_creates(sandbox.state)
    song = make_input(server_env.root / "in", "flac", title="Second Take")
    request = {"inputs": [str(song)], "model": MODEL, "output_format": "flac"}
    async with run_server(server_env.params(SANDBOX_PREMIUM_TOKEN), server_env.stderr_path) as session:
        first = await session.ok("separate_audio", request)
        first_done = await session.wait_all([job["id"] for job in first["jobs"]])
        check_job_outputs(first_done["jobs"][0], input_path=song, output_dir=server_env.output_dir, ext="flac",
                          expected_stems=stem_labels(sandbox))
        before = snapshot(server_env.output_dir)
        assert before

        second = await session.ok("separate_audio", request)
        second_done = await session.wait_all([job["id"] for job in second["jobs"]])
    check_reused(sandbox, server_env, creates, before, second_done["jobs"][0], "the second identical run")

    # and again from a restarted server: the journal on disk remembers the result
    async with run_server(server_env.params(SANDBOX_PREMIUM_TOKEN), server_env.stderr_path) as session:
        third = await session.ok("separate_audio", request)
        third_done = await session.wait_all([job["id"] for job in third["jobs"]])
    check_reused(sandbox, server_env, creates, before, third_done["jobs"][0], "an identical run after a restart")


def check_reused(sandbox: SandboxServer, server_env: ServerEnv, creates: CreateLog,
                 before: dict[Path, tuple[int, str]], job: dict[str, Any], what: str) -> None:
    assert creates.attempts == 1, f"{what} sent a create: {creates}"
    assert len(sandbox.state.jobs_of(SANDBOX_PREMIUM_TOKEN)) == 1
    after = snapshot(server_env.output_dir)
    for path, (mtime, digest) in before.items():
        assert path in after, f"{path} disappeared after {what}"
        assert after[path] == (mtime, digest), f"{path} was rewritten by {what}"
    assert job["state"] == "completed", job
    assert {o["stem"] for o in job["outputs"]} == stem_labels(sandbox)
    for out in job["outputs"]:
        path = Path(out["path"])
        assert path.is_file() and path.stat().st_size == out["size"]
    if job.get("manifest_path"):
        assert Path(job["manifest_path"]).is_file()
