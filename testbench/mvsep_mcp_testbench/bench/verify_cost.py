"""What checking a stem whole costs: ``complete_audio`` (FLAC decoded to its end, the MP3 frames walked, the WAV
chunks read) against hashing the same file, which every saved stem gets anyway (its SHA-256 in the manifest).

Each format's stem is a four-minute stereo song (30 s in a quick run) written with the sandbox's sample writer; the
figure is the median of a few runs, the reference the median SHA-256 of the same file. The target is in seconds: a
check must stay well under the time the stem takes to download (a 31 MB FLAC stem: 2.5 s at 100 Mbit/s). Decoding
FLAC costs several times a hash (libsndfile, about 60-200 MB of FLAC a second here); the MP3 walk and the WAV chunk
read cost next to nothing.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import anyio.to_thread
from mvsep_mcp.media.complete import complete_audio
from mvsep_mcp.media.files import sha256_file

from mvsep_mcp_testbench.bench.context import Bench, median
from mvsep_mcp_testbench.bench.figures import Figure, Target
from mvsep_mcp_testbench.sandbox.samples import signal, write_audio

FORMATS = ("flac", "mp3", "wav")
FOUR_MINUTES_S = 240.0
RUNS = 3
LIMITS_S = {"flac": 1.0, "mp3": 0.1, "wav": 0.1}  # for a four-minute stem


def _seconds(work: Callable[[], object]) -> float:
    timings = []
    for _ in range(RUNS):
        started = time.perf_counter()
        work()
        timings.append(time.perf_counter() - started)
    return median(timings)


def _measure(path: Path, fmt: str) -> tuple[float, float]:
    return _seconds(lambda: complete_audio(path, fmt)), _seconds(lambda: sha256_file(path))


async def measure(bench: Bench) -> None:
    seconds = bench.params.verify_seconds
    folder = bench.folder("verify")
    for fmt in FORMATS:
        path = folder / f"stem.{fmt}"
        await anyio.to_thread.run_sync(write_audio, path, signal(seconds), 44100)
        checked, hashed = await anyio.to_thread.run_sync(_measure, path, fmt)
        size_mb = path.stat().st_size / 1e6
        bench.add(Figure(
            f"verify_{fmt}", f"a {fmt.upper()} stem checked whole", "s", checked, hashed, "SHA-256 of the same file",
            Target.at_most(LIMITS_S[fmt] * seconds / FOUR_MINUTES_S, "s"),
            note=f"{seconds:.0f} s stereo, {size_mb:.1f} MB; median of {RUNS}",
        ))
