"""recommend_models through the MCP server against the sandbox's leaderboard: the leaderboard's best model first,
the metric and dataset named, access and price for the account."""

from __future__ import annotations

from pathlib import Path

from mcp.client.client import Client
from mvsep_mcp.app import create_server
from mvsep_mcp_testbench.sandbox import SANDBOX_FREE_TOKEN, SandboxServer

from .conftest import make_settings, text_of


async def test_the_leaderboards_best_vocals_model_comes_first(tmp_path: Path, sandbox: SandboxServer,
                                                              mode: str) -> None:
    settings = make_settings(tmp_path, sandbox.base_url)
    async with Client(create_server(settings), mode=mode) as client:
        board = await client.call_tool("quality_leaderboard", {"dataset_type": 1, "sort": "sdr_vocals"})
        answer = await client.call_tool("recommend_models", {"stem": "vocals"})
    best_entry = board.structured_content["entries"][0]
    assert best_entry["algo_name"] == "BS Roformer ver 2024.08"
    assert not answer.is_error, text_of(answer)
    out = answer.structured_content
    assert out["metric"] == "sdr_vocals" and out["dataset"] == "Multisong (dataset 1)"
    first = out["models"][0]
    assert (first["render_id"], first["score"], first["options"]) == (40, best_entry["scores"]["sdr_vocals"],
                                                                      {"Vocal model type": "29"})
    scores = [m["score"] for m in out["models"]]
    assert scores == sorted(scores, reverse=True) and len(scores) == 5
    text = text_of(answer)
    assert text.startswith("Ranked by sdr_vocals (higher is better) on the quality checker's Multisong (dataset 1)")
    assert "bleedless" in text and "1 scored entries name no model of the catalogue" in text


async def test_access_and_price_are_the_accounts(tmp_path: Path, sandbox: SandboxServer) -> None:
    settings = make_settings(tmp_path, sandbox.base_url, token=SANDBOX_FREE_TOKEN)
    async with Client(create_server(settings)) as client:
        drums = await client.call_tool("recommend_models", {"stem": "Drums"})
        cheap = await client.call_tool("recommend_models", {"stem": "Drums", "max_credits": 1, "limit": 1})
        unknown = await client.call_tool("recommend_models", {"stem": "banjo"})
    models = drums.structured_content["models"]
    assert models[0]["render_id"] == 28 and models[0]["access"] == "premium only, not this account"
    assert models[0]["credits_per_min"] == 4
    assert [m["render_id"] for m in cheap.structured_content["models"]] == [63]
    assert unknown.is_error and "scores no stem called 'banjo'" in text_of(unknown)
