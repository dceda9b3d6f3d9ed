"""Streaming a result file to disk, resuming with ``Range`` after a broken connection.

The token is never sent (result files are public static URLs). Only hosts that ``DownloadHosts`` allows are asked,
and redirects are followed by hand so that every hop is checked too. When ``dest`` already holds N bytes the request
asks for ``bytes=N-``: a 206 whose ``Content-Range`` starts at N is appended, a 200 restarts the file from 0, a 416
means the file was already complete (when the sizes agree) or restarts it.

Every byte is counted as it goes to disk: an unbuffered write on a full disk may take only part of a piece and say so
in its return value, so the rest is written again until the disk refuses with an ``OSError`` (``ENOSPC``, ``EDQUOT``,
``EFBIG``…, raised as it is: a disk problem is never retried here). A write that takes nothing raises
:class:`ShortWrite`, and so does a file whose size on disk differs from the bytes received once the body is written.
``open_file`` (tests inject a writer that takes less than it is given) opens the file.
"""

from __future__ import annotations

import errno
import inspect
import logging
import os
import re
from collections.abc import Callable
from pathlib import Path
from types import TracebackType
from typing import Any, Protocol

import anyio
import httpx

from mvsep_mcp.mvsep import errors
from mvsep_mcp.mvsep._engine import Engine, transport_error
from mvsep_mcp.mvsep._envelope import build_error, decode_body
from mvsep_mcp.mvsep.hosts import DownloadHosts
from mvsep_mcp.mvsep.retry import Idempotency, exception_is_retryable, status_is_retryable
from mvsep_mcp.policy import DOWNLOAD_CHUNK_BYTES, DOWNLOAD_MAX_REDIRECTS

logger = logging.getLogger("mvsep_mcp.mvsep")

Progress = Callable[[int, "int | None"], Any]  # (bytes on disk, expected total or None); may be async


class Sink(Protocol):
    """What a download writes to: an unbuffered file (``write`` answers how many bytes the disk took)."""

    def write(self, data: memoryview, /) -> int | None: ...

    def __enter__(self) -> Sink: ...

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None,
                 /) -> object: ...


OpenFile = Callable[[Path, str], Sink]  # (path, "wb" or "ab") -> an unbuffered binary file

_CONTENT_RANGE = re.compile(r"bytes\s+(\d+)-(\d+)/(\d+|\*)", re.IGNORECASE)
_UNSATISFIED_RANGE = re.compile(r"bytes\s+\*/(\d+)", re.IGNORECASE)


class _Truncated(Exception):
    """The body ended before the announced length: resume like a network failure."""


class ShortWrite(OSError):
    """The disk took fewer bytes than it was given: ``ENOSPC`` when a write took nothing (a full disk or quota),
    ``EIO`` when the file's size on disk is not the number of bytes received (the partial file is removed)."""


def open_unbuffered(path: Path, mode: str) -> Sink:
    """The file a download writes to: unbuffered, so every write's count is the disk's answer."""
    return open(path, mode, buffering=0)  # noqa: SIM115 - the caller closes it


def write_all(handle: Sink, data: bytes) -> None:
    """Write every byte of ``data``, again and again while the file takes part of it; ``ShortWrite`` (``ENOSPC``)
    when a write takes nothing (the disk's own error, when it raises one, propagates as it is)."""
    view = memoryview(data)
    while view:
        written = handle.write(view)
        if not written:
            raise ShortWrite(errno.ENOSPC, f"the disk took no more bytes ({len(view)} of {len(data)} unwritten)")
        view = view[written:]


def _url_for_errors(url: str) -> str:
    return httpx.URL(url).path or "/"


async def _report(progress: Progress | None, done: int, total: int | None) -> None:
    if progress is None:
        return
    result = progress(done, total)
    if inspect.isawaitable(result):
        await result


async def download(
    engine: Engine, url: str, dest: Path, hosts: DownloadHosts, progress: Progress | None = None,
    open_file: OpenFile = open_unbuffered,
) -> int:
    """Stream ``url`` into ``dest`` (appending to a partial file when the server supports ranges); total bytes.

    Raises ``UntrustedHostError`` (before anything is sent) for a URL or redirect outside ``hosts``, and the disk's
    ``OSError`` (or :class:`ShortWrite`) at once when the file cannot take the bytes.
    """
    dest = Path(dest)
    _check_host(url, hosts)
    dest.parent.mkdir(parents=True, exist_ok=True)
    path = _url_for_errors(url)
    retry_no = 0
    while True:
        have = dest.stat().st_size if dest.exists() else 0
        # identity encoding keeps byte ranges meaningful; the token is never part of a download
        headers = {"Accept": "*/*", "Accept-Encoding": "identity"}
        if have:
            headers["Range"] = f"bytes={have}-"
        engine.stats.requests["download"] += 1
        failure: Exception | None = None
        try:
            done = await _attempt(engine, url, dest, have, headers, hosts, progress, open_file)
        except (httpx.TransportError, _Truncated) as exc:
            failure = exc
        except errors.APIError as exc:
            if status_is_retryable(exc.status_code, Idempotency.SAFE) and retry_no < engine.policy.max_retries:
                retry_after = exc.retry_after if isinstance(exc, errors.RateLimitError) else None
                if engine.policy.retry_after_acceptable(retry_after):
                    await _wait(engine, retry_no, retry_after, f"HTTP {exc.status_code}")
                    retry_no += 1
                    continue
            raise
        if failure is not None:  # handled outside the except block: no httpx exception chained on ours
            retryable = isinstance(failure, _Truncated) or exception_is_retryable(failure, Idempotency.SAFE)
            if retryable and retry_no < engine.policy.max_retries:
                await _wait(engine, retry_no, None, type(failure).__name__)
                retry_no += 1
                continue
            if isinstance(failure, _Truncated):
                raise errors.TransportError(f"the download stopped early: {failure}", method="GET", path=path)
            raise transport_error(failure, method="GET", path=path, redactor=engine.redactor)
        engine.stats.downloads += 1
        return done


async def _wait(engine: Engine, retry_no: int, retry_after: float | None, why: str) -> None:
    delay = engine.policy.delay(retry_no, retry_after)
    engine.stats.retries += 1
    logger.info("download: retrying after %s in %.1f s", why, delay)
    await engine.sleep(delay)


def _check_host(url: str, hosts: DownloadHosts) -> None:
    if not hosts.allows(url):
        raise errors.UntrustedHostError(httpx.URL(url).host or url[:80], path=_url_for_errors(url))


async def _send(engine: Engine, url: str, headers: dict[str, str], hosts: DownloadHosts) -> httpx.Response:
    """GET ``url``, following redirects by hand so that every hop's host is checked before it is asked."""
    for _ in range(DOWNLOAD_MAX_REDIRECTS + 1):
        engine.check_open()
        request = engine.client.build_request("GET", url, headers=headers)
        response = await engine.client.send(request, stream=True, follow_redirects=False)
        if not response.is_redirect:
            return response
        location = response.headers.get("Location", "")
        await response.aclose()
        url = str(httpx.URL(url).join(location))
        _check_host(url, hosts)
    raise errors.TransportError(f"more than {DOWNLOAD_MAX_REDIRECTS} redirects", method="GET",
                                path=_url_for_errors(url))


async def _attempt(
    engine: Engine,
    url: str,
    dest: Path,
    have: int,
    headers: dict[str, str],
    hosts: DownloadHosts,
    progress: Progress | None,
    open_file: OpenFile,
) -> int:
    response = await _send(engine, url, headers, hosts)
    try:
        status = response.status_code
        if status == 416 and have:
            match = _UNSATISFIED_RANGE.search(response.headers.get("Content-Range", ""))
            if match and int(match.group(1)) == have:
                await _report(progress, have, have)
                return have
            await anyio.Path(dest).unlink(missing_ok=True)  # our partial file is not a prefix of theirs: start over
            raise _Truncated("the partial file did not match the server's; restarting")
        if status >= 400 or status not in (200, 206):
            await response.aread()
            raise build_error(response, decode_body(response), method="GET", path=_url_for_errors(url),
                              redactor=engine.redactor)
        start, total = 0, None
        if status == 206:
            match = _CONTENT_RANGE.search(response.headers.get("Content-Range", ""))
            if match and int(match.group(1)) == have:
                start = have
                total = int(match.group(3)) if match.group(3) != "*" else None
            else:
                await anyio.Path(dest).unlink(missing_ok=True)
                raise _Truncated("the server answered a different range; restarting")
        else:
            length = response.headers.get("Content-Length")
            total = int(length) if length and length.isdigit() and "Content-Encoding" not in response.headers else None
        done = await _stream_to(response, dest, start, total, engine, progress, open_file)
        if total is not None and done < total:
            raise _Truncated(f"{done} of {total} bytes")
        return done
    finally:
        await response.aclose()


async def _stream_to(response: httpx.Response, dest: Path, start: int, total: int | None, engine: Engine,
                     progress: Progress | None, open_file: OpenFile = open_unbuffered) -> int:
    """Write the body as it arrives, piece by piece, straight to the file: no copies, no thread hop per piece.

    Local writes of network-sized pieces take microseconds, far less than the network takes to bring them, so they
    are made on the event loop. What arrived before a break stays on disk: the next attempt resumes after it. Once
    the body is written, the file on disk must hold exactly the bytes received (see the module docstring).
    """
    done, reported = start, start
    with open_file(dest, "ab" if start else "wb") as handle:
        await _report(progress, done, total)
        async for piece in response.aiter_bytes():
            write_all(handle, piece)
            done += len(piece)
            engine.stats.bytes_downloaded += len(piece)
            if done - reported >= DOWNLOAD_CHUNK_BYTES:
                reported = done
                await _report(progress, done, total)
    on_disk = os.stat(dest).st_size
    if on_disk != done:
        os.unlink(dest)  # not a prefix to resume from
        raise ShortWrite(errno.EIO, f"{on_disk} bytes on disk where {done} were received")
    if done != reported:
        await _report(progress, done, total)
    return done


__all__ = ["OpenFile", "Progress", "ShortWrite", "Sink", "download", "open_unbuffered", "write_all"]
