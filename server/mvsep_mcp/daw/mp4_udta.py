"""A box of our own in an MP4 file's movie user data (``moov/udta``), every chunk offset kept true.

```python
put_udta_box(path, b"stem", manifest_json)     # NI Stems' manifest; replaces a ``stem`` box already there
read_udta_box(path, b"stem")                   # its payload, or None
```

The new ``udta`` holds the box first (where NI's and TagLib's stem writers put it), then the children it had
(``meta``/``ilst`` tags stay as they were). ``moov`` grows by the box's size, so

- when ``moov`` comes before the media data (a "faststart" file), every ``stco``/``co64`` chunk offset past it moves
  by as much (an offset a 32-bit ``stco`` can no longer hold is refused, not wrapped);
- when ``moov`` is the file's last box (FFmpeg's default), the file is cut at ``moov`` and ``moov`` written again;
  otherwise the file is copied through a temporary file beside it and renamed over it.

Written here because neither mutagen (its MP4 writer handles ``ilst`` only) nor PyAV (FFmpeg's muxer writes no
user box) adds an arbitrary box; about 150 lines, walking boxes with ``struct`` like ``mp4box``.
"""

from __future__ import annotations

import os
import shutil
import struct
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from mvsep_mcp.daw.errors import DawError
from mvsep_mcp.media.files import temp_path_for
from mvsep_mcp.policy import DAW_COPY_BLOCK_BYTES

_MOOV_MAX_BYTES = 64 << 20  # a moov larger than this is not an audio file's (covers are a few MB at most)
_ON_THE_WAY_TO_CHUNKS = (b"trak", b"mdia", b"minf", b"stbl")  # the containers between moov and stco/co64


class Mp4BoxError(DawError, ValueError):
    """The file is not an MP4 file whose ``moov`` can take the box (the message says why)."""


@dataclass(frozen=True)
class _Box:
    kind: bytes
    start: int  # of the header
    body: int  # of the payload
    end: int


def _walk(read: Callable[[int, int], bytes], start: int, end: int) -> list[_Box]:
    """The boxes between ``start`` and ``end`` (``read(at, n)``: up to n bytes at ``at``), up to the first that does
    not fit."""
    found = []
    at = start
    while at + 8 <= end:
        head = read(at, 16)
        size, kind = struct.unpack(">I4s", head[:8])
        body = at + 8
        if size == 1 and len(head) == 16:
            size, body = struct.unpack(">Q", head[8:16])[0], at + 16
        elif size == 0:
            size = end - at
        if size < body - at or at + size > end:
            break
        found.append(_Box(kind, at, body, at + size))
        at += size
    return found


def _children(data: bytes, start: int, end: int) -> list[_Box]:
    return _walk(lambda at, n: data[at:at + n], start, end)


def _box(kind: bytes, payload: bytes) -> bytes:
    size = 8 + len(payload)
    if size > 0xFFFFFFFF:
        return struct.pack(">I4sQ", 1, kind, size + 8) + payload
    return struct.pack(">I4s", size, kind) + payload


def _top_level(path: Path) -> tuple[list[_Box], int]:
    """The file's top-level boxes (read header by header) and its size."""
    with path.open("rb") as handle:
        total = handle.seek(0, os.SEEK_END)

        def read(at: int, n: int) -> bytes:
            handle.seek(at)
            return handle.read(n)

        return _walk(read, 0, total), total


def _moov_of(path: Path) -> tuple[_Box, bytes, int]:
    boxes, total = _top_level(path)
    moov = next((b for b in boxes if b.kind == b"moov"), None)
    if moov is None:
        raise Mp4BoxError(f"{path.name} is not an MP4 file (no movie box).")
    if moov.end - moov.body > _MOOV_MAX_BYTES:
        raise Mp4BoxError(f"{path.name}'s movie box is larger than an audio file's.")
    with path.open("rb") as handle:
        handle.seek(moov.body)
        return moov, handle.read(moov.end - moov.body), total


def read_udta_box(path: Path, kind: bytes) -> bytes | None:
    """The payload of the ``moov/udta/<kind>`` box of ``path``, or None when it has none."""
    _, moov, _ = _moov_of(Path(path))
    for udta in (b for b in _children(moov, 0, len(moov)) if b.kind == b"udta"):
        found = next((b for b in _children(moov, udta.body, udta.end) if b.kind == kind), None)
        if found is not None:
            return moov[found.body:found.end]
    return None


def _with_udta_box(moov: bytes, kind: bytes, payload: bytes) -> bytes:
    """``moov``'s payload with ``kind`` first in its ``udta`` (created at the end when there is none)."""
    new = _box(kind, payload)
    parts: list[bytes] = []
    placed = False
    for child in _children(moov, 0, len(moov)):
        if child.kind == b"udta" and not placed:
            kept = [moov[c.start:c.end] for c in _children(moov, child.body, child.end) if c.kind != kind]
            parts.append(_box(b"udta", new + b"".join(kept)))
            placed = True
        else:
            parts.append(moov[child.start:child.end])
    if not placed:
        parts.append(_box(b"udta", new))
    return b"".join(parts)


def _shift_chunk_offsets(moov: bytearray, start: int, end: int, past: int, delta: int, name: str) -> None:
    """Add ``delta`` to every ``stco``/``co64`` entry of ``moov[start:end]`` that points past ``past``."""
    for child in _children(bytes(moov), start, end):
        if child.kind in _ON_THE_WAY_TO_CHUNKS:
            _shift_chunk_offsets(moov, child.body, child.end, past, delta, name)
        elif child.kind in (b"stco", b"co64"):
            wide = child.kind == b"co64"
            width, code = (8, ">Q") if wide else (4, ">I")
            count = struct.unpack(">I", moov[child.body + 4:child.body + 8])[0]
            for at in range(child.body + 8, min(child.end, child.body + 8 + count * width), width):
                offset = struct.unpack(code, moov[at:at + width])[0]
                if offset > past:
                    offset += delta
                    if not wide and offset > 0xFFFFFFFF:
                        raise Mp4BoxError(f"{name} is too large to add a box before its audio.")
                    moov[at:at + width] = struct.pack(code, offset)


def put_udta_box(path: Path, kind: bytes, payload: bytes) -> None:
    """Put the box ``kind`` holding ``payload`` into ``moov/udta`` of ``path`` (see the module docstring)."""
    path = Path(path)
    moov, body, total = _moov_of(path)
    new_body = _with_udta_box(body, kind, payload)
    grown = bytearray(_box(b"moov", new_body))
    delta = len(grown) - (moov.end - moov.start)
    if moov.end < total and delta:  # media data after moov moves by delta
        _shift_chunk_offsets(grown, len(grown) - len(new_body), len(grown), moov.start, delta, path.name)
    in_place = moov.end == total  # nothing after moov (FFmpeg's layout): it is written again where it was
    target = path if in_place else temp_path_for(path)
    try:
        if not in_place:
            shutil.copyfile(path, target)
        with path.open("rb") as source, target.open("r+b") as out:
            out.seek(moov.start)
            out.write(grown)
            if not in_place:  # the boxes after moov, from the original
                source.seek(moov.end)
                shutil.copyfileobj(source, out, DAW_COPY_BLOCK_BYTES)
            out.truncate()
        if not in_place:
            os.replace(target, path)
    finally:
        if not in_place:
            target.unlink(missing_ok=True)
