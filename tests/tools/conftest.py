"""Fixtures for the tools layer: a fast sandbox, settings pointing at it, an in-process client in both modes."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
from mcp.client.client import Client
from mvsep_mcp.app import create_server
from mvsep_mcp.config import Settings, load_settings
from mvsep_mcp_testbench.sandbox import (
    SANDBOX_FREE_TOKEN,
    SANDBOX_PREMIUM_TOKEN,
    JobTiming,
    SandboxServer,
    SandboxState,
)

MODES = ("auto", "legacy")


@pytest.fixture(scope="module")
def sandbox() -> Iterator[SandboxServer]:
    with SandboxServer(SandboxState(timing=JobTiming.fast())) as server:
        yield server


def make_settings(
    tmp_path: Path, base_url: str, token: str | None = SANDBOX_PREMIUM_TOKEN, toolsets: str = "all", **extra: str
) -> Settings:
    env = {
        "MVSEP_BASE_URL": base_url,
        "MVSEP_OUTPUT_DIR": str(tmp_path / "out"),
        "MVSEP_DATA_DIR": str(tmp_path / "data"),
        "MVSEP_TOOLSETS": toolsets,
        "MVSEP_POLL_INTERVAL": "0.05",
        "MVSEP_STATUS_RATE": "100000",
        "MVSEP_AUTO_APPROVE_CREDITS": "1000000",
        "MVSEP_CONFIG": str(tmp_path / "absent.toml"),
        "MVSEP_CREDENTIALS": str(tmp_path / "credentials.json"),
        **{f"MVSEP_{k.upper()}": v for k, v in extra.items()},
    }
    if token:
        env["MVSEP_API_TOKEN"] = token
    return load_settings({}, env)


@asynccontextmanager
async def connect(settings: Settings, mode: str = "legacy") -> AsyncIterator[Client]:
    async with Client(create_server(settings), mode=mode) as client:
        yield client


@pytest.fixture(params=MODES)
def mode(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def text_of(result: Any) -> str:
    return "\n".join(getattr(block, "text", "") for block in result.content)


__all__ = ["SANDBOX_FREE_TOKEN", "SANDBOX_PREMIUM_TOKEN", "connect", "make_settings", "text_of"]
