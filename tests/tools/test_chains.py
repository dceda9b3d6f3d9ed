"""Chains through the MCP server against the sandbox: one question, one job per step, one folder, one manifest naming
the chain; bad chains refused before anything is spent."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from mcp import types
from mcp.client.client import Client
from mvsep_mcp.app import create_server
from mvsep_mcp_testbench.sandbox import SandboxServer

from tests.audio_factory import Song, make_audio
from tests.tasks_client import TasksClient

from .conftest import make_settings, text_of

VOCALS_MODEL = "27"  # Demucs4 Vocals 2023: Vocals, Instrumental
FOUR_STEMS = "20"  # Demucs4 HT: Vocals, Drums, Bass, Other, Instrumental
CHAIN = [{"from_stem": "Instrumental", "model": FOUR_STEMS}]


def account(sandbox: SandboxServer, name: str, *, premium: bool = True) -> str:
    token = f"chain-{name}".ljust(30, "x")
    sandbox.state.add_account(token, email=f"{name}@chain.test", premium_minutes=1000 if premium else 0,
                              premium_enabled=1 if premium else 0)
    return token


def song(tmp_path: Path, title: str = "Chain Song") -> Path:
    tags = Song(title=title, artist="Loop Trio", album="Chains", date="2026", genre="Test", track="1")
    return make_audio(tmp_path / "in", "wav", name=title, seconds=2.0, song=tags)


async def call(client: Client, name: str, arguments: dict[str, Any]) -> Any:
    return await client.call_tool(name, arguments)


async def wait_done(client: Client, ids: list[str]) -> dict[str, Any]:
    for _ in range(60):
        out = await client.call_tool("wait_for_jobs", {"job_ids": ids, "max_wait_s": 5})
        assert not out.is_error, text_of(out)
        if out.structured_content["all_finished"]:
            return dict(out.structured_content)
    raise AssertionError("the chain did not finish")


@pytest.mark.parametrize("mode", ["auto", "legacy"])
async def test_a_two_step_chain_is_asked_once_and_lands_in_one_folder(tmp_path: Path, sandbox: SandboxServer,
                                                                      mode: str) -> None:
    token, asked = account(sandbox, f"two-{mode}"), []

    async def yes(context: Any, params: types.ElicitRequestParams) -> types.ElicitResult:
        asked.append(params.message)
        return types.ElicitResult(action="accept", content={"spend": True})

    settings = make_settings(tmp_path, sandbox.base_url, token=token, auto_approve_credits="0", output_format="wav")
    async with Client(create_server(settings), mode=mode, elicitation_callback=yes) as client:
        started = await call(client, "separate_audio", {"inputs": [str(song(tmp_path))], "model": VOCALS_MODEL,
                                                        "then": CHAIN})
        assert not started.is_error, text_of(started)
        ids = [job["id"] for job in started.structured_content["jobs"]]
        assert len(ids) == 2, started.structured_content
        done = await wait_done(client, ids)

    assert len(asked) == 1 and "then Demucs4 HT" in asked[0] and "each through 2 models" in asked[0], asked
    assert sandbox.state.traffic.creates(token) == 2
    first, second = done["jobs"]
    assert first["state"] == second["state"] == "completed", done
    stems = {o["stem"]: Path(o["path"]) for job in done["jobs"] for o in job["outputs"]}
    assert {"Vocals", "Instrumental", "Drums", "Bass", "Other"} <= set(stems)
    assert {"Vocals from Instrumental", "Instrumental from Instrumental"} <= set(stems)  # told apart, not "(2)"
    assert len({p.parent for p in stems.values()}) == 1, "every stem of the chain in one song folder"
    manifest = json.loads(Path(second["manifest_path"]).read_text())
    chain = manifest["job"]["chain"]
    assert [(s["model_id"], s.get("from_stem")) for s in chain] == [(27, None), (20, "Instrumental")]
    assert [s["job_id"] for s in chain] == ids
    assert manifest["input"]["path"].endswith("Chain Song.wav")
    assert manifest["input"]["tags"]["title"] == "Chain Song"
    drums = [o for o in manifest["outputs"] if o["stem"] == "Drums"][0]
    assert drums["path"] == "Chain Song (Drums).wav"


async def test_a_dry_run_quotes_every_step(tmp_path: Path, sandbox: SandboxServer) -> None:
    token = account(sandbox, "dry")
    settings = make_settings(tmp_path, sandbox.base_url, token=token)
    async with Client(create_server(settings)) as client:
        quoted = await call(client, "separate_audio", {"inputs": [str(song(tmp_path))], "model": VOCALS_MODEL,
                                                       "then": CHAIN, "dry_run": True})
        single = await call(client, "separate_audio", {"inputs": [str(song(tmp_path))], "model": VOCALS_MODEL,
                                                       "dry_run": True})
    assert not quoted.is_error, text_of(quoted)
    out, alone = quoted.structured_content, single.structured_content
    assert out["estimated_credits_total"] == 2 * alone["estimated_credits_total"]
    assert "then Demucs4 HT" in out["model"] and "then Demucs4 HT" in out["estimates"][0]["breakdown"]
    assert sandbox.state.traffic.creates(token) == 0


@pytest.mark.parametrize("then, expected", [
    ([{"from_stem": "Drums", "model": FOUR_STEMS}], "give one of Vocals, Instrumental as from_stem"),
    ([{"from_stem": "Instrumental", "model": "104"}], "Step 2 of the chain cannot take a stem"),
    ([{"from_stem": "Instrumental", "model": "68"}], "takes a target and a reference file"),
    ([{"from_stem": "Instrumental", "model": FOUR_STEMS}, {"from_stem": "Drums", "model": "37"},
      {"from_stem": "Kick", "model": "44"}], "A chain runs at most 3 models in one request and this one has 4"),
    ([{"from_stem": "Instrumental", "model": FOUR_STEMS, "options": {"Model type": "nope"}}], "Model type"),
    ([{"from_stem": "Instrumental", "modle": FOUR_STEMS}], "Step 2 of the chain must be an object with from_stem"),
])
async def test_bad_chains_are_refused_before_anything_is_spent(tmp_path: Path, sandbox: SandboxServer,
                                                               then: list[dict[str, Any]], expected: str) -> None:
    token = account(sandbox, f"bad-{abs(hash(expected))}")
    settings = make_settings(tmp_path, sandbox.base_url, token=token)
    async with Client(create_server(settings)) as client:
        refused = await call(client, "separate_audio", {"inputs": [str(song(tmp_path))], "model": VOCALS_MODEL,
                                                        "then": then})
    assert refused.is_error and expected in text_of(refused), text_of(refused)
    assert "\n" not in text_of(refused)
    assert sandbox.state.traffic.creates(token) == 0


async def test_a_chain_is_one_task_and_a_batch_chains_every_song(tmp_path: Path, sandbox: SandboxServer) -> None:
    tasks = TasksClient()
    settings = make_settings(tmp_path, sandbox.base_url, token=account(sandbox, "task"))
    songs = [str(song(tmp_path, "Task One")), str(song(tmp_path, "Task Two"))]
    async with Client(create_server(settings), mode="auto", extensions=[tasks]) as client:
        outcome = await call(client, "separate_audio", {"inputs": songs, "model": VOCALS_MODEL, "then": CHAIN})
    assert len(tasks.created) == 1, text_of(outcome)
    jobs = outcome.structured_content["jobs"]
    assert [j["state"] for j in jobs] == ["completed"] * 4, text_of(outcome)
    assert sorted((Path(j["input"]).stem, j["model"][:8]) for j in jobs) == [
        ("Task One", "Demucs4 "), ("Task One", "Demucs4 "), ("Task Two", "Demucs4 "), ("Task Two", "Demucs4 ")]
    assert {j["model"] for j in jobs} == {"Demucs4 Vocals 2023 (vocals, instrum)",
                                          "Demucs4 HT (vocals, drums, bass, other)"}
    progress = [p["statusMessage"] for p in tasks.polls if p.get("statusMessage")]
    assert any("waiting for the step before" in m or "jobs finished" in m for m in progress), progress


async def test_a_chains_daw_session_holds_its_stems_but_the_one_split_further(tmp_path: Path,
                                                                               sandbox: SandboxServer) -> None:
    settings = make_settings(tmp_path, sandbox.base_url, token=account(sandbox, "daw"), output_format="wav")
    async with Client(create_server(settings)) as client:
        started = await call(client, "separate_audio", {"inputs": [str(song(tmp_path))], "model": VOCALS_MODEL,
                                                        "then": CHAIN, "daw_session": "rpp"})
        done = await wait_done(client, [job["id"] for job in started.structured_content["jobs"]])
    first, second = done["jobs"]
    assert first["state"] == second["state"] == "completed", done
    [rpp] = [p for p in Path(second["manifest_path"]).parent.iterdir() if p.suffix == ".rpp"]
    text = rpp.read_text(encoding="utf-8")
    assert "Chain Song (Vocals).wav" in text and "Chain Song (Drums).wav" in text
    assert "Chain Song (Instrumental).wav" not in text  # the first step's instrumental, split by the second
    for job in (first, second):
        manifest = json.loads(Path(job["manifest_path"]).read_text(encoding="utf-8"))
        assert [s["kind"] for s in manifest["sessions"]] == ["rpp"]


async def test_dj_stems_and_a_mix_of_a_chain_take_every_steps_stems(tmp_path: Path, sandbox: SandboxServer) -> None:
    settings = make_settings(tmp_path, sandbox.base_url, token=account(sandbox, "made"), output_format="wav")
    async with Client(create_server(settings)) as client:
        started = await call(client, "separate_audio", {"inputs": [str(song(tmp_path))], "model": "40",
                                                        "then": [{"from_stem": "Other", "model": FOUR_STEMS}]})
        done = await wait_done(client, [job["id"] for job in started.structured_content["jobs"]])
        first, last = done["jobs"]
        dj = await call(client, "make_dj_stems", {"job_id": last["id"]})
        mix = await call(client, "mix_stems", {"job_id": last["id"], "only": ["Vocals", "Drums"]})
    assert not dj.is_error and not mix.is_error, (text_of(dj), text_of(mix))
    assert Path(dj.structured_content["file"]).name == "Chain Song.stem.mp4"
    vocals = next(o["path"] for o in first["outputs"] if o["stem"] == "Vocals")  # the first step's, not the residue
    assert Path(mix.structured_content["file"]).parent == Path(vocals).parent
    assert "Vocals + Drums" in text_of(mix)


def test_the_readme_example_recommends_then_chains(tmp_path: Path) -> None:
    """The README's Python example of a recommendation and a chain, run as a user would, against its own sandbox."""
    import os
    import re
    import subprocess
    import sys

    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    [example] = [body for body in re.findall(r"^```python\n(.*?)^```", readme, re.MULTILINE | re.DOTALL)
                 if "recommend_models" in body]
    (tmp_path / "chain.py").write_text(example, encoding="utf-8")
    env = {**os.environ, "HOME": str(tmp_path), "XDG_DATA_HOME": str(tmp_path / "data"),
           "XDG_CONFIG_HOME": str(tmp_path / "config"), "XDG_CACHE_HOME": str(tmp_path / "cache")}
    done = subprocess.run([sys.executable, "chain.py", str(song(tmp_path, "Readme Chain"))], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0].startswith("1. 40: BS Roformer (vocals, instrumental) — 11.31 (bleedless"), lines
    assert lines[1] == "All 2 job(s) finished, 2 completed:", lines
    assert "completed: 2 files" in lines[2] and "Drums" in lines[3] and "Bass" in lines[3], lines
    assert len({p.parent for p in (tmp_path / "stems").rglob("*.flac")}) == 1
