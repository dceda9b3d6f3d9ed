"""DJ stems and practice mixes through the MCP server against the sandbox: make_dj_stems and mix_stems (issue 20)."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import mutagen
import numpy as np
import soundfile as sf
from mcp.client.client import Client
from mcp_types import ResourceLink
from mvsep_mcp.app import create_server
from mvsep_mcp.daw.ni_stems import read_stem_manifest
from mvsep_mcp.media.manifest import read_manifest
from mvsep_mcp_testbench.sandbox import SandboxServer

from tests import ffmpeg
from tests.audio_factory import Song, make_audio

from .conftest import make_settings, text_of
from .test_every_tool import ok, wait_done

DEMUCS = "20"  # Vocals, Drums, Bass, Other and Instrumental
SIX_STEMS = "63"  # Vocals, Bass, Drums, Guitar, Piano, Other and Instrumental
TWO_STEMS = "40"  # Vocals and Other


async def separate(client: Client, song: Path, model: str, output_format: str = "wav") -> dict[str, Any]:
    started = await ok(client, "separate_audio", {"inputs": [str(song)], "model": model,
                                                  "output_format": output_format})
    job: dict[str, Any] = (await wait_done(client, [started["jobs"][0]["id"]]))["jobs"][0]
    assert job["state"] == "completed", job
    return job


def stem_path(job: dict[str, Any], stem: str) -> Path:
    return Path(next(o["path"] for o in job["outputs"] if o["stem"] == stem))


async def test_dj_stems_file_has_five_tracks_as_long_as_the_input_and_a_stem_box(
        tmp_path: Path, sandbox: SandboxServer, mode: str) -> None:
    song = make_audio(tmp_path / "in", "wav", name="Deck", seconds=2, song=Song(title="Deck Song"))
    frames = sf.info(str(song)).frames
    async with Client(create_server(make_settings(tmp_path, sandbox.base_url)), mode=mode) as client:
        job = await separate(client, song, DEMUCS)
        made = await client.call_tool("make_dj_stems", {"job_id": job["id"]})
        assert not made.is_error, text_of(made)
        links = [b for b in made.content if isinstance(b, ResourceLink)]
        read = await client.read_resource(links[0].uri)
    path = Path(made.structured_content["file"])
    assert path.name == "Deck Song.stem.mp4" and path.parent == stem_path(job, "Vocals").parent
    assert made.structured_content["uri"] == links[0].uri == f"mvsep://jobs/{job['id']}/files/Deck%20Song.stem.mp4"
    assert links[0].mime_type == read.contents[0].mime_type == "audio/mp4"
    assert base64.b64decode(read.contents[0].blob) == path.read_bytes()  # type: ignore[union-attr]
    audio = [s for s in ffmpeg.streams(path) if s["codec_type"] == "audio"]
    assert [s["tags"]["handler_name"] for s in audio] == ["Master", "Drums", "Bass", "Other", "Vocals"]
    assert [s["codec_name"] for s in audio] == ["alac"] * 5
    assert [int(s["duration_ts"]) for s in audio] == [frames] * 5
    assert [ffmpeg.decoded_frames(path, i) for i in range(5)] == [frames] * 5
    assert [s["disposition"]["default"] for s in audio] == [1, 0, 0, 0, 0]  # ordinary players play the master
    box = read_stem_manifest(path)
    assert box is not None and box["version"] == 1
    assert [s["name"] for s in box["stems"]] == ["Drums", "Bass", "Other", "Vocals"]
    assert box["mastering_dsp"]["limiter"]["enabled"] is False
    tags = mutagen.File(path).tags
    assert tags["\xa9nam"] == ["Deck Song"] and tags["\xa9ART"] == ["Test Artist"] and tags["covr"]
    # the master is the song; the stems as the job saved them
    master, _ = sf.read(str(song), dtype="float32")
    assert np.abs(_decoded(path, 0) - master).max() < 1e-4
    assert np.abs(_decoded(path, 4) - sf.read(str(stem_path(job, "Vocals")), dtype="float32")[0]).max() < 1e-4
    entry = read_manifest(Path(job["manifest_path"])).made[-1]
    assert (entry.kind, entry.path, entry.stems) == ("dj_stems", "Deck Song.stem.mp4", ["Drums", "Bass", "Other",
                                                                                          "Vocals"])


def _decoded(path: Path, stream: int) -> np.ndarray:
    import subprocess

    pcm = subprocess.run([ffmpeg.program("ffmpeg"), "-v", "error", "-i", str(path), "-map", f"0:a:{stream}",
                          "-f", "f32le", "-"], check=True, capture_output=True).stdout
    return np.frombuffer(pcm, dtype="<f4").reshape(-1, 2)


async def test_dj_stems_work_out_other_when_the_job_has_more_stems(tmp_path: Path, sandbox: SandboxServer) -> None:
    song = make_audio(tmp_path / "in", "flac", name="Six", seconds=2, song=Song(title="Six"))
    async with Client(create_server(make_settings(tmp_path, sandbox.base_url)), mode="legacy") as client:
        job = await separate(client, song, SIX_STEMS, "flac")
        made = await client.call_tool("make_dj_stems", {"job_id": job["id"]})
    assert not made.is_error, text_of(made)
    note = text_of(made).splitlines()[1]
    assert note.startswith("Other is the song minus Drums, Bass and Vocals (the job's Other lacks its ")
    assert "Guitar" in note and "Piano" in note
    path = Path(made.structured_content["file"])
    tracks = [_decoded(path, i) for i in range(5)]
    assert np.abs(tracks[0] - sum(tracks[1:])).max() < 1e-3  # the four add up to the master (16-bit rounding)


async def test_mix_without_bass_is_the_sum_of_the_other_stems(tmp_path: Path, sandbox: SandboxServer,
                                                               mode: str) -> None:
    song = make_audio(tmp_path / "in", "wav", name="Play", seconds=2, song=Song(title="Play Along"))
    async with Client(create_server(make_settings(tmp_path, sandbox.base_url)), mode=mode) as client:
        job = await separate(client, song, DEMUCS)
        made = await client.call_tool("mix_stems", {"job_id": job["id"], "without": ["Bass"]})
        assert not made.is_error, text_of(made)
        again = await ok(client, "mix_stems", {"job_id": job["id"], "without": ["bass"]})
        status = await client.call_tool("wait_for_jobs", {"job_ids": [job["id"]]})
    path = Path(made.structured_content["file"])
    assert path.name == "Play Along (no Bass).wav" and again["file"] == str(path)  # asked again: the same file
    entry = read_manifest(Path(job["manifest_path"])).made[-1]
    assert (entry.kind, entry.format, entry.gain, entry.stems) == ("mix", "wav", 1.0, ["Vocals", "Drums", "Other"])
    assert len(read_manifest(Path(job["manifest_path"])).made) == 1
    assert "Play Along (no Bass).wav = Vocals + Drums + Other." in text_of(made)
    mix, rate = sf.read(str(path))
    others = sum(sf.read(str(stem_path(job, stem)))[0] for stem in entry.stems)
    assert len(mix) == sf.info(str(song)).frames and rate == sf.info(str(song)).samplerate
    assert np.abs(mix - others).max() <= 1e-4
    assert mutagen.File(path).tags["TIT2"].text == ["Play Along (no Bass)"]
    assert [b.name for b in status.content if isinstance(b, ResourceLink) and "%28no%20Bass%29" in b.uri] == [path.name]


async def test_a_mix_that_would_clip_is_lowered_and_says_by_how_much(tmp_path: Path, sandbox: SandboxServer) -> None:
    song = make_audio(tmp_path / "in", "wav", name="Loud", seconds=2, song=Song(title="Loud"))
    async with Client(create_server(make_settings(tmp_path, sandbox.base_url)), mode="legacy") as client:
        job = await separate(client, song, DEMUCS, "wav32")
        for stem in ("Drums", "Bass"):  # make the pair loud enough to pass full scale together
            data, rate = sf.read(str(stem_path(job, stem)), dtype="float32")
            sf.write(str(stem_path(job, stem)), np.full_like(data, 0.75), rate, subtype="FLOAT")
        made = await ok(client, "mix_stems", {"job_id": job["id"], "only": ["drums", "bass"], "output_format": "flac"})
    entry = read_manifest(Path(job["manifest_path"])).made[-1]
    assert Path(made["file"]).name == "Loud (Drums + Bass).flac" and entry.format == "flac"
    assert entry.gain is not None and entry.gain < 1 and entry.gain_db == round(20 * np.log10(entry.gain), 2)
    mix, _ = sf.read(made["file"])
    assert 0.98 < np.abs(mix).max() <= 1.0


async def test_bad_requests_are_refused_with_what_is_possible(tmp_path: Path, sandbox: SandboxServer) -> None:
    song = make_audio(tmp_path / "in", "wav", name="Two", seconds=2, song=Song(title="Two"))
    async with Client(create_server(make_settings(tmp_path, sandbox.base_url)), mode="legacy") as client:
        two = await separate(client, song, TWO_STEMS)
        four = await separate(client, song, DEMUCS)
        refusals = {
            "no drums": await client.call_tool("make_dj_stems", {"job_id": two["id"]}),
            "both": await client.call_tool("mix_stems", {"job_id": four["id"], "without": ["Bass"],
                                                         "only": ["Drums"]}),
            "unknown": await client.call_tool("mix_stems", {"job_id": four["id"], "only": ["Piano"]}),
            "neither": await client.call_tool("mix_stems", {"job_id": four["id"]}),
            "no job": await client.call_tool("mix_stems", {"job_id": "jnothere", "only": ["Bass"]}),
        }
    texts = {name: text_of(result) for name, result in refusals.items()}
    assert all(result.is_error for result in refusals.values()), texts
    assert "DJ stems need Drums, Bass and Vocals stems" in texts["no drums"]
    assert "this job has no Drums and Bass (its stems: " in texts["no drums"]
    assert texts["no drums"].endswith("separate the song with a 4-stem model (search_models stem='drums').")
    assert "Give either without (the stems to leave out) or only (the stems to keep), not both." in texts["both"]
    assert "This job has no 'Piano' stem; its stems are" in texts["unknown"]
    assert "Name the stems to leave out (without) or to keep (only)" in texts["neither"]
    assert "No job 'jnothere'" in texts["no job"]
    assert not list((Path(two["outputs"][0]["path"]).parent).glob("*.stem.mp4"))


async def test_made_files_show_no_server_paths_when_results_are_resources(tmp_path: Path,
                                                                          sandbox: SandboxServer) -> None:
    song = make_audio(tmp_path / "in", "wav", name="Hidden", seconds=2, song=Song(title="Hidden"))
    settings = make_settings(tmp_path, sandbox.base_url, results_as="resources")
    async with Client(create_server(settings), mode="legacy") as client:
        job = await separate(client, song, DEMUCS)
        made = [await client.call_tool("make_dj_stems", {"job_id": job["id"]}),
                await client.call_tool("mix_stems", {"job_id": job["id"], "only": ["Vocals", "Bass"]})]
    for result in made:
        shown = json.dumps(result.structured_content) + text_of(result)
        assert str(tmp_path) not in shown, shown
        assert [b for b in result.content if isinstance(b, ResourceLink)]
    assert [r.structured_content["file"] for r in made] == ["Hidden.stem.mp4", "Hidden (Vocals + Bass).wav"]


def test_the_readme_example_makes_dj_stems_and_a_mix_offline(tmp_path: Path) -> None:
    """The README's Python example, run as a user would (its song path given), against its own sandbox."""
    import os
    import re
    import subprocess
    import sys

    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    [example] = [body for body in re.findall(r"^```python\n(.*?)^```", readme, re.MULTILINE | re.DOTALL)
                 if "make_dj_stems" in body]
    (tmp_path / "dj.py").write_text(example, encoding="utf-8")
    song = make_audio(tmp_path / "in", "wav", name="Readme", seconds=2, song=Song(title="Readme Song"))
    env = {**os.environ, "HOME": str(tmp_path), "XDG_DATA_HOME": str(tmp_path / "data"),
           "XDG_CONFIG_HOME": str(tmp_path / "config")}
    done = subprocess.run([sys.executable, "dj.py", str(song)], cwd=tmp_path, env=env, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0].startswith("DJ stems: Readme Song.stem.mp4 (the song + Drums, Bass, Other, Vocals")
    assert lines[1].startswith("Mix: Readme Song (no Bass).wav = Vocals + Drums + Other")
    assert len(list((tmp_path / "stems").rglob("Readme Song.stem.mp4"))) == 1
