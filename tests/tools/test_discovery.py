"""The 2026-07-28 surface: server/discover names the extensions, lists carry freshness hints, and every tool's
annotations say what it does to the world."""

from __future__ import annotations

from pathlib import Path

from mcp.client.client import Client
from mvsep_mcp import policy
from mvsep_mcp.app import create_server
from mvsep_mcp_testbench.sandbox import SandboxServer

from .conftest import make_settings

# what each tool does: reads only (True) or not, destroys something, the same call twice changes nothing more,
# reaches beyond this server (MVSep)
EXPECTED = {
    "search_models": (True, None, None, None), "get_model": (True, None, None, None),
    "recommend_models": (True, None, None, None),
    "wait_for_jobs": (True, None, None, None), "list_jobs": (True, None, None, False),
    "separate_audio": (None, False, None, None), "master_audio": (None, False, None, None),
    "generate_from_text": (None, False, None, None), "fetch_job_results": (None, False, None, None),
    "cancel_job": (False, None, None, None), "quality_delete": (False, None, None, None),
    "set_premium_mode": (None, False, True, None), "set_long_filenames": (None, False, True, None),
    "make_daw_session": (None, False, None, False), "make_dj_stems": (None, False, None, False),
    "mix_stems": (None, False, None, False),
}


async def test_discover_names_the_extensions_and_lists_are_fresh_for_an_hour(tmp_path: Path,
                                                                             sandbox: SandboxServer) -> None:
    async with Client(create_server(make_settings(tmp_path, sandbox.base_url)), mode="auto") as client:
        found = await client.session.discover()
        listed = await client.list_tools()
    extensions = found.capabilities.extensions or {}
    assert {"io.modelcontextprotocol/tasks", "io.modelcontextprotocol/ui"} <= set(extensions)
    assert listed.ttl_ms == policy.LIST_TTL_MS and listed.cache_scope == "public"


async def test_annotations(tmp_path: Path, sandbox: SandboxServer) -> None:
    async with Client(create_server(make_settings(tmp_path, sandbox.base_url)), mode="legacy") as client:
        tools = {t.name: t for t in (await client.list_tools()).tools}
    for name, (read_only, destructive, idempotent, open_world) in EXPECTED.items():
        hints = tools[name].annotations
        assert hints is not None, name
        assert (hints.read_only_hint, hints.destructive_hint, hints.idempotent_hint, hints.open_world_hint) == (
            read_only, destructive, idempotent, open_world), name
    assert all(t.annotations is not None for t in tools.values())
