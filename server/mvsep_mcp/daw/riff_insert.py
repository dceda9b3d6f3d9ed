"""Room for new chunks before a WAV file's audio without copying the audio: the file system inserts whole blocks.

Linux's ``fallocate(FALLOC_FL_INSERT_RANGE)`` (ext4, XFS) shifts a file's contents by whole blocks by editing its
extent map: no byte of the audio is read or written. ``insert_before_data(path, layout, parts)`` inserts as many
blocks at the start as the new chunks need (none when the head already has room, e.g. a ``JUNK`` chunk), then writes
the new head over them: the RIFF header, the chunks that were before ``data`` (read into memory), the new ``parts``,
a ``JUNK`` chunk filling what is left, and the ``data`` chunk's header, so that the audio stays where it lies.

Returns False, having changed nothing, where it cannot: not glibc Linux, a file system without the call (tmpfs,
APFS, NTFS…), a head over ``DAW_IN_PLACE_HEAD_MAX_BYTES``, a chunk to replace that lies after the audio, a file over
the RIFF limit. The caller then rewrites the file (``riff.rewrite_wave``). For a file nobody else reads yet (a
download being finished): a crash midway leaves it damaged, never a final file.
"""

from __future__ import annotations

import ctypes
import logging
import os
import struct
from collections.abc import Collection, Sequence
from pathlib import Path

from mvsep_mcp.daw.riff import RIFF_MAX_BYTES, Part, WaveLayout
from mvsep_mcp.glibc import glibc
from mvsep_mcp.policy import DAW_IN_PLACE_HEAD_MAX_BYTES

log = logging.getLogger(__name__)

FALLOC_FL_INSERT_RANGE = 0x20  # linux/falloc.h
PADDING_ID = b"JUNK"
_CHUNK_HEADER = 8


def _chunk(chunk_id: bytes, payload: bytes) -> bytes:
    return chunk_id + struct.pack("<I", len(payload)) + payload + (b"\x00" if len(payload) & 1 else b"")


def _insert_blocks(fd: int, length: int) -> bool:
    """Insert ``length`` bytes (whole blocks) at the start of the open file ``fd``; whether the system did it."""
    libc = glibc()
    if libc is None:
        return False
    if libc.fallocate(fd, FALLOC_FL_INSERT_RANGE, 0, length) != 0:
        log.debug("no block insertion here (%s); the file is rewritten", os.strerror(ctypes.get_errno()))
        return False
    return True


def _block_size(fd: int) -> int | None:
    """The file system's block size, or None where it cannot be known (Windows has no ``fstatvfs``)."""
    try:
        block = int(os.fstatvfs(fd).f_bsize)  # type: ignore[attr-defined,unused-ignore]
    except (AttributeError, OSError):
        return None
    return block if block > 0 else None


def insert_before_data(path: Path, layout: WaveLayout, parts: Sequence[Part], *, replace: Collection[bytes] = (),
                       durable: bool = True) -> bool:
    """Put ``parts`` (new payloads) just before the ``data`` chunk of ``path`` in place; whether it was done.

    Chunks whose id is in ``replace`` are left out, as are ``JUNK`` chunks before the audio (padding this function
    writes itself). ``layout`` is ``read_layout(path)`` of the file as it is now.
    """
    data = layout.data
    if any(chunk.id in replace for chunk in layout.chunks if chunk.offset > data.offset):
        return False
    head_end = data.offset  # the audio's first byte: it stays the first byte after the new head
    if head_end > DAW_IN_PLACE_HEAD_MAX_BYTES or any(part.data is None or part.extend for part in parts):
        return False
    path = Path(path)
    with path.open("r+b") as handle:
        kept = b""
        for chunk in layout.chunks:
            if chunk.offset < data.offset and chunk.id != b"data" and chunk.id not in replace \
                    and chunk.id != PADDING_ID:
                handle.seek(chunk.offset)
                kept += _chunk(chunk.id, handle.read(chunk.size))
        added = b"".join(_chunk(part.id, part.data or b"") for part in parts)
        fixed = 12 + len(kept) + len(added) + _CHUNK_HEADER + _CHUNK_HEADER  # + JUNK header + data header
        grow = 0
        if fixed > head_end:  # the head needs room: whole blocks of the file system, where it can insert them
            block = _block_size(handle.fileno())
            if block is None or glibc() is None:
                return False
            grow = -(-(fixed - head_end) // block) * block
        total = os.fstat(handle.fileno()).st_size + grow
        if total - 8 > RIFF_MAX_BYTES:
            return False
        if grow and not _insert_blocks(handle.fileno(), grow):
            return False
        filler = head_end + grow - fixed  # even: every chunk is padded to an even size, and so is head_end
        head = (b"RIFF" + struct.pack("<I", total - 8) + b"WAVE" + kept + added
                + PADDING_ID + struct.pack("<I", filler) + bytes(filler) + b"data" + struct.pack("<I", data.size))
        handle.seek(0)
        handle.write(head)
        handle.flush()
        if durable:
            os.fsync(handle.fileno())
    return True
