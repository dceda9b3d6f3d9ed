"""Fixtures of the sandbox tests: a live sandbox on a loopback port with fast job timings, and tagged audio."""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from mvsep_mcp_testbench.sandbox import JobTiming, SandboxServer, SandboxState  # noqa: E402

from tests.audio_factory import Song, make_audio  # noqa: E402

RECORDED = ROOT / "tests" / "fixtures" / "recorded"
POLL_S = 0.05
POLL_LIMIT_S = 30.0


def recorded(name: str) -> dict[str, Any]:
    return json.loads((RECORDED / name).read_text(encoding="utf-8"))


@pytest.fixture
def sandbox(tmp_path: Path) -> Iterator[SandboxServer]:
    state = SandboxState(storage_dir=tmp_path / "storage", timing=JobTiming.fast())
    with SandboxServer(state) as server:
        yield server
    state.close()


@pytest.fixture
def api(sandbox: SandboxServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=sandbox.base_url, timeout=30, trust_env=False) as client:
        yield client


@pytest.fixture
def song(tmp_path: Path) -> Path:
    return make_audio(tmp_path / "in", "mp3", song=Song(title="Sandbox Song", artist="Tester"))


def create(api: httpx.Client, token: str, path: Path | None, **fields: str) -> httpx.Response:
    files = {"audiofile": (path.name, path.read_bytes())} if path is not None else None
    data = {"api_token": token, "sep_type": "20", **fields}
    return api.post("/separation/create", data=data, files=files)


def poll(api: httpx.Client, job_hash: str, until: tuple[str, ...] = ("done", "failed", "not_found"),
         path: str = "/separation/get") -> tuple[dict[str, Any], list[str]]:
    """Poll until one of ``until``; returns the last body and every status seen in order."""
    seen: list[str] = []
    deadline = time.monotonic() + POLL_LIMIT_S
    while True:
        body = api.get(path, params={"hash": job_hash}).json()
        if not seen or seen[-1] != body["status"]:
            seen.append(body["status"])
        if body["status"] in until:
            return body, seen
        assert time.monotonic() < deadline, f"job stuck in {seen}"
        time.sleep(POLL_S)
