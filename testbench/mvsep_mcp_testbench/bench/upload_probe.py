"""One upload in a process of its own, so that its memory is its own:
``python -m mvsep_mcp_testbench.bench.upload_probe``.

    MVSEP_BENCH_TOKEN=… python -m mvsep_mcp_testbench.bench.upload_probe client|raw BASE_URL FILE SEP_TYPE

``client`` creates a job through ``MVSepClient.create_separation``; ``raw`` sends the same form with a bare
``httpx.AsyncClient`` (its own multipart streaming of an open file). Both first make one small request (so the
connection and imports are warm), then upload; the answer is one JSON line on stdout: seconds, bytes, the resident
memory just before the upload and the most it reached during it (sampled every 5 ms by a thread).
"""

from __future__ import annotations

import json
import os
import resource
import sys
import threading
import time
from pathlib import Path

import anyio
import httpx

from mvsep_mcp_testbench.bench.proc import rss_mb


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


async def _client(base_url: str, token: str, path: Path, sep_type: int) -> str:
    from mvsep_mcp.mvsep import MVSepClient
    from mvsep_mcp.mvsep.separation_request import SeparationRequest

    async with MVSepClient(token, base_url=base_url) as client:
        await client.user()
        request = SeparationRequest(sep_type=sep_type, audiofile=path, output_format=1)
        _mark()
        created = await client.create_separation(request)
        return str(created.hash)


async def _raw(base_url: str, token: str, path: Path, sep_type: int) -> str:
    async with httpx.AsyncClient(timeout=httpx.Timeout(60.0, write=600.0)) as http:
        (await http.get(f"{base_url}/app/user", params={"api_token": token})).raise_for_status()
        fields = {"api_token": token, "sep_type": str(sep_type), "output_format": "1"}
        with path.open("rb") as fh:
            _mark()
            response = await http.post(f"{base_url}/separation/create", data=fields,
                                       files={"audiofile": (path.name, fh, "audio/wav")})
        response.raise_for_status()
        return str(response.json()["data"]["hash"])


SAMPLE_S = 0.005
_MARKS: dict[str, float] = {}
_STOP = threading.Event()


def _sample() -> None:
    pid = os.getpid()
    while not _STOP.wait(SAMPLE_S):
        _MARKS["rss_max"] = max(_MARKS["rss_max"], rss_mb(pid) or 0.0)


def _mark() -> None:
    _MARKS["rss_before"] = _MARKS["rss_max"] = rss_mb(os.getpid()) or 0.0
    _MARKS["peak_before"] = _peak_mb()
    threading.Thread(target=_sample, daemon=True).start()
    _MARKS["started"] = time.perf_counter()


def main(argv: list[str]) -> int:
    mode, base_url, file_name, sep_type = argv
    token = os.environ["MVSEP_BENCH_TOKEN"]
    path = Path(file_name)
    run = _client if mode == "client" else _raw
    job_hash = anyio.run(run, base_url, token, path, int(sep_type))
    seconds = time.perf_counter() - _MARKS["started"]
    _STOP.set()
    json.dump({"mode": mode, "seconds": seconds, "bytes": path.stat().st_size, "hash": job_hash,
               "rss_before_mb": _MARKS["rss_before"], "rss_max_mb": _MARKS["rss_max"],
               "peak_before_mb": _MARKS["peak_before"], "peak_after_mb": _peak_mb()}, sys.stdout)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
