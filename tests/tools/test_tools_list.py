"""`tools/list` as a model sees it: a snapshot of the default toolsets, compactness, and honest annotations."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from mvsep_mcp.config import ALL_TOOLSETS

from .conftest import connect, make_settings

SNAPSHOT = Path(__file__).parent / "snapshots" / "tools_list_all.json"
# The model's context budget for tools/list (issue: "default ≤ 12 KB, every toolset together ≤ 24 KB"), measured
# strictly: the default with json.dumps' spaces, every toolset (auth included) as compact JSON on the wire.
DEFAULT_BUDGET_BYTES = 12_000
# Arguments whose name, bounds and values say everything (a page size or offset, a sort enum, a switch's one bool, an
# id named for what it identifies, a sign-in's email and password, a filter named for what it keeps): a description
# would repeat them in the model's context.
SELF_EXPLANATORY = {"start", "offset", "limit", "sort", "enabled", "job_id", "entry_id", "email", "password",
                    "unfinished_only", "include_inactive"}
# A read-only tool (readOnlyHint) spends nothing, so only a tool that writes says "Free." (and one that spends says so).
EVERY_TOOLSET_BUDGET_BYTES = 24_000

READ_ONLY_TOOLS = {
    "search_models",
    "get_model",
    "recommend_models",
    "wait_for_jobs",
    "list_jobs",
    "account_info",
    "separation_history",
    "mvsep_queue",
    "mvsep_news",
    "mvsep_demos",
    "quality_leaderboard",
    "quality_entry",
    "quality_queue",
    "check_mvsep_hash",
}


async def tool_list(tmp_path: Path, toolsets: str, mode: str = "legacy") -> list[dict[str, object]]:
    settings = make_settings(tmp_path, "http://127.0.0.1:9/api", toolsets=toolsets)
    async with connect(settings, mode) as client:
        listed = await client.list_tools()
    return [t.model_dump(mode="json", by_alias=True, exclude_none=True) for t in listed.tools]


async def test_tools_list_matches_snapshot(tmp_path: Path, mode: str) -> None:
    """Every tool of every toolset, as a model sees it. A missing snapshot fails: it is written only on request."""
    tools = await tool_list(tmp_path, ",".join(ALL_TOOLSETS), mode)
    current = json.dumps(tools, indent=1, sort_keys=True, ensure_ascii=False) + "\n"
    if os.environ.get("UPDATE_SNAPSHOTS") == "1":
        SNAPSHOT.write_text(current, encoding="utf-8")
    assert SNAPSHOT.exists(), f"{SNAPSHOT.name} is missing: run the tests once with UPDATE_SNAPSHOTS=1 and review it"
    assert current == SNAPSHOT.read_text(encoding="utf-8"), (
        "tools/list changed: review the diff, then run with UPDATE_SNAPSHOTS=1 to accept it"
    )


async def test_default_toolset_is_compact(tmp_path: Path) -> None:
    tools = await tool_list(tmp_path, "catalog,separation,jobs")
    assert [t["name"] for t in tools] == [
        "search_models",
        "get_model",
        "recommend_models",
        "separate_audio",
        "wait_for_jobs",
        "list_jobs",
        "cancel_job",
    ]
    assert len(json.dumps(tools)) <= DEFAULT_BUDGET_BYTES


async def test_every_toolset_fits_the_context_budget(tmp_path: Path) -> None:
    default = await tool_list(tmp_path / "default", "catalog,separation,jobs")
    every = await tool_list(tmp_path / "all", ",".join(ALL_TOOLSETS))
    sizes = {"default": len(json.dumps(default)), "default, compact": len(json.dumps(default, separators=(",", ":"))),
             "every toolset, compact": len(json.dumps(every, separators=(",", ":")))}
    print("tools/list bytes:", sizes)
    assert sizes["default"] <= DEFAULT_BUDGET_BYTES
    assert sizes["every toolset, compact"] <= EVERY_TOOLSET_BUDGET_BYTES


async def test_every_tool_is_described_and_annotated(tmp_path: Path) -> None:
    tools = await tool_list(tmp_path, ",".join(ALL_TOOLSETS))
    names = [t["name"] for t in tools]
    assert len(names) == len(set(names)) == 28
    for tool in tools:
        assert len(str(tool.get("description", ""))) >= 25, tool["name"]
        assert "outputSchema" in tool, tool["name"]
        schema = tool["inputSchema"]
        for prop, spec in schema.get("properties", {}).items():  # type: ignore[union-attr]
            if prop in SELF_EXPLANATORY:
                continue
            assert spec.get("description"), f"{tool['name']}.{prop} has no description"
        hints = tool["annotations"]
        read_only = hints.get("readOnlyHint") is True  # type: ignore[union-attr]
        assert read_only == (tool["name"] in READ_ONLY_TOOLS), tool["name"]
        assert not (read_only and "Free." in str(tool.get("description"))), tool["name"]


@pytest.mark.parametrize("toolsets, absent", [("all", "login"), ("catalog", "separate_audio")])
async def test_toolsets_select_tools(tmp_path: Path, toolsets: str, absent: str) -> None:
    names = {t["name"] for t in await tool_list(tmp_path, toolsets)}
    assert absent not in names
