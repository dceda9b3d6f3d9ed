"""`mvsep-mcp demo`: a real separation through the MCP server over stdio, against the built-in sandbox.

It starts the sandbox on a free loopback port, launches `mvsep-mcp serve` as a subprocess exactly as an MCP host
would (legacy handshake, minimal environment), asks it to separate a tagged song, waits with progress, and prints the
stems, their tags and the manifest path. Output goes to the terminal (this is not the server).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path
from typing import Any

import anyio
from mcp import types
from mcp.client.client import Client
from mcp.client.stdio import StdioServerParameters
from mvsep_mcp.media import read_tags

from mvsep_mcp_testbench.sandbox import SANDBOX_PREMIUM_TOKEN, JobTiming, SandboxServer, SandboxState
from mvsep_mcp_testbench.sandbox.samples import Song, make_audio

DEMO_SONG = Song(
    title="Midnight Drive",
    artist="The Loopback Band",
    album="Sandbox Sessions",
    date="2026",
    genre="Synthwave",
    track="1",
)
MAX_WAIT_CALLS = 40
# A few seconds per phase, so the demo shows the queue, the chunked processing of a long input, and the downloads.
DEMO_TIMING = JobTiming(
    queue_s=2.0,
    queue_positions=3,
    processing_s=2.0,
    long_input_s=15.0,
    distributing_s=3.0,
    merging_s=1.0,
    chunk_s=8.0,
    remote_download_s=0.5,
    quality_s=1.0,
)


def server_params(
    base_url: str, output_dir: Path, data_dir: Path, token: str, toolsets: str = "all", poll_interval: float = 0.2
) -> StdioServerParameters:
    """How a host launches us: this interpreter, `-m mvsep_mcp serve`, and only the variables we set."""
    env = {
        "MVSEP_API_TOKEN": token,
        "MVSEP_BASE_URL": base_url,
        "MVSEP_OUTPUT_DIR": str(output_dir),
        "MVSEP_DATA_DIR": str(data_dir),
        "MVSEP_TOOLSETS": toolsets,
        "MVSEP_POLL_INTERVAL": str(poll_interval),
        "MVSEP_STATUS_RATE": "600",  # the sandbox on loopback, not mvsep.com
        "MVSEP_CONFIG": str(data_dir / "no-config.toml"),
        "MVSEP_CREDENTIALS": str(data_dir / "no-credentials.json"),
        "PYTHONUNBUFFERED": "1",
    }
    return StdioServerParameters(
        command=sys.executable, args=["-m", "mvsep_mcp", "serve"], env=env, cwd=str(data_dir.parent)
    )


def say(text: str = "") -> None:
    sys.stdout.write(text + "\n")
    sys.stdout.flush()


async def _demo(args: argparse.Namespace, work: Path) -> int:
    output_dir = Path(args.output_dir).expanduser().resolve() if args.output_dir else work / "stems"
    song = (
        Path(args.input).expanduser().resolve()
        if args.input
        else make_audio(work / "input", "flac", name="Midnight Drive", seconds=20.0, song=DEMO_SONG)
    )
    with SandboxServer(SandboxState(timing=DEMO_TIMING)) as sandbox:
        say(f"Sandbox MVSep API at {sandbox.base_url}")
        say(f"Input: {song}")
        params = server_params(sandbox.base_url, output_dir, work / "data", SANDBOX_PREMIUM_TOKEN)
        async def approve(context: Any, params: types.ElicitRequestParams) -> types.ElicitResult:
            """The host's consent dialog, answered yes: the demo account's credits are the sandbox's."""
            say(f"\nThe server asks: {params.message}\n  → yes")
            return types.ElicitResult(action="accept", content={"spend": True})

        async with Client(params, mode="legacy", elicitation_callback=approve) as client:
            tools = await client.list_tools()
            say(f"MCP server up over stdio: {len(tools.tools)} tools")
            args_in = {"inputs": [str(song)], "model": args.model, "output_format": args.format}
            estimate = await client.call_tool("separate_audio", {**args_in, "dry_run": True})
            say("\n" + _text(estimate))
            submitted = await client.call_tool("separate_audio", args_in)
            if submitted.is_error:
                say(_text(submitted))
                return 1
            say("\n" + _text(submitted))
            job_ids = [job["id"] for job in (submitted.structured_content or {}).get("jobs", [])]

            async def progress(progress: float, total: float | None, message: str | None) -> None:
                say(f"  … {message or ''}")

            final: dict[str, Any] = {}
            for _ in range(MAX_WAIT_CALLS):
                waited = await client.call_tool(
                    "wait_for_jobs", {"job_ids": job_ids}, progress_callback=progress, read_timeout_seconds=90.0
                )
                final = waited.structured_content or {}
                if final.get("all_finished"):
                    break
            say("\n" + _text(waited))
    jobs = final.get("jobs", [])
    if not jobs or any(job.get("state") != "completed" for job in jobs):
        say("The demo did not complete.")
        return 1
    for job in jobs:
        say("\nStems:")
        for out in job.get("outputs", []):
            path = Path(out["path"])
            tags = read_tags(path)
            say(f"  {path}")
            say(
                f"    title={tags.title!r} artist={tags.artist!r} album={tags.album!r} "
                f"cover={'yes' if tags.cover else 'no'} size={path.stat().st_size} bytes"
            )
        manifest = job.get("manifest_path")
        say(f"\nManifest: {manifest}")
        if manifest:
            data = json.loads(Path(manifest).read_text(encoding="utf-8"))
            say(f"  {len(data.get('outputs', []))} outputs listed, model {data.get('job', {}).get('model')!r}")
    return 0


def _text(result: Any) -> str:
    return "\n".join(getattr(block, "text", "") for block in result.content)


def run_demo(args: argparse.Namespace) -> int:
    with tempfile.TemporaryDirectory(prefix="mvsep-demo-") as tmp:
        work = Path(tmp)
        if not args.output_dir:
            # keep the stems after the temporary folder is gone
            args.output_dir = str(Path(tempfile.mkdtemp(prefix="mvsep-demo-stems-")))
        return anyio.run(_demo, args, work)
