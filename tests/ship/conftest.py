"""Fixtures for the shipping tests: a fast sandbox, a tagged song, one separation driven through any MCP client, and
what a release builds (``.ci/release.py build``): built once per session, or taken from ``MVSEP_RELEASE_DIST`` (the
release workflow points the tests at the artefacts it is about to publish)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from mvsep_mcp.config import ALL_TOOLSETS
from mvsep_mcp_testbench.sandbox import SANDBOX_PREMIUM_TOKEN, JobTiming, SandboxServer, SandboxState

from tests.http_server import serving_http
from tests.ship import external

MODEL = "27"  # Demucs4 Vocals 2023: two stems, open to every account
MAX_WAIT_CALLS = 20
WAIT_S = 15.0

ROOT = Path(__file__).resolve().parents[2]
SOURCES = ("pyproject.toml", "README.md", "LICENSE", "MANIFEST.in", "manifest.json", "server.json", "icon.png",
           ".mcpbignore", "Dockerfile", ".dockerignore", "server", "tools", "tests", ".ci")

RELEASE_DIST = "MVSEP_RELEASE_DIST"  # a folder `.ci/release.py build` filled: check those artefacts, build nothing
BUILD_TIMEOUT_S = 900

EVERY_TOOLSET = ",".join(ALL_TOOLSETS)

CallTool = Callable[[str, dict[str, Any]], Awaitable[dict[str, Any]]]


@pytest.fixture
def sandbox() -> Iterator[SandboxServer]:
    with SandboxServer(SandboxState(timing=JobTiming.fast())) as server:
        yield server


def _release_build(out: Path, part: str, path: str) -> Path:
    done = subprocess.run([sys.executable, str(ROOT / ".ci" / "release.py"), "build", str(out), part],
                          env={**os.environ, "PATH": path}, capture_output=True, text=True, timeout=BUILD_TIMEOUT_S,
                          stdin=subprocess.DEVNULL)
    assert done.returncode == 0, done.stdout + done.stderr
    return out


@pytest.fixture(scope="session")
def python_dist(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The folder holding the sdist and the wheel, as the release builds them."""
    given = os.environ.get(RELEASE_DIST)
    if given:
        return Path(given) / "dist"
    return _release_build(tmp_path_factory.mktemp("release-python"), "--python", external.tool_path()) / "dist"


@pytest.fixture(scope="session")
def bundle_dist(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The folder holding the bundle (``mvsep-mcp-<version>.mcpb``) and the registry entry with its hash
    (``server.json``), as the release builds them."""
    given = os.environ.get(RELEASE_DIST)
    if given:
        return Path(given)
    npx_dir = str(Path(external.npx()).parent)
    path = os.pathsep.join([npx_dir, external.tool_path()])
    return _release_build(tmp_path_factory.mktemp("release-bundle"), "--bundle", path)


@pytest.fixture(scope="session")
def uv_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One uv cache for the session's installs (the wheel's dependencies come from PyPI once)."""
    return tmp_path_factory.mktemp("uv-cache")


def server_env(root: Path, base_url: str, token: str | None = None) -> dict[str, str]:
    env = {
        "MVSEP_BASE_URL": base_url,
        "MVSEP_OUTPUT_DIR": str(root / "out"),
        "MVSEP_DATA_DIR": str(root / "data"),
        "MVSEP_TOOLSETS": EVERY_TOOLSET,
        "MVSEP_POLL_INTERVAL": "0.2",
        "MVSEP_STATUS_RATE": "100000",
        "MVSEP_AUTO_APPROVE_CREDITS": "1000000",
        "MVSEP_CONFIG": str(root / "absent.toml"),
        "MVSEP_CREDENTIALS": str(root / "absent.json"),
        "HOME": str(root / "home"),
    }
    if token:
        env["MVSEP_API_TOKEN"] = token
    return env


@pytest.fixture
def http_server(tmp_path: Path, sandbox: SandboxServer) -> Iterator[str]:
    """``mvsep-mcp serve --transport http`` on a free loopback port; its MCP endpoint URL."""
    (tmp_path / "home").mkdir()
    env = {"PATH": os.environ.get("PATH", ""), **server_env(tmp_path, sandbox.base_url, SANDBOX_PREMIUM_TOKEN)}
    with serving_http(env, tmp_path / "http-server.log") as url:
        yield url


def copy_sources(dest: Path) -> Path:
    """A clean copy of the checkout (what git tracks at the top, without caches or build leftovers) to build in."""
    dest.mkdir(parents=True, exist_ok=True)
    for name in SOURCES:
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(source, dest / name,
                            ignore=shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info", ".pytest_cache"))
        elif source.exists():
            shutil.copy2(source, dest / name)
    return dest


def make_song(directory: Path, title: str = "Ship It") -> Path:
    from tests.audio_factory import Song, make_audio

    song = Song(title=title, artist="Loopback Trio", album="Release Day", date="2026", genre="Synthwave", track="1")
    return make_audio(directory, "flac", name=title, seconds=2.5, song=song, seed=11)


async def separate_one(call: CallTool, song: Path) -> dict[str, Any]:
    """A dry run, separate_audio confirming the cost it showed (as a host that cannot ask), then wait_for_jobs until
    the job has ended; the finished job (structured content)."""
    args = {"inputs": [str(song)], "model": MODEL, "output_format": "flac"}
    estimate = await call("separate_audio", {**args, "dry_run": True})
    submitted = await call("separate_audio", {**args, "confirm_credits": estimate["estimated_credits_total"] or 0})
    job_ids = [job["id"] for job in submitted["jobs"]]
    assert len(job_ids) == 1, submitted
    for _ in range(MAX_WAIT_CALLS):
        waited = await call("wait_for_jobs", {"job_ids": job_ids, "max_wait_s": WAIT_S})
        if waited["all_finished"]:
            job: dict[str, Any] = waited["jobs"][0]
            assert job["state"] == "completed", job
            assert {out["stem"] for out in job["outputs"]} and all(Path(o["path"]).is_file() for o in job["outputs"])
            return job
    raise AssertionError(f"the job did not finish after {MAX_WAIT_CALLS} wait_for_jobs calls")
