"""Does a file's audio run to its end? A file cut short (a full disk, a dropped connection that went unnoticed) keeps
a header that promises the whole length, so a check of the header alone lets it through.

Each format is checked the cheapest way that reaches the last byte (``complete_audio`` raises :class:`Incomplete`
with a few words saying where the audio stops):

- **WAV**: the chunks tile the file and the ``data`` chunk ends inside it (PCM needs no decoding).
- **FLAC**: decoded to the end by libsndfile, in blocks into one buffer; the frames must reach the number
  STREAMINFO announces (a cut file loses sync or comes up short). About 0.2 s for a four-minute stereo stem.
- **MP3**: a walk over the MPEG frame headers (no decoding): the last frame whole, and as many frames as the
  Xing/LAME header counts (when there is one). Bytes that are no frame are skipped to the next real one (two frame
  headers in a row); a file cut exactly between frames without a Xing header passes (its length is still checked
  against the input's). Milliseconds.
- **M4A/MP4**: the top-level boxes tile the file exactly (a cut ``mdat`` or a missing ``moov`` does not).
- **Ogg (Vorbis, Opus)**: the pages are read one after the other to the end (each checked by mutagen), and the
  last one ends the stream.

Formats not listed are not checked (none of MVSep's outputs).
"""

from __future__ import annotations

import mmap
import struct
from pathlib import Path

from mvsep_mcp.media.errors import MediaError
from mvsep_mcp.policy import DAW_PCM_BLOCK_FRAMES, MP3_SYNC_SEARCH_BYTES


class Incomplete(MediaError):
    """The file's audio stops before the end its header announces (or the file has bytes that are not audio)."""


def complete_audio(path: Path, fmt: str) -> None:
    """Raise :class:`Incomplete` unless the ``fmt`` audio in ``path`` runs whole to its end."""
    checks = {"wav": _wav, "flac": _flac, "mp3": _mp3, "m4a": _mp4, "ogg": _ogg, "opus": _ogg}
    check = checks.get(fmt)
    if check is not None:
        check(Path(path))


# --- WAV ------------------------------------------------------------------------------------------------------------

def _wav(path: Path) -> None:
    size = path.stat().st_size
    with path.open("rb") as handle:
        head = handle.read(12)
        if len(head) < 12 or head[:4] not in (b"RIFF", b"RF64") or head[8:12] != b"WAVE":
            raise Incomplete("its RIFF/WAVE header is cut")
        position = 12
        while position + 8 <= size:
            handle.seek(position)
            kind, length = struct.unpack("<4sI", handle.read(8))
            end = position + 8 + length
            if kind == b"data":
                if head[:4] == b"RF64" or length in (0, 0xFFFFFFFF):
                    return  # the length lives in ds64 or was never filled in: the data runs to the end
                if end > size:
                    raise Incomplete(f"its audio data stops at byte {size} of {end}")
                return
            if end > size:
                raise Incomplete(f"its {kind.decode('latin-1')!r} chunk stops at byte {size} of {end}")
            position = end + (length & 1)
    raise Incomplete("it has no audio data chunk")


# --- FLAC -----------------------------------------------------------------------------------------------------------

def _flac(path: Path) -> None:
    import numpy as np  # loaded with the first check, not with the server
    import soundfile as sf

    try:
        with sf.SoundFile(str(path)) as audio:
            announced = audio.frames
            block = np.empty((DAW_PCM_BLOCK_FRAMES, audio.channels), dtype="int16")
            decoded = 0
            while True:
                got = len(audio.read(out=block))
                decoded += got
                if got < len(block):
                    break
    except (sf.LibsndfileError, RuntimeError) as exc:
        raise Incomplete(f"it does not decode to its end ({exc})") from None
    if decoded < announced:
        raise Incomplete(f"it decodes {decoded} of the {announced} frames it announces")


# --- MP3 ------------------------------------------------------------------------------------------------------------

_BITRATES_KBPS = {  # (MPEG-1?, layer) -> the 15 bitrate indexes
    (True, 1): (0, 32, 64, 96, 128, 160, 192, 224, 256, 288, 320, 352, 384, 416, 448),
    (True, 2): (0, 32, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320, 384),
    (True, 3): (0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320),
    (False, 1): (0, 32, 48, 56, 64, 80, 96, 112, 128, 144, 160, 176, 192, 224, 256),
    (False, 2): (0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160),
    (False, 3): (0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160),
}
_RATES = {3: (44100, 48000, 32000), 2: (22050, 24000, 16000), 0: (11025, 12000, 8000)}  # version bits -> rates


def _mp3_frame(data: mmap.mmap, at: int) -> tuple[int, int, int] | None:
    """(frame length, samples in it, sample rate) of the MPEG audio frame header at ``at``, or None."""
    if at + 4 > len(data):
        return None
    b1, b2 = data[at + 1], data[at + 2]
    if data[at] != 0xFF or b1 & 0xE0 != 0xE0:
        return None
    version, layer_bits = (b1 >> 3) & 3, (b1 >> 1) & 3
    bitrate_index, rate_index, padding = b2 >> 4, (b2 >> 2) & 3, (b2 >> 1) & 1
    if version == 1 or layer_bits == 0 or bitrate_index in (0, 15) or rate_index == 3:
        return None  # reserved values (or free format, which MVSep never writes)
    layer, mpeg1 = 4 - layer_bits, version == 3
    bitrate = _BITRATES_KBPS[(mpeg1, layer)][bitrate_index] * 1000
    rate = _RATES[version][rate_index]
    if layer == 1:
        return (12 * bitrate // rate + padding) * 4, 384, rate
    samples = 1152 if layer == 2 or mpeg1 else 576
    return samples // 8 * bitrate // rate + padding, samples, rate


def _id3v2_end(data: mmap.mmap) -> int:
    if len(data) >= 10 and data[:3] == b"ID3":
        size = data[6] << 21 | data[7] << 14 | data[8] << 7 | data[9]
        return 10 + size + (10 if data[5] & 0x10 else 0)
    return 0


def _xing_frames(data: mmap.mmap, first: int) -> int | None:
    """The frame count of a Xing/Info header in the first frame (which is itself not audio), or None."""
    window = data[first:first + 200]
    for tag in (b"Xing", b"Info"):
        at = window.find(tag)
        if at >= 0 and at + 12 <= len(window) and window[at + 7] & 1:
            return int(struct.unpack(">I", window[at + 8:at + 12])[0])
    return None


def _synced(data: mmap.mmap, at: int) -> bool:
    """A frame header at ``at`` whose next frame also begins with a header (or that ends the file): real sync."""
    frame = _mp3_frame(data, at)
    if frame is None:
        return False
    following = at + frame[0]
    return following >= len(data) or _mp3_frame(data, following) is not None


def _resync(data: mmap.mmap, start: int, limit: int) -> int | None:
    """The first real frame at or after ``start`` (searched up to ``limit`` bytes on), or None."""
    position = data.find(b"\xff", start, min(len(data), start + limit))
    while position >= 0:
        if _synced(data, position):
            return position
        position = data.find(b"\xff", position + 1, min(len(data), start + limit))
    return None


def _mp3(path: Path) -> None:
    """Cut files are told by evidence only (a file never ends on its own): a last frame running past the end, or
    fewer frames than the Xing/LAME header counts. Bytes that are no frame (an encoder's junk, a tag) are skipped to
    the next real frame; none after them is a trailer, which is allowed."""
    size = path.stat().st_size
    if size == 0:
        raise Incomplete("it is empty")
    with path.open("rb") as handle, mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ) as data:
        start = _id3v2_end(data)
        position = _resync(data, start, MP3_SYNC_SEARCH_BYTES)
        if position is None:
            raise Incomplete("no MPEG audio frame follows its header")
        announced = _xing_frames(data, position)
        frames = 0
        while position < size:
            frame = _mp3_frame(data, position)
            if frame is None:
                found = _resync(data, position + 1, size)
                if found is None:
                    break  # a trailer (ID3v1, APE, Lyrics3, padding) after the audio
                position = found
                continue
            if position + frame[0] > size:
                raise Incomplete(f"its last audio frame stops at byte {size} of {position + frame[0]}")
            position += frame[0]
            frames += 1
    if announced is not None and frames - 1 < announced:  # the Xing frame itself carries no audio
        raise Incomplete(f"it holds {frames - 1} of the {announced} audio frames its header counts")


# --- M4A / MP4 ------------------------------------------------------------------------------------------------------

def _mp4(path: Path) -> None:
    size = path.stat().st_size
    seen: set[bytes] = set()
    with path.open("rb") as handle:
        position = 0
        while position < size:
            handle.seek(position)
            head = handle.read(16)
            if len(head) < 8:
                raise Incomplete(f"a box header is cut at byte {position} of {size}")
            length, kind = struct.unpack(">I4s", head[:8])
            if length == 1:
                if len(head) < 16:
                    raise Incomplete(f"a box header is cut at byte {position} of {size}")
                length = struct.unpack(">Q", head[8:16])[0]
            elif length == 0:
                length = size - position  # the last box runs to the end of the file
            if length < 8:
                raise Incomplete(f"a box at byte {position} has an impossible length")
            if position + length > size:
                raise Incomplete(f"its {kind.decode('latin-1')!r} box stops at byte {size} of {position + length}")
            seen.add(kind)
            position += length
    missing = [k.decode() for k in (b"moov", b"mdat") if k not in seen]
    if missing:
        raise Incomplete(f"it has no {' or '.join(missing)} box")


# --- Ogg ------------------------------------------------------------------------------------------------------------

def _ogg(path: Path) -> None:
    from mutagen.ogg import OggPage

    size = path.stat().st_size
    last: OggPage | None = None
    with path.open("rb") as handle:
        while handle.tell() < size:
            at = handle.tell()
            try:
                last = OggPage(handle)  # type: ignore[no-untyped-call]
            except Exception as exc:  # mutagen raises several kinds for a cut page (it checks every packet's bytes)
                raise Incomplete(f"its Ogg page at byte {at} is cut ({type(exc).__name__})") from None
    if last is None or not last.last:
        raise Incomplete("its last Ogg page does not end the stream")
