"""``mvsep-mcp bench``: run the scenarios in order, print the table, write the JSON."""

from __future__ import annotations

import argparse
import dataclasses
import json
import shutil
import sys
import tempfile
import time
import traceback
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import anyio

from mvsep_mcp_testbench.bench import job_figures, startup, transfer, upload, verify_cost
from mvsep_mcp_testbench.bench.context import Bench, Params
from mvsep_mcp_testbench.bench.figures import Figure, Target, table
from mvsep_mcp_testbench.bench.proc import load, machine
from mvsep_mcp_testbench.bench.service import BenchService
from mvsep_mcp_testbench.bench.soak import Soak, SoakParams
from mvsep_mcp_testbench.bench.soak_report import block_table, blocks, soak_figures

Scenario = Callable[[Bench], Awaitable[None]]

# group -> (scenario, the figures it adds: shown as n/a when the scenario fails)
GROUPS: dict[str, tuple[Scenario, tuple[str, ...]]] = {
    "startup": (startup.measure, ("cold_start", "idle_rss")),
    "upload": (upload.measure, ("upload_speed", "upload_memory")),
    "short": (job_figures.short_job, ("short_job",)),
    "files": (transfer.measure, ("separate_audio", "repeat", "download")),
    "batches": (job_figures.batches, ("long_job_end", "status_long_job", "batch_free", "batch_premium_small",
                               "batch_premium_large", "rss_growth_batch", "status_rate")),
    "verify": (verify_cost.measure, tuple(f"verify_{fmt}" for fmt in verify_cost.FORMATS)),
}
FIGURE_KEYS = tuple(key for _, keys in GROUPS.values() for key in keys)


async def _run(bench: Bench, groups: list[str]) -> None:
    for name in groups:
        scenario, keys = GROUPS[name]
        started = time.perf_counter()
        try:
            await scenario(bench)
        except Exception as exc:  # one broken scenario must not hide the others' figures
            bench.say(f"{name} failed: {exc}")
            traceback.print_exc(file=sys.stderr)
            present = {f.key for f in bench.figures}
            for key in keys:
                if key not in present:
                    bench.figures.append(Figure(key, key.replace("_", " "), "", None, None, "", Target("measured"),
                                                note=f"not measured: {type(exc).__name__}: {exc}"))
        bench.say(f"{name} took {time.perf_counter() - started:.0f} s")


@dataclass
class Run:
    """One run of the command: its work folder and what it reports about itself."""

    keep: bool
    root: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="mvsep-bench-")))
    started_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    load_before: str = field(default_factory=load)
    started: float = field(default_factory=time.perf_counter)

    def tidy(self) -> None:
        if self.keep:
            sys.stderr.write(f"bench: work folder kept: {self.root}\n")
        else:
            shutil.rmtree(self.root, ignore_errors=True)

    def report(self, args: argparse.Namespace, mode: str, what: str, body: str, figures: list[Figure],
               document: dict[str, Any]) -> int:
        """Print the header, ``body`` (the tables) and how many targets hold; write the JSON when asked."""
        duration = time.perf_counter() - self.started
        info = {**machine(), "load": f"{self.load_before} → {load()}"}
        header = (f"mvsep-mcp bench ({mode}), {what}{duration:.0f} s, {self.started_at:%Y-%m-%d %H:%M} UTC — "
                  f"{info['cpu']}, {info['cores']} cores, {info['memory']}, {info['os']}, Python {info['python']}, "
                  f"load average {info['load']}")
        checked = [f for f in figures if f.passed is not None]
        held = sum(1 for f in checked if f.passed)
        sys.stdout.write(f"{header}\n\n{body}\n\n{held} of {len(checked)} targets hold.\n")
        if args.json:
            document = {"mode": mode, "started": self.started_at.isoformat(timespec="seconds"),
                        "duration_s": duration, "machine": info, **document,
                        "figures": [f.as_dict() for f in figures]}
            Path(args.json).write_text(json.dumps(document, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        return 0


def say(text: str) -> None:
    sys.stderr.write(f"bench: {text}\n")
    sys.stderr.flush()


def run_bench(args: argparse.Namespace) -> int:
    if getattr(args, "soak", False):
        return run_soak(args)
    params = Params.quick() if args.quick else Params.full()
    if args.long_job_s:
        params = dataclasses.replace(params, long_job_s=float(args.long_job_s))
    groups = [g.strip() for g in args.only.split(",")] if args.only else list(GROUPS)
    unknown = [g for g in groups if g not in GROUPS]
    if unknown:
        sys.stderr.write(f"mvsep-mcp bench: unknown group(s) {', '.join(unknown)}; choose from {', '.join(GROUPS)}\n")
        return 2
    run = Run(keep=args.keep)
    figures: list[Figure] = []
    try:
        with BenchService(run.root) as service:
            bench = Bench(service, run.root, params, figures)
            bench.say(f"{params.mode} run in {run.root}, sandbox at {service.base_url}")
            anyio.run(_run, bench, groups)
    finally:
        run.tidy()
    order = {key: i for i, key in enumerate(FIGURE_KEYS)}
    figures.sort(key=lambda f: order.get(f.key, len(order)))
    return run.report(args, params.mode, "", table(figures), figures, {"params": dataclasses.asdict(params)})


def run_soak(args: argparse.Namespace) -> int:
    """``--soak``: one server, hundreds of requests over a simulated week; a table per block and the targets."""
    params = SoakParams.quick() if args.quick else SoakParams.full()
    if args.requests:
        params = dataclasses.replace(params, requests=int(args.requests))
    run = Run(keep=args.keep)
    try:
        with BenchService(run.root, speed=params.speed) as service:
            say(f"{params.mode} run in {run.root}: {params.requests} requests over {params.days:g} service days, the "
                f"service's clock at {params.speed:g}× real time, sandbox at {service.base_url}")
            soak = Soak(service, run.root, params, say)
            anyio.run(soak.run)
    finally:
        run.tidy()
    assert soak.baseline is not None
    rows = blocks(soak.requests, params.block, soak.baseline)
    figures = soak_figures(rows, params.days)
    body = f"{block_table(rows)}\n\n{table(figures)}"
    return run.report(args, params.mode, f"{len(soak.requests)} requests in ", body, figures,
                      {"params": dataclasses.asdict(params), "blocks": [b.as_dict() for b in rows],
                       "requests": [dataclasses.asdict(r) for r in soak.requests]})
