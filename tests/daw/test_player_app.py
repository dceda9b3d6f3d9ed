"""The stem player MCP App in headless Chromium, fed by a real sandbox job through the server in-process.

A small host page of our own (``app_host.html``) speaks the App bridge: it renders the View (the ``ui://`` resource as
the server serves it) in a sandboxed iframe under the spec's restrictive default CSP, answers ``ui/initialize``, sends
the tool input and the real ``wait_for_jobs`` result, and proxies ``resources/read`` (the previews) to the MCP client.
Debian's ``chromium`` is driven by Playwright through its executable path: no browser download, no network. Under CI
a missing browser fails the test instead of skipping it (``.ci/run`` installs it; ``tests/programs.py``).
"""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
from mcp.client.client import Client
from mcp.client.extension import advertise
from mcp.server.apps import APP_MIME_TYPE, EXTENSION_ID
from mvsep_mcp.app import create_server
from mvsep_mcp_testbench.sandbox import JobTiming, SandboxServer, SandboxState
from mvsep_mcp_tools.player import PLAYER_URI

from tests import programs
from tests.audio_factory import Song, make_audio
from tests.tools.conftest import make_settings

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
HOST_PAGE = Path(__file__).parent / "app_host.html"
ARTIFACTS = Path(__file__).parent / "artifacts"
APPS_CLIENT = advertise(EXTENSION_ID, {"mimeTypes": [APP_MIME_TYPE]})
FOUR_STEMS = "20"  # Demucs4 HT: vocals, drums, bass, other (and the sandbox's instrumental)


def _browser_or_skip() -> None:
    programs.skip_if_declared_absent("chromium")
    if not CHROMIUM.is_file():
        programs.missing("chromium", f"{CHROMIUM} is missing: apt-get install -y chromium")


@asynccontextmanager
async def separated(tmp_path: Path, output_format: str = "flac") -> AsyncIterator[tuple[Client, dict[str, Any],
                                                                                       dict[str, Any]]]:
    """An Apps-capable client on the real server, after a four-stem separation of a sandbox song completed: the
    client (still connected, for the previews), the tool input and the ``wait_for_jobs`` result as JSON."""
    with SandboxServer(SandboxState(timing=JobTiming.fast())) as sandbox:
        song = make_audio(tmp_path / "in", "flac", name="Player", seconds=8, song=Song(title="Night Drive"))
        settings = make_settings(tmp_path, sandbox.base_url)
        async with Client(create_server(settings), mode="legacy", extensions=[APPS_CLIENT]) as client:
            started = await client.call_tool("separate_audio", {"inputs": [str(song)], "model": FOUR_STEMS,
                                                                "output_format": output_format})
            assert not started.is_error, started.content
            job_id = started.structured_content["jobs"][0]["id"]
            arguments = {"job_ids": [job_id], "max_wait_s": 10}
            for _ in range(60):
                waited = await client.call_tool("wait_for_jobs", arguments)
                assert not waited.is_error, waited.content
                if waited.structured_content and waited.structured_content["all_finished"]:
                    break
            yield client, arguments, waited.model_dump(mode="json", by_alias=True, exclude_none=True)


@pytest.mark.parametrize("output_format", ["flac", "m4a"])  # M4A (AAC) stems: decoded with PyAV
async def test_stem_player_renders_and_mixes_in_chromium(tmp_path: Path, output_format: str) -> None:
    _browser_or_skip()
    async with separated(tmp_path, output_format) as (client, arguments, result):
        outputs = result["structuredContent"]["jobs"][0]["outputs"]
        assert outputs and all(o["uri"].endswith(f".{output_format}") for o in outputs), outputs
        await _play(client, arguments, result, tmp_path, screenshot=f"stem_player_{output_format}.png")


async def _play(client: Client, arguments: dict[str, Any], result: dict[str, Any], tmp_path: Path, *,
                screenshot: str) -> None:
    from playwright.async_api import async_playwright

    stems = result["structuredContent"]["player"]["songs"][0]["stems"]
    names = [s["stem"] for s in stems]
    assert all(s.get("peaks") and not s.get("note") for s in stems), stems
    assert {"Vocals", "Drums", "Bass", "Other"} <= set(names), names
    count = len(names)
    view = await client.read_resource(PLAYER_URI)
    html = view.contents[0].text  # type: ignore[union-attr]
    assert view.contents[0].mime_type == APP_MIME_TYPE

    async def read_resource(uri: str) -> dict[str, Any]:
        read = await client.read_resource(uri)
        return read.model_dump(mode="json", by_alias=True, exclude_none=True)

    outside: list[str] = []
    console: list[str] = []
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = await browser.new_page(viewport={"width": 800, "height": 560})

            async def only_local(route: Any) -> None:
                if route.request.url.startswith(("file:", "data:", "about:")):
                    await route.continue_()
                else:
                    outside.append(route.request.url)
                    await route.abort()

            await page.route("**/*", only_local)
            page.on("console", lambda message: console.append(f"{message.type}: {message.text}"))
            await page.expose_function("mcpReadResource", read_resource)
            await page.goto(HOST_PAGE.as_uri())
            await page.evaluate("([html, input, result]) => window.loadApp(html, input, result)",
                                [html, arguments, result])
            app = page.frame_locator("#app")

            # every stem's waveform is drawn
            rows = app.locator(".row")
            await rows.nth(count - 1).locator("canvas[data-drawn='true']").wait_for()
            assert await rows.count() == count
            for index in range(count):
                canvas = rows.nth(index).locator("canvas")
                assert await canvas.get_attribute("data-drawn") == "true"
                inked = await canvas.evaluate(
                    "c => { const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;"
                    " let n = 0; for (let i = 3; i < d.length; i += 4) if (d[i] > 0) n++; return n; }")
                assert inked > 1000, f"stem {index} has no waveform"
            assert await rows.locator(".name").all_inner_texts() == names

            # play: every stem's preview is fetched through the host and plays
            await app.locator("button.play").click()
            await app.locator(".song[data-playing='true']").wait_for()
            frame = await (await page.wait_for_selector("#app")).content_frame()  # type: ignore[union-attr]
            assert frame is not None
            await frame.wait_for_function("n => { const a = [...document.querySelectorAll('audio')];"
                                          " return a.length === n && a.every(x => !x.paused); }", arg=count)
            audio = app.locator("audio")
            states = await audio.evaluate_all("els => els.map(a => ({stem: a.dataset.stem, paused: a.paused, "
                                              "muted: a.muted, src: a.src.slice(0, 22)}))")
            assert all(s["src"] == "data:audio/mpeg;base64" and not s["paused"] for s in states), states
            assert not any(s["muted"] for s in states)

            async def audible() -> dict[str, bool]:
                pairs = await audio.evaluate_all("els => els.map(a => [a.dataset.stem, !a.muted])")
                return dict(pairs)

            def only(*playing: str) -> dict[str, bool]:
                return {name: name in playing for name in names}

            # solo Vocals: only the vocals play
            vocals, drums = rows.nth(names.index("Vocals")), rows.nth(names.index("Drums"))
            await vocals.locator("button.solo").click()
            assert await audible() == only("Vocals")
            assert await vocals.get_attribute("data-audible") == "true"
            assert await drums.get_attribute("data-audible") == "false"
            # solo Drums as well: both play
            await drums.locator("button.solo").click()
            assert await audible() == only("Vocals", "Drums")
            await page.screenshot(path=str(tmp_path / "stem_player.png"))
            # mute a soloed stem: it stops sounding, the other solo stays
            await vocals.locator("button.mute").click()
            assert await audible() == only("Drums")
            # no solo left: everything but the muted vocals plays
            await drums.locator("button.solo").click()
            await vocals.locator("button.solo").click()
            assert await audible() == only(*[n for n in names if n != "Vocals"])
            assert await vocals.locator("button.mute").get_attribute("aria-pressed") == "true"

            await app.locator("button.play").click()
            await app.locator(".song[data-playing='false']").wait_for()
            assert await audio.evaluate_all("els => els.every(a => a.paused)")
            log = await page.evaluate("window.hostLog")
        finally:
            await browser.close()
    assert log[:2] == ["ui/initialize", "ui/notifications/initialized"]
    assert log.count("resources/read") == count
    assert outside == [], "the App must not touch the network"
    assert not [line for line in console if line.startswith("error") or "Refused" in line], console
    ARTIFACTS.mkdir(exist_ok=True)
    shutil.copy(tmp_path / "stem_player.png", ARTIFACTS / screenshot)
    print(f"screenshot: {ARTIFACTS / screenshot}")
