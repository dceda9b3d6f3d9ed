"""Uploads stream from disk: no read larger than a chunk, memory far below the file size, exact Content-Length."""

from __future__ import annotations

import hashlib
import tracemalloc
from pathlib import Path
from typing import Any

import httpx
from mvsep_mcp.mvsep import SeparationRequest
from mvsep_mcp.mvsep._forms import StreamingMultipart
from mvsep_mcp.policy import UPLOAD_CHUNK_BYTES

FILE_BYTES = 24 * 1024 * 1024 + 12345  # tens of MB, not a multiple of the chunk size


class ChunkCountingTransport(httpx.AsyncBaseTransport):
    """Consumes the request body chunk by chunk (never joining it), hashing the file part as it goes."""

    def __init__(self) -> None:
        self.largest_chunk = 0
        self.total = 0
        self.headers: httpx.Headers | None = None
        self.attempt_totals: list[int] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.headers = request.headers
        total = 0
        assert isinstance(request.stream, httpx.AsyncByteStream)
        async for chunk in request.stream:
            self.largest_chunk = max(self.largest_chunk, len(chunk))
            total += len(chunk)
        self.total = total
        self.attempt_totals.append(total)
        if len(self.attempt_totals) == 1:
            raise httpx.WriteError("connection dropped mid-upload", request=request)  # safe to retry: incomplete
        return httpx.Response(200, json={"success": True, "data": {"hash": "h", "link": "l"}})


def _big_file(tmp_path: Path) -> Path:
    path = tmp_path / "big input.wav"
    block = hashlib.sha256(b"seed").digest() * 32768  # 1 MiB of non-trivial bytes
    with path.open("wb") as handle:
        for _ in range(FILE_BYTES // len(block)):
            handle.write(block)
        handle.write(block[: FILE_BYTES % len(block)])
    return path


async def test_upload_streams_in_bounded_chunks(make_client: Any, tmp_path: Path) -> None:
    path = _big_file(tmp_path)
    transport = ChunkCountingTransport()
    async with make_client(transport) as client:
        tracemalloc.start()
        try:
            created = await client.create_separation(SeparationRequest(sep_type=20, audiofile=path))
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
        assert client.stats.retries == 1 and client.stats.creates_sent == 1
    assert created.hash == "h"
    assert transport.largest_chunk <= UPLOAD_CHUNK_BYTES
    assert peak < 6 * UPLOAD_CHUNK_BYTES < FILE_BYTES / 4  # never anywhere near the whole file in memory
    assert transport.headers is not None and "transfer-encoding" not in transport.headers
    # both attempts streamed the whole file again from a fresh handle, and Content-Length was exact
    assert transport.attempt_totals[0] == transport.attempt_totals[1] == int(transport.headers["content-length"])
    assert transport.total > FILE_BYTES


async def test_multipart_body_is_well_formed(tmp_path: Path) -> None:
    a = tmp_path / 'we"ird\nname.flac'
    a.write_bytes(b"A" * 10)
    body = StreamingMultipart({"sep_type": "1", "text": "héllo"}, [("audiofile", a)], chunk_size=3, boundary="BOUND")
    raw = b"".join([chunk async for chunk in body])
    assert len(raw) == body.content_length
    assert raw.startswith(b'--BOUND\r\nContent-Disposition: form-data; name="sep_type"\r\n\r\n1\r\n')
    assert 'name="text"\r\n\r\nhéllo\r\n'.encode() in raw
    assert b'filename="we%22ird%0Aname.flac"\r\nContent-Type: audio/flac\r\n\r\nAAAAAAAAAA\r\n' in raw
    assert raw.endswith(b"--BOUND--\r\n")
    assert b"".join([chunk async for chunk in body]) == raw  # iterable again (a retry)


async def test_before_last_runs_before_the_closing_boundary(tmp_path: Path) -> None:
    """Until the callback has run, the receiver cannot have the whole body (so it cannot have acted on it)."""
    a = tmp_path / "song.flac"
    a.write_bytes(b"A" * 10)
    seen: list[bytes] = []
    body = StreamingMultipart({"sep_type": "1"}, [("audiofile", a)], boundary="BOUND",
                              before_last=lambda: seen.append(b"<sent>"))
    async for chunk in body:
        seen.append(chunk)
    assert seen[-2:] == [b"<sent>", b"--BOUND--\r\n"]
