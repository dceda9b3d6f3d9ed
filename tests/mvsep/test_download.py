"""Downloads: streamed to disk, resumed with Range after a broken connection, no token, redirects followed."""

from __future__ import annotations

import errno
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest
from mvsep_mcp.mvsep import errors
from mvsep_mcp.mvsep._download import ShortWrite, download

from tests.mvsep.conftest import TOKEN

CONTENT = bytes(range(256)) * 4096  # 1 MiB
URL = "http://127.0.0.1:9/storage/processed/a_vocals.flac"


class BrokenStream(httpx.AsyncByteStream):
    """Yields ``data`` then fails like a dropped connection."""

    def __init__(self, data: bytes) -> None:
        self.data = data

    async def __aiter__(self):  # type: ignore[override]
        yield self.data
        raise httpx.ReadError("connection reset")


class FileServer:
    """A static-file server honouring Range; the first ``breaks`` answers stop after ``cut`` bytes."""

    def __init__(self, *, ranges: bool = True, breaks: int = 1, cut: int = 300_000) -> None:
        self.ranges, self.breaks, self.cut = ranges, breaks, cut
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if request.url.path.startswith("/old/"):
            return httpx.Response(302, headers={"Location": URL})
        start = 0
        match = re.fullmatch(r"bytes=(\d+)-", request.headers.get("Range", ""))
        if match and self.ranges:
            start = int(match.group(1))
            if start >= len(CONTENT):
                return httpx.Response(416, headers={"Content-Range": f"bytes */{len(CONTENT)}"})
        body = CONTENT[start:]
        status = 206 if match and self.ranges else 200
        headers = {"Content-Length": str(len(body))}
        if status == 206:
            headers["Content-Range"] = f"bytes {start}-{len(CONTENT) - 1}/{len(CONTENT)}"
        if self.breaks > 0:
            self.breaks -= 1
            return httpx.Response(status, headers=headers, stream=BrokenStream(body[: self.cut]))
        return httpx.Response(status, headers=headers, content=body)


async def test_download_resumes_with_range(make_client: Any, tmp_path: Path, sleeps: list[float]) -> None:
    server = FileServer()
    dest = tmp_path / "out" / "vocals.flac.part"
    seen: list[tuple[int, int | None]] = []
    async with make_client(server) as client:
        total = await client.download(URL, dest, progress=lambda done, size: seen.append((done, size)))
        assert client.stats.downloads == 1 and client.stats.retries == 1
        assert client.stats.bytes_downloaded == len(CONTENT)
    assert total == len(CONTENT) and dest.read_bytes() == CONTENT
    assert "Range" not in server.requests[0].headers
    assert server.requests[1].headers["Range"] == "bytes=300000-"
    assert len(sleeps) == 1
    assert seen[-1] == (len(CONTENT), len(CONTENT))
    assert [done for done, _ in seen] == sorted(done for done, _ in seen)
    for request in server.requests:
        assert "api_token" not in str(request.url) and TOKEN not in str(request.headers)


async def test_existing_partial_file_is_resumed(make_client: Any, tmp_path: Path) -> None:
    dest = tmp_path / "x.part"
    dest.write_bytes(CONTENT[:1000])
    server = FileServer(breaks=0)
    async with make_client(server) as client:
        assert await client.download(URL, dest) == len(CONTENT)
    assert server.requests[0].headers["Range"] == "bytes=1000-" and dest.read_bytes() == CONTENT


async def test_server_without_ranges_restarts_from_zero(make_client: Any, tmp_path: Path) -> None:
    dest = tmp_path / "x.part"
    dest.write_bytes(b"garbage that is not a prefix")
    server = FileServer(ranges=False, breaks=1)
    async with make_client(server) as client:
        assert await client.download(URL, dest) == len(CONTENT)
    assert dest.read_bytes() == CONTENT and len(server.requests) == 2


async def test_complete_file_answered_416(make_client: Any, tmp_path: Path) -> None:
    dest = tmp_path / "x.part"
    dest.write_bytes(CONTENT)
    async with make_client(FileServer(breaks=0)) as client:
        assert await client.download(URL, dest) == len(CONTENT)
    assert dest.read_bytes() == CONTENT


async def test_redirects_followed(make_client: Any, tmp_path: Path) -> None:
    server = FileServer(breaks=0)
    async with make_client(server) as client:
        assert await client.download("http://127.0.0.1:9/old/a.flac", tmp_path / "a.part") == len(CONTENT)
    assert [r.url.path for r in server.requests] == ["/old/a.flac", "/storage/processed/a_vocals.flac"]


async def test_missing_file_is_an_api_error(make_client: Any, tmp_path: Path, sleeps: list[float]) -> None:
    async with make_client(lambda r: httpx.Response(404, text="<title>404 Not Found</title>")) as client:
        with pytest.raises(errors.BadRequestError) as info:
            await client.download(URL, tmp_path / "a.part")
    assert info.value.status_code == 404 and info.value.path == "/storage/processed/a_vocals.flac"
    assert sleeps == []


async def test_download_gives_up_after_retries(make_client: Any, tmp_path: Path, sleeps: list[float]) -> None:
    async with make_client(FileServer(breaks=100, cut=10), max_retries=2) as client:
        with pytest.raises(errors.TransportError):
            await client.download(URL, tmp_path / "a.part")
    assert len(sleeps) == 2


class StingyFile:
    """A real file whose writes take at most ``take`` bytes each, and nothing once ``room`` bytes are written: how an
    unbuffered write behaves on a disk that fills up (it returns short instead of raising)."""

    def __init__(self, path: Path, mode: str, *, take: int, room: int | None = None) -> None:
        self.file = open(path, mode, buffering=0)  # noqa: SIM115 - closed by __exit__
        self.take, self.room = take, room
        self.calls = 0

    def write(self, data: Any) -> int:
        self.calls += 1
        size = self.file.tell()
        allowed = self.take if self.room is None else max(0, min(self.take, self.room - size))
        return self.file.write(bytes(data[:allowed])) or 0

    def __enter__(self) -> StingyFile:
        return self

    def __exit__(self, *exc: object) -> None:
        self.file.close()


def stingy(**kw: Any) -> Any:
    return lambda path, mode: StingyFile(path, mode, **kw)


async def test_every_byte_is_written_when_the_disk_takes_pieces_at_a_time(make_client: Any, tmp_path: Path) -> None:
    dest = tmp_path / "x.part"
    async with make_client(FileServer(breaks=0)) as client:
        assert await client_download(client, dest, stingy(take=70_000)) == len(CONTENT)
    assert dest.read_bytes() == CONTENT


async def test_a_disk_that_takes_nothing_more_is_an_error_at_once(make_client: Any, tmp_path: Path,
                                                                   sleeps: list[float]) -> None:
    dest = tmp_path / "x.part"
    server = FileServer(breaks=0)
    async with make_client(server) as client:
        with pytest.raises(ShortWrite) as info:
            await client_download(client, dest, stingy(take=1 << 20, room=151_552))
    assert info.value.errno == errno.ENOSPC
    assert dest.stat().st_size == 151_552 and len(server.requests) == 1 and sleeps == []  # never retried


async def test_the_disks_own_error_is_raised_as_it_is(make_client: Any, tmp_path: Path, sleeps: list[float]) -> None:
    class Full(StingyFile):
        def write(self, data: Any) -> int:
            raise OSError(errno.ENOSPC, "No space left on device")

    server = FileServer(breaks=0)
    async with make_client(server) as client:
        with pytest.raises(OSError) as info:
            await client_download(client, tmp_path / "x.part", lambda path, mode: Full(path, mode, take=0))
    assert info.value.errno == errno.ENOSPC and len(server.requests) == 1 and sleeps == []


async def client_download(client: Any, dest: Path, open_file: Any) -> int:
    return await download(client._engine, URL, dest, client.download_hosts, open_file=open_file)


async def test_bytes_on_disk_must_equal_bytes_received(make_client: Any, tmp_path: Path) -> None:
    class Lying(StingyFile):
        def write(self, data: Any) -> int:
            super().write(data[: len(data) // 2])
            return len(data)  # says it took everything

    dest = tmp_path / "x.part"
    async with make_client(FileServer(breaks=0)) as client:
        with pytest.raises(ShortWrite) as info:
            await client_download(client, dest, lambda path, mode: Lying(path, mode, take=1 << 20))
    assert info.value.errno == errno.EIO and not dest.exists()  # not a prefix to resume from


FSIZE_CHILD = """
import asyncio, resource, sys
from pathlib import Path
import httpx
from mvsep_mcp.mvsep import MVSepClient

limit, dest = int(sys.argv[1]), Path(sys.argv[2])
resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
body = bytes(range(256)) * 4096
requests = []

def serve(request):
    requests.append(request)
    return httpx.Response(200, headers={"Content-Length": str(len(body))}, content=body)

async def main():
    async with MVSepClient(None, base_url="http://127.0.0.1:9/api", transport=httpx.MockTransport(serve)) as client:
        try:
            await client.download("http://127.0.0.1:9/storage/processed/a.flac", dest)
        except OSError as exc:
            print(type(exc).__name__, exc.errno, len(requests))
            return
    print("completed", len(requests))

asyncio.run(main())
"""


def test_a_file_size_limit_stops_the_download_with_the_disks_error(tmp_path: Path) -> None:
    """RLIMIT_FSIZE (a child process): the write past the limit returns short, the next one fails with EFBIG."""
    dest = tmp_path / "x.part"
    done = subprocess.run([sys.executable, "-c", FSIZE_CHILD, "300000", str(dest)], capture_output=True, text=True,
                          timeout=60, check=True)
    name, code, requests = done.stdout.split()
    assert (name, int(code), int(requests)) == ("OSError", errno.EFBIG, 1), done.stdout + done.stderr
    assert dest.stat().st_size == 300000
