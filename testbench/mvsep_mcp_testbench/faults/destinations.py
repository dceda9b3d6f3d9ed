"""Destinations that cannot take the files: not one credit may be spent on them.

Each case asks for a separation into a folder or with a naming template that cannot hold the stems. The answer must
be a sentence (not a crash) and the sandbox must see no create. Where this user can in fact write (a read-only
folder is writable for root), the job must then complete with its files in place: credits are spent only on
destinations that take the files.
"""

from __future__ import annotations

import stat
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mvsep_mcp_testbench.faults import checks
from mvsep_mcp_testbench.faults.harness import (
    MODEL,
    InProcessServer,
    in_process_server,
    make_songs,
    settings_for,
    stem_bytes,
)
from mvsep_mcp_testbench.sandbox import SANDBOX_PREMIUM_TOKEN, JobTiming, SandboxServer, SandboxState


@dataclass(frozen=True)
class Destination:
    name: str
    arguments: Callable[[Path], dict[str, Any]]  # work folder -> output_dir / name_template arguments


def _file_as_folder(work: Path) -> dict[str, Any]:
    blocker = work / "a-file.txt"
    blocker.write_text("not a folder")
    return {"output_dir": str(blocker)}


def _file_in_the_path(work: Path) -> dict[str, Any]:
    blocker = work / "another-file.txt"
    blocker.write_text("not a folder")
    return {"output_dir": str(blocker / "stems")}


def _read_only(work: Path) -> dict[str, Any]:
    folder = work / "read-only"
    folder.mkdir(exist_ok=True)
    folder.chmod(stat.S_IRUSR | stat.S_IXUSR)
    return {"output_dir": str(folder)}


DESTINATIONS = (
    Destination("output folder is a file", _file_as_folder),
    Destination("a file in the output folder's path", _file_in_the_path),
    Destination("NUL in the output folder", lambda w: {"output_dir": str(w / "stems\x00evil")}),
    Destination("output folder under /proc", lambda w: {"output_dir": "/proc/mvsep-stems"}),
    Destination("output folder is /", lambda w: {"output_dir": "/"}),
    Destination("output folder is /etc", lambda w: {"output_dir": "/etc"}),
    Destination("400-character template", lambda w: {"name_template": "{title} " + "x" * 400 + " ({stem}).{ext}"}),
    Destination("template leaving the folder", lambda w: {"name_template": "../../{title} ({stem}).{ext}"}),
    Destination("read-only output folder", _read_only),
)


async def run_destinations(work: Path | None = None) -> list[checks.Row]:
    """One row per destination, all against one sandbox and one server."""
    if work is None:
        with tempfile.TemporaryDirectory(prefix="mvsep-dest-") as folder:
            try:
                return await run_destinations(Path(folder))
            finally:
                _writable_again(Path(folder))
    token = SANDBOX_PREMIUM_TOKEN
    state = SandboxState(timing=JobTiming.fast())
    rows = []
    try:
        async with SandboxServer(state) as sandbox:
            settings = settings_for(work, sandbox.base_url, token)
            [song] = make_songs(work / "in", 1, prefix="Destination song")
            async with in_process_server(settings) as server:
                for case in DESTINATIONS:
                    rows.append(await _one(server, sandbox, case, song, work))
    finally:
        state.close()
    return rows


async def _one(server: InProcessServer, sandbox: SandboxServer, case: Destination, song: Path,
               work: Path) -> checks.Row:
    started = time.monotonic()
    row = checks.Row("destination", case.name, jobs=1)
    before, bytes_before = sandbox.state.traffic.creates(), stem_bytes(sandbox)
    first = len(server.results)
    arguments = case.arguments(work)
    result = await server.call("separate_audio", {"inputs": [str(song)], "model": MODEL, "output_format": "flac",
                                                  **arguments})
    if result.is_error:
        row.outcome = "refused: " + _sentence(checks.result_text(result).replace(str(work), "…"))
    else:
        ids = [job["id"] for job in result.structured_content["jobs"]]
        done = await server.wait_all(ids)
        states = [job["state"] for job in done["jobs"]]
        row.outcome = "accepted: " + ", ".join(states)
        if states != ["completed"]:  # credits were spent on a destination that did not take the files
            row.add("bad_dest", [f"job ended {states} after a create: {done['jobs'][0].get('error')}"])
        root = Path(arguments.get("output_dir") or server.settings.output_dir)
        outputs = [o["path"] for job in done["jobs"] for o in job["outputs"]]
        row.add("non_audio", checks.not_audio(outputs))
        outside = [p for p in outputs if not Path(p).is_relative_to(root)]
        row.add("leftovers", [f"stem outside the output folder: {p}" for p in outside])
    row.creates = sandbox.state.traffic.creates() - before
    row.bytes = stem_bytes(sandbox) - bytes_before
    if result.is_error and row.creates:
        row.add("bad_dest", [f"{row.creates} create(s) for a refused destination"])
    texts = {f"result of {case.name}": checks.result_text(result)}
    row.add("leaks", checks.token_leaks(SANDBOX_PREMIUM_TOKEN, texts))
    row.add("crashes", checks.crashes(server.results[first:]))
    row.seconds = time.monotonic() - started
    return row


def _sentence(text: str) -> str:
    """The product's sentence without the SDK's "Error executing tool X: " prefix, shortened for the table."""
    text = text.strip().split("\n", 1)[0]
    if text.startswith("Error executing tool ") and ": " in text:
        text = text.split(": ", 1)[1]
    return text if len(text) <= 90 else text[:87] + "…"


def _writable_again(work: Path) -> None:
    folder = work / "read-only"
    if folder.exists():
        folder.chmod(stat.S_IRWXU)

