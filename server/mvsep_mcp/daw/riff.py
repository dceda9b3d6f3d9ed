"""RIFF/WAVE chunks: read where each chunk of a WAV file lies, and rewrite the file chunk by chunk.

Written here (about 200 lines) because no maintained Python library writes arbitrary RIFF chunks: mutagen writes
only its own ``id3 `` chunk, and soundfile re-encodes the whole file and drops chunks it does not know. So:

- ``read_layout(path)`` lists the chunks (id, payload offset, payload size) and parses ``fmt `` (``WaveFormat``);
- ``rewrite_wave(path, parts)`` streams a new file made of ``Part``s (a chunk copied from the old file, possibly cut
  short or extended with silence, or a new payload) to a temporary file beside it, then ``os.replace``s the
  original: a crash leaves the old file or the new one, never half of each. Chunks the caller does not touch are
  copied byte for byte, so ID3 tags, ``LIST/INFO``, ``cue ``, ``PEAK``… survive.

Only plain RIFF (files under 4 GiB) is rewritten; RF64/BW64 and RIFX raise ``NotAWave``. A ``data`` chunk whose
declared size runs past the end of the file (a writer that never finished its header) is read as "up to the end".
"""

from __future__ import annotations

import contextlib
import os
import shutil
import struct
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

from mvsep_mcp.daw.errors import NotAWave
from mvsep_mcp.media.files import temp_path_for
from mvsep_mcp.policy import DAW_COPY_BLOCK_BYTES, DAW_IN_PLACE_TAIL_MAX_BYTES

RIFF_MAX_BYTES = 0xFFFFFFFF
FORMAT_PCM = 0x0001
FORMAT_IEEE_FLOAT = 0x0003
FORMAT_EXTENSIBLE = 0xFFFE


@dataclass(frozen=True)
class Chunk:
    """One chunk: its four-byte id, where its payload starts in the file, and the payload's size in bytes."""

    id: bytes
    offset: int
    size: int


@dataclass(frozen=True)
class WaveFormat:
    """The ``fmt `` chunk: ``format_tag`` is the sub-format's tag for WAVE_FORMAT_EXTENSIBLE files."""

    format_tag: int
    channels: int
    sample_rate: int
    block_align: int
    bits_per_sample: int

    @property
    def is_linear(self) -> bool:
        """Integer PCM or IEEE float: frames can be cut or padded with silence byte by byte."""
        return self.format_tag in (FORMAT_PCM, FORMAT_IEEE_FLOAT) and self.block_align > 0

    @property
    def silence_byte(self) -> int:
        """The byte that makes silence: 0x80 for unsigned 8-bit PCM, 0 for everything else."""
        return 0x80 if self.format_tag == FORMAT_PCM and self.bits_per_sample <= 8 else 0


@dataclass(frozen=True)
class WaveLayout:
    """Every chunk of a RIFF/WAVE file in file order, and its parsed ``fmt ``."""

    chunks: tuple[Chunk, ...]
    format: WaveFormat

    def find(self, chunk_id: bytes) -> Chunk | None:
        """The first chunk with this id, or None."""
        return next((chunk for chunk in self.chunks if chunk.id == chunk_id), None)

    @property
    def data(self) -> Chunk:
        chunk = self.find(b"data")
        assert chunk is not None  # read_layout refuses files without one
        return chunk

    @property
    def frames(self) -> int:
        """Whole sample frames in the ``data`` chunk."""
        return self.data.size // self.format.block_align if self.format.block_align else 0


def _parse_format(payload: bytes, name: str) -> WaveFormat:
    if len(payload) < 16:
        raise NotAWave(f"{name}: its fmt chunk is too short to be a WAV header; the file is damaged.")
    tag, channels, rate, _byte_rate, block_align, bits = struct.unpack("<HHIIHH", payload[:16])
    if tag == FORMAT_EXTENSIBLE and len(payload) >= 26:
        tag = struct.unpack("<H", payload[24:26])[0]  # first two bytes of the sub-format GUID
    return WaveFormat(tag, channels, rate, block_align, bits)


def read_layout(path: Path) -> WaveLayout:
    """The chunks of the RIFF/WAVE file ``path``; raises ``NotAWave`` for anything else (RF64 included)."""
    path = Path(path)
    total = path.stat().st_size
    with path.open("rb") as handle:
        header = handle.read(12)
        if len(header) < 12 or header[8:12] != b"WAVE" or header[:4] != b"RIFF":
            kind = header[:4].decode("latin-1") if header[:4] in (b"RF64", b"BW64", b"RIFX") else "not RIFF/WAVE"
            raise NotAWave(f"{path.name} is {kind}; only plain RIFF/WAVE files under 4 GiB can be rewritten here.")
        chunks: list[Chunk] = []
        fmt: WaveFormat | None = None
        position = 12
        while position + 8 <= total:
            handle.seek(position)
            chunk_id, size = struct.unpack("<4sI", handle.read(8))
            offset = position + 8
            size = min(size, total - offset)  # a header never finished (streaming writers) or a truncated file
            chunks.append(Chunk(chunk_id, offset, size))
            if chunk_id == b"fmt ":
                fmt = _parse_format(handle.read(min(size, 64)), path.name)
            position = offset + size + (size & 1)
    if fmt is None or not any(chunk.id == b"data" for chunk in chunks):
        raise NotAWave(f"{path.name} has no fmt or data chunk; it is not a playable WAV file.")
    return WaveLayout(tuple(chunks), fmt)


def read_payload(path: Path, chunk: Chunk) -> bytes:
    """The payload bytes of one (small) chunk."""
    with Path(path).open("rb") as handle:
        handle.seek(chunk.offset)
        return handle.read(chunk.size)


@dataclass(frozen=True)
class Part:
    """One chunk of the file ``rewrite_wave`` writes.

    Either ``data`` (a new payload) or ``source`` (a chunk of the old file, of which the first ``keep`` bytes are
    copied, all of it when None), followed by ``extend`` bytes of ``fill`` (silence when padding audio).
    """

    id: bytes
    data: bytes | None = None
    source: Chunk | None = None
    keep: int | None = None
    extend: int = 0
    fill: int = 0

    @property
    def size(self) -> int:
        if self.data is not None:
            return len(self.data) + self.extend
        assert self.source is not None
        kept = self.source.size if self.keep is None else min(self.keep, self.source.size)
        return kept + self.extend

    @classmethod
    def copy(cls, chunk: Chunk) -> Part:
        return cls(chunk.id, source=chunk)


def _copy_range(src: BinaryIO, dst: BinaryIO | _Hashing, offset: int, length: int) -> None:
    src.seek(offset)
    left = length
    while left > 0:
        block = src.read(min(DAW_COPY_BLOCK_BYTES, left))
        if not block:
            raise NotAWave("the file ended while it was being copied; it changed on disk or is damaged.")
        dst.write(block)
        left -= len(block)


def _fill(dst: BinaryIO | _Hashing, count: int, byte: int) -> None:
    block = bytes([byte]) * min(count, DAW_COPY_BLOCK_BYTES)
    left = count
    while left > 0:
        dst.write(block[: min(left, len(block))])
        left -= min(left, len(block))


class _Hashing:
    """A file opened for writing whose every written byte also goes into ``digest`` (when given)."""

    def __init__(self, handle: BinaryIO, digest: Any | None) -> None:
        self.handle, self.digest = handle, digest

    def write(self, data: bytes) -> None:
        self.handle.write(data)
        if self.digest is not None:
            self.digest.update(data)


def rewrite_wave(path: Path, parts: Sequence[Part], *, digest: Any | None = None, durable: bool = True) -> None:
    """Replace ``path`` by a RIFF/WAVE file made of ``parts`` (temp file beside it + atomic rename).

    ``digest`` (a ``hashlib`` object) hears every byte of the new file, so a caller needs no second read to hash
    it. ``durable=False`` skips the fsync when the caller makes the file durable itself later (a commit does).
    """
    path = Path(path)
    for part in parts:
        if len(part.id) != 4:
            raise ValueError(f"a chunk id is four bytes, not {part.id!r}")
    riff_size = 4 + sum(8 + part.size + (part.size & 1) for part in parts)
    if riff_size > RIFF_MAX_BYTES:
        raise NotAWave(f"{path.name} would exceed 4 GiB, the limit of a plain WAV file; it was left as it was.")
    tmp = temp_path_for(path)
    try:
        with path.open("rb") as src, tmp.open("wb") as raw:
            dst = _Hashing(raw, digest)
            dst.write(b"RIFF" + struct.pack("<I", riff_size) + b"WAVE")
            for part in parts:
                dst.write(part.id + struct.pack("<I", part.size))
                if part.data is not None:
                    dst.write(part.data)
                else:
                    assert part.source is not None
                    _copy_range(src, dst, part.source.offset, part.size - part.extend)
                _fill(dst, part.extend, part.fill)
                if part.size & 1:
                    dst.write(b"\x00")
            raw.flush()
            if durable:
                os.fsync(raw.fileno())
        with contextlib.suppress(OSError):
            shutil.copymode(path, tmp)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def resize_data_in_place(path: Path, layout: WaveLayout, new_size: int, fill: int) -> bool:
    """Cut or extend the ``data`` chunk of ``path`` in place, moving only the (small) chunks after it.

    For a file nobody else reads yet (a download being finished): no copy of the audio. Returns False, changing
    nothing, when the chunks after the audio are larger than ``DAW_IN_PLACE_TAIL_MAX_BYTES`` or the result would
    exceed the RIFF limit; the caller then rewrites the file.
    """
    data = layout.data
    tail_start = data.offset + data.size + (data.size & 1)
    total = Path(path).stat().st_size
    tail_length = max(0, total - tail_start)
    new_total = data.offset + new_size + (new_size & 1) + tail_length
    if tail_length > DAW_IN_PLACE_TAIL_MAX_BYTES or new_total - 8 > RIFF_MAX_BYTES:
        return False
    with Path(path).open("r+b") as handle:
        handle.seek(tail_start)
        tail = handle.read(tail_length)
        if new_size < data.size:
            handle.seek(data.offset + new_size)
        else:
            handle.seek(data.offset + data.size)
            _fill(handle, new_size - data.size, fill)
        if new_size & 1:
            handle.write(b"\x00")
        handle.write(tail)
        handle.truncate()
        handle.seek(data.offset - 4)
        handle.write(struct.pack("<I", new_size))
        handle.seek(4)
        handle.write(struct.pack("<I", new_total - 8))
    return True
