"""A ``multipart/form-data`` request body streamed from disk.

httpx's own multipart encoder does stream files (64 KiB ``read()`` calls), but it reads them synchronously inside the
event loop and reuses one open file object between attempts. This body instead opens each file afresh every time it
is iterated (so a retried upload starts from byte 0 of a fresh stream), reads ``UPLOAD_CHUNK_BYTES`` at a time in a
worker thread (``anyio.open_file``), and announces an exact ``Content-Length`` computed from ``stat`` so no chunked
encoding is needed. At most one chunk of a file is held in memory, whatever its size.
"""

from __future__ import annotations

import mimetypes
import os
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from pathlib import Path

import anyio
import httpx

from mvsep_mcp.policy import UPLOAD_CHUNK_BYTES


def _quote(value: str) -> str:
    """Form-data parameter quoting as browsers do it (HTML5): escape ``"``, CR and LF."""
    return value.replace("\\", "\\\\").replace('"', "%22").replace("\r", "%0D").replace("\n", "%0A")


class StreamingMultipart(httpx.AsyncByteStream):
    """``fields`` (text) then ``files`` (``(form name, path)``), streamed; iterate once per attempt."""

    def __init__(
        self,
        fields: Mapping[str, str],
        files: Sequence[tuple[str, Path]] = (),
        *,
        chunk_size: int = UPLOAD_CHUNK_BYTES,
        boundary: str | None = None,
        before_last: Callable[[], None] | None = None,
    ) -> None:
        """``before_last()`` runs just before the closing boundary is handed over: until it has run, the receiver
        cannot have the whole body (so it cannot have acted on it)."""
        self.boundary = boundary or os.urandom(16).hex()
        self._before_last = before_last
        self.chunk_size = chunk_size
        self._fields = [(str(k), str(v)) for k, v in fields.items()]
        self._files = [(name, Path(path)) for name, path in files]
        self._sizes = [path.stat().st_size for _, path in self._files]  # raises FileNotFoundError early
        heads = [len(self._file_head(name, path)) + 2 for name, path in self._files]  # + CRLF after the data
        self.content_length = (
            sum(len(p) for p in self._text_parts()) + sum(heads) + sum(self._sizes) + len(self._tail())
        )

    @property
    def headers(self) -> dict[str, str]:
        return {
            "Content-Type": f"multipart/form-data; boundary={self.boundary}",
            "Content-Length": str(self.content_length),
        }

    def _text_parts(self) -> list[bytes]:
        return [
            (
                f"--{self.boundary}\r\n"
                f'Content-Disposition: form-data; name="{_quote(name)}"\r\n\r\n'
            ).encode()
            + value.encode("utf-8")
            + b"\r\n"
            for name, value in self._fields
        ]

    def _file_head(self, name: str, path: Path) -> bytes:
        ctype = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        return (
            f"--{self.boundary}\r\n"
            f'Content-Disposition: form-data; name="{_quote(name)}"; filename="{_quote(path.name)}"\r\n'
            f"Content-Type: {ctype}\r\n\r\n"
        ).encode()

    def _tail(self) -> bytes:
        return f"--{self.boundary}--\r\n".encode()

    async def __aiter__(self) -> AsyncIterator[bytes]:
        for part in self._text_parts():
            yield part
        for (name, path), size in zip(self._files, self._sizes, strict=True):
            yield self._file_head(name, path)
            sent = 0
            async with await anyio.open_file(path, "rb") as handle:
                while sent < size:
                    chunk = await handle.read(min(self.chunk_size, size - sent))
                    if not chunk:
                        break
                    sent += len(chunk)
                    yield chunk
            if sent != size:
                raise OSError(f"{path.name} changed size during the upload ({size} bytes expected, {sent} read)")
            yield b"\r\n"
        if self._before_last is not None:
            self._before_last()
        yield self._tail()
