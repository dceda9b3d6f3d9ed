"""Cold start to tools/list, and idle memory: the product's server against a bare one-tool ``MCPServer``.

Both are launched as a host launches them (a stdio subprocess, legacy handshake), alternately, several times; the
figure is the median. The product runs with its default toolsets, a token and the sandbox's URL.
"""

from __future__ import annotations

import time

import anyio

from mvsep_mcp_testbench.bench.context import Bench, median
from mvsep_mcp_testbench.bench.figures import Figure, Target
from mvsep_mcp_testbench.bench.mcp_server import McpServer

SETTLE_S = 0.5  # after tools/list, before reading the idle memory (start-up work in the background ends)


async def _start_once(server: McpServer) -> tuple[float, float | None]:
    started = time.perf_counter()
    async with server:
        await server.list_tools()
        seconds = time.perf_counter() - started
        await anyio.sleep(SETTLE_S)
        return seconds, server.rss_mb()


async def measure(bench: Bench) -> None:
    runs = bench.params.cold_start_runs
    bench.say(f"cold start to tools/list, {runs} runs each")
    token = bench.service.account("coldstart", premium=False)
    ours: list[tuple[float, float | None]] = []
    bare: list[tuple[float, float | None]] = []
    for i in range(runs):
        bare.append(await _start_once(McpServer.bare(bench.root / f"bare-{i}")))
        ours.append(await _start_once(bench.server(f"cold-{i}", token, toolsets=None)))
    ours_rss = [r for _, r in ours if r is not None]
    bare_rss = [r for _, r in bare if r is not None]
    bench.add(Figure(
        "cold_start", "cold start to tools/list", "s", median([s for s, _ in ours]), median([s for s, _ in bare]),
        "bare one-tool MCPServer", Target.ratio_at_most(1.2),
        note=f"median of {runs} stdio launches each, default toolsets",
        details={"ours_s": [s for s, _ in ours], "bare_s": [s for s, _ in bare]},
    ))
    bench.add(Figure(
        "idle_rss", "idle memory (RSS after tools/list)", "MB", median(ours_rss) if ours_rss else None,
        median(bare_rss) if bare_rss else None, "bare one-tool MCPServer", Target.none(),
        note="" if ours_rss else "no /proc on this system",
        details={"ours_mb": ours_rss, "bare_mb": bare_rss},
    ))
