"""Asking before spending: the user is asked (mid-call or as an input round), a "no" sends nothing, a host that
cannot ask gets the cost and how to confirm, automation's allowance and free accounts never ask."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from mcp import types
from mcp.client.client import Client
from mvsep_mcp.app import create_server
from mvsep_mcp_testbench.sandbox import SandboxServer

from tests.audio_factory import make_audio

from .conftest import make_settings, text_of


def answering(spend: bool | None, asked: list[str]) -> Any:
    """An elicitation callback that records the question and answers yes, no, or declines (None)."""

    async def callback(context: Any, params: types.ElicitRequestParams) -> types.ElicitResult:
        asked.append(params.message)
        if spend is None:
            return types.ElicitResult(action="decline")
        return types.ElicitResult(action="accept", content={"spend": spend})

    return callback


def premium_account(sandbox: SandboxServer, name: str) -> str:
    token = f"consent-{name}".ljust(30, "x")
    sandbox.state.add_account(token, email=f"{name}@consent.test", premium_minutes=1000, premium_enabled=1)
    return token


async def separate(tmp_path: Path, sandbox: SandboxServer, token: str, *, mode: str, callback: Any = None,
                   auto_approve: str = "0", **args: Any) -> Any:
    song = make_audio(tmp_path / "in", "wav", name="Song", seconds=2)
    settings = make_settings(tmp_path, sandbox.base_url, token=token, auto_approve_credits=auto_approve)
    async with Client(create_server(settings), mode=mode, elicitation_callback=callback) as client:
        outcome = await client.call_tool("separate_audio", {"inputs": [str(song)], "model": "40", **args})
    return outcome


@pytest.mark.parametrize("mode", ["auto", "legacy"])
async def test_user_says_yes_and_the_job_starts(tmp_path: Path, sandbox: SandboxServer, mode: str) -> None:
    token, asked = premium_account(sandbox, f"yes-{mode}"), []
    outcome = await separate(tmp_path, sandbox, token, mode=mode, callback=answering(True, asked))
    assert not outcome.is_error, text_of(outcome)
    assert len(asked) == 1 and "credits" in asked[0] and "Spend the credits and start?" in asked[0], asked
    assert "balance" in asked[0]
    assert len(outcome.structured_content["jobs"]) == 1
    assert sandbox.state.traffic.creates(token) == 1


@pytest.mark.parametrize("mode", ["auto", "legacy"])
@pytest.mark.parametrize("answer", [False, None], ids=["no", "declined"])
async def test_user_says_no_and_nothing_is_sent(tmp_path: Path, sandbox: SandboxServer, mode: str,
                                                answer: bool | None) -> None:
    token, asked = premium_account(sandbox, f"no-{mode}-{answer}"), []
    uploads_before = len(sandbox.state.traffic.records("*/separation/create*"))
    outcome = await separate(tmp_path, sandbox, token, mode=mode, callback=answering(answer, asked))
    assert not outcome.is_error, text_of(outcome)
    assert len(asked) == 1
    assert text_of(outcome).startswith("Not started: the user declined"), text_of(outcome)
    assert not outcome.structured_content.get("jobs")
    assert sandbox.state.traffic.creates(token) == 0
    assert len(sandbox.state.traffic.records("*/separation/create*")) == uploads_before  # not even an upload


@pytest.mark.parametrize("mode", ["auto", "legacy"])
async def test_host_that_cannot_ask_gets_the_cost_and_how_to_confirm(tmp_path: Path, sandbox: SandboxServer,
                                                                     mode: str) -> None:
    token = premium_account(sandbox, f"noask-{mode}")
    outcome = await separate(tmp_path, sandbox, token, mode=mode)
    text = text_of(outcome)
    assert not outcome.is_error, text
    assert text.startswith("Not started: this would spend credits"), text
    assert "confirm_credits=" in text
    assert sandbox.state.traffic.creates(token) == 0
    amount = int(text.split("confirm_credits=")[1].rstrip("."))
    assert amount > 0

    too_little = await separate(tmp_path, sandbox, token, mode=mode, confirm_credits=amount - 1)
    assert text_of(too_little).startswith("Not started"), text_of(too_little)
    assert sandbox.state.traffic.creates(token) == 0

    confirmed = await separate(tmp_path, sandbox, token, mode=mode, confirm_credits=amount)
    assert not confirmed.is_error and confirmed.structured_content["jobs"], text_of(confirmed)
    assert sandbox.state.traffic.creates(token) == 1


async def test_dry_run_shows_the_amount_to_confirm(tmp_path: Path, sandbox: SandboxServer) -> None:
    token = premium_account(sandbox, "dry")
    outcome = await separate(tmp_path, sandbox, token, mode="legacy", dry_run=True)
    assert "confirm_credits=" in text_of(outcome), text_of(outcome)
    assert sandbox.state.traffic.creates(token) == 0


async def test_allowance_for_automation_never_asks(tmp_path: Path, sandbox: SandboxServer) -> None:
    token, asked = premium_account(sandbox, "allowance"), []
    outcome = await separate(tmp_path, sandbox, token, mode="legacy", callback=answering(False, asked),
                                auto_approve="1000")
    assert not outcome.is_error and outcome.structured_content["jobs"], text_of(outcome)
    assert asked == []
    assert sandbox.state.traffic.creates(token) == 1


async def test_free_account_never_asks(tmp_path: Path, sandbox: SandboxServer) -> None:
    token, asked = "consent-free".ljust(30, "x"), []
    sandbox.state.add_account(token, email="free@consent.test")
    outcome = await separate(tmp_path, sandbox, token, mode="legacy", callback=answering(False, asked))
    assert not outcome.is_error and outcome.structured_content["jobs"], text_of(outcome)
    assert asked == []


@pytest.mark.parametrize("mode", ["auto", "legacy"])
async def test_mastering_asks_too(tmp_path: Path, sandbox: SandboxServer, mode: str) -> None:
    token, asked = premium_account(sandbox, f"master-{mode}"), []
    target = make_audio(tmp_path / "in", "wav", name="Target", seconds=2)
    reference = make_audio(tmp_path / "in", "wav", name="Reference", seconds=2)
    settings = make_settings(tmp_path, sandbox.base_url, token=token, auto_approve_credits="0")
    async with Client(create_server(settings), mode=mode, elicitation_callback=answering(False, asked)) as client:
        outcome = await client.call_tool("master_audio", {"target": str(target), "reference": str(reference)})
    assert len(asked) == 1, text_of(outcome)
    assert text_of(outcome).startswith("Not started: the user declined"), text_of(outcome)
    assert sandbox.state.traffic.creates(token) == 0
