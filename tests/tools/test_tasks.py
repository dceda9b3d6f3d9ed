"""The tasks extension: a client that declares it gets a task from every spending tool, follows it to the stems with
tasks/get, and cancels it with tasks/cancel; everyone else gets job ids and wait_for_jobs as before."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import anyio
import pytest
from mcp.client.client import Client
from mcp.client.extension import ClientExtension
from mcp.shared.exceptions import MCPError
from mcp_types import CallToolResult
from mvsep_mcp.app import create_server
from mvsep_mcp.config import Settings
from mvsep_mcp_testbench.sandbox import JobTiming, SandboxServer, SandboxState

from tests.audio_factory import make_audio
from tests.tasks_client import ANY_DICT, TaskRef, TasksCancel, TasksClient, TasksGet

from .conftest import make_settings, text_of


def song(tmp_path: Path, name: str = "Song") -> str:
    return str(make_audio(tmp_path / "in", "wav", name=name, seconds=2))


async def call(settings: Settings, mode: str, tool: str, args: dict[str, Any],
               extension: ClientExtension | None = None) -> CallToolResult:
    extensions = [extension] if extension else []
    async with Client(create_server(settings), mode=mode, extensions=extensions) as client:
        return await client.call_tool(tool, args)


async def test_a_separation_answers_with_a_task_followed_to_the_stems(tmp_path: Path, sandbox: SandboxServer) -> None:
    tasks = TasksClient()
    settings = make_settings(tmp_path, sandbox.base_url)
    outcome = await call(settings, "auto", "separate_audio", {"inputs": [song(tmp_path)], "model": "40"}, tasks)
    [created] = tasks.created
    assert created.status == "working" and created.ttl_ms is None
    assert created.poll_interval_ms is not None and created.poll_interval_ms >= 1000
    assert len(created.task_id) >= 24  # unguessable
    assert not outcome.is_error, text_of(outcome)
    done = outcome.structured_content
    assert [j["state"] for j in done["jobs"]] == ["completed"] and done["dry_run"] is False  # the tool's own shape
    assert text_of(outcome).startswith("All 1 job(s) finished, 1 completed")  # wait_for_jobs' words
    assert all(Path(o["path"]).is_file() for o in done["jobs"][0]["outputs"])
    last = tasks.polls[-1]
    assert last["resultType"] == "complete" and last["status"] == "completed" and "pollIntervalMs" not in last
    assert last["result"]["structuredContent"] == done
    assert all(p["taskId"] == created.task_id for p in tasks.polls)
    assert all("pollIntervalMs" in p and p["statusMessage"] for p in tasks.polls[:-1])


@pytest.mark.parametrize("tool", ["master_audio", "generate_from_text"])
async def test_the_studio_tools_answer_with_tasks(tmp_path: Path, sandbox: SandboxServer, tool: str) -> None:
    tasks = TasksClient()
    args: dict[str, Any] = (
        {"target": song(tmp_path, "Target"), "reference": song(tmp_path, "Reference")} if tool == "master_audio"
        else {"model": "115", "title": "Hello", "options": {"Text prompt": "Hello there"}, "confirm_credits": 0}
    )
    outcome = await call(make_settings(tmp_path, sandbox.base_url), "auto", tool, args, tasks)
    assert len(tasks.created) == 1, text_of(outcome)
    assert outcome.structured_content["jobs"][0]["state"] == "completed", text_of(outcome)


@pytest.mark.parametrize(("mode", "declares"), [("legacy", True), ("legacy", False), ("auto", False)])
async def test_everyone_else_gets_job_ids_and_the_wait_tool(tmp_path: Path, sandbox: SandboxServer, mode: str,
                                                           declares: bool) -> None:
    tasks = TasksClient()
    settings = make_settings(tmp_path, sandbox.base_url)
    outcome = await call(settings, mode, "separate_audio", {"inputs": [song(tmp_path)], "model": "40"},
                         tasks if declares else None)
    assert tasks.created == []
    assert outcome.structured_content["jobs"][0]["id"].startswith("j"), text_of(outcome)
    assert "wait_for_jobs" in text_of(outcome)


async def test_a_dry_run_is_never_a_task(tmp_path: Path, sandbox: SandboxServer) -> None:
    tasks = TasksClient()
    outcome = await call(make_settings(tmp_path, sandbox.base_url), "auto", "separate_audio",
                         {"inputs": [song(tmp_path)], "model": "40", "dry_run": True}, tasks)
    assert tasks.created == [] and outcome.structured_content["dry_run"] is True


async def test_unknown_tasks_and_undeclared_clients_get_protocol_errors(tmp_path: Path,
                                                                        sandbox: SandboxServer) -> None:
    settings = make_settings(tmp_path, sandbox.base_url)
    async with Client(create_server(settings), mode="auto", extensions=[TasksClient()]) as client:
        with pytest.raises(MCPError) as unknown:
            await client.session.send_request(TasksGet(params=TaskRef(task_id="made-up")), ANY_DICT)
        assert unknown.value.code == -32602 and "Unknown task" in unknown.value.message
    async with Client(create_server(settings), mode="auto") as client:
        with pytest.raises(MCPError) as undeclared:
            await client.session.send_request(TasksGet(params=TaskRef(task_id="made-up")), ANY_DICT)
        assert undeclared.value.code == -32021


async def test_a_task_survives_a_restart(tmp_path: Path, sandbox: SandboxServer) -> None:
    settings = make_settings(tmp_path, sandbox.base_url)
    async with Client(create_server(settings), mode="auto", extensions=[TasksClient()]) as client:
        created = await client.session.call_tool("separate_audio", {"inputs": [song(tmp_path)], "model": "40"},
                                                 allow_claimed=True)
    task_id = created.task_id  # type: ignore[union-attr]
    follower = TasksClient()
    async with Client(create_server(settings), mode="auto", extensions=[follower]) as client:
        for _ in range(100):
            got = await client.session.send_request(TasksGet(params=TaskRef(task_id=task_id)), ANY_DICT)
            if got["status"] != "working":
                break
            await anyio.sleep(0.2)
    assert got["status"] == "completed", got
    assert got["result"]["structuredContent"]["jobs"][0]["state"] == "completed"


async def test_cancelling_a_queued_task(tmp_path: Path) -> None:
    timing = JobTiming(queue_s=60.0, processing_s=1.0, queue_positions=5)
    with SandboxServer(SandboxState(timing=timing)) as slow:
        tasks = TasksClient(cancel=True)
        outcome = await call(make_settings(tmp_path, slow.base_url), "auto", "separate_audio",
                             {"inputs": [song(tmp_path)], "model": "40"}, tasks)
        assert outcome.is_error and text_of(outcome) == "task cancelled", tasks.polls
        assert slow.state.traffic.creates() == 1 and len(slow.state.traffic.records("*/separation/cancel")) == 1
        assert tasks.polls[-1]["statusMessage"].startswith("All 1 job(s) cancelled")


async def test_a_refused_cancel_shows_in_the_status(tmp_path: Path) -> None:
    timing = JobTiming(queue_s=0.0, processing_s=30.0, queue_positions=1)
    with SandboxServer(SandboxState(timing=timing)) as slow:
        settings = make_settings(tmp_path, slow.base_url)
        async with Client(create_server(settings), mode="auto", extensions=[TasksClient()]) as client:
            created = await client.session.call_tool("separate_audio", {"inputs": [song(tmp_path)], "model": "40"},
                                                     allow_claimed=True)
            ref = TaskRef(task_id=created.task_id)  # type: ignore[union-attr]
            for _ in range(100):
                got = await client.session.send_request(TasksGet(params=ref), ANY_DICT)
                if "processing" in got["statusMessage"]:
                    break
                await anyio.sleep(0.1)
            await client.session.send_request(TasksCancel(params=ref), ANY_DICT)
            got = await client.session.send_request(TasksGet(params=ref), ANY_DICT)
    assert got["status"] == "working"
    assert "can no longer be cancelled" in got["statusMessage"], got
