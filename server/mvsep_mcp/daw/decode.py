"""A stem decoded for the stem player: blocks of float32 samples, whatever the stem's format.

```python
with decoded(path, max_seconds=30) as audio:           # Undecodable (a sentence) when it cannot be decoded here
    audio.sample_rate, audio.channels, audio.frames     # frames: the song's length when known, else None
    for block in audio.blocks: ...                      # numpy float32, shape (frames, channels)
```

- **libsndfile** (``soundfile``, base install) decodes WAV, FLAC, MP3 and OGG, and is tried first.
- **PyAV** (FFmpeg) decodes what libsndfile cannot, M4A (AAC) above all. It is not in the base install (about 100 MB
  of FFmpeg for one format the player shows): it comes with the ``m4a`` extra (and the sandbox's), and is imported
  here only when a stem needs it. FFmpeg skips the encoder's priming (the MP4 edit list) and the blocks stop at the
  length the file states (``facts``), so an M4A waveform lines up with the lossless stems'.
- Without PyAV an M4A stem raises ``Undecodable`` with ``NEEDS_PYAV``: the sentence naming the install command.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from itertools import chain
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mvsep_mcp.daw.errors import DawError
from mvsep_mcp.daw.stream_facts import UnreadableAudio, read_stream_facts
from mvsep_mcp.policy import DAW_PCM_BLOCK_FRAMES

if TYPE_CHECKING:  # numpy loads with the first decode, not with the server (cold start)
    import numpy as np

log = logging.getLogger(__name__)

M4A_EXTRA_INSTALL = "pip install 'mvsep-mcp[m4a]'"
NEEDS_PYAV = (f"M4A (AAC) stems are decoded with PyAV, which is not installed beside this server: install it with "
              f"{M4A_EXTRA_INSTALL} (or choose wav, flac or mp3 output) to see their waveforms and hear previews")


PYAV_LAYOUTS = {1: "mono", 2: "stereo"}  # the channel layouts written and resampled through PyAV here


def pyav(needed_for: str) -> Any:
    """The ``av`` module, imported now; else ``DawError``: "<needed_for> needs PyAV, …: install it with …"."""
    try:
        import av
    except ImportError:
        raise DawError(f"{needed_for} needs PyAV, which is not installed beside this server: install it with "
                       f"{M4A_EXTRA_INSTALL}.") from None
    return av


def pyav_layout(channels: int, what: str) -> str:
    """FFmpeg's name of a mono or stereo layout; ``DawError`` naming ``what`` for any other channel count."""
    if channels not in PYAV_LAYOUTS:
        raise DawError(f"{what} has {channels} channels; only mono and stereo are written or resampled here.")
    return PYAV_LAYOUTS[channels]


class Undecodable(DawError, ValueError):
    """The stem cannot be decoded here; the message says why (and, for M4A without PyAV, how to fix it)."""


@dataclass(frozen=True)
class Decoded:
    """An open stem: its rate, channel count, length in frames when known, and its samples block by block."""

    sample_rate: int
    channels: int
    frames: int | None
    blocks: Iterator[np.ndarray]


@contextmanager
def decoded(path: Path, *, max_seconds: float | None = None,
            block_frames: int = DAW_PCM_BLOCK_FRAMES) -> Iterator[Decoded]:
    """``path`` decoded (see the module docstring); at most ``max_seconds`` of it come out of ``blocks``."""
    import soundfile as sf

    try:
        audio = sf.SoundFile(str(path))
    except (sf.LibsndfileError, RuntimeError, TypeError) as exc:
        reason = str(exc)
    else:
        with audio:
            total, rate = int(audio.frames), int(audio.samplerate)
            yield Decoded(rate, int(audio.channels), total,
                          _sndfile_blocks(audio, _limit(total, rate, max_seconds), block_frames))
        return
    with _pyav_decoded(Path(path), reason, max_seconds) as stream:
        yield stream


def _limit(total: int | None, rate: int, max_seconds: float | None) -> int | None:
    """How many frames to decode: the stated length, cut to ``max_seconds``."""
    known = [n for n in (total, None if max_seconds is None else int(max_seconds * rate)) if n is not None]
    return min(known) if known else None


def _sndfile_blocks(audio: Any, limit: int | None, block_frames: int) -> Iterator[np.ndarray]:
    import soundfile as sf

    left = limit
    try:
        while left is None or left > 0:
            block = audio.read(frames=block_frames if left is None else min(block_frames, left), dtype="float32",
                               always_2d=True)
            if len(block) == 0:
                return
            if left is not None:
                left -= len(block)
            yield block
    except (sf.LibsndfileError, RuntimeError, TypeError) as exc:
        raise Undecodable(f"{Path(audio.name).name} cannot be decoded here ({_named(exc, Path(audio.name))})") from exc


def _is_m4a(path: Path) -> bool:
    try:
        return read_stream_facts(path).format == "m4a"
    except (UnreadableAudio, OSError):
        return False


def _named(reason: object, path: Path) -> str:
    """A decoder's message with the file named by its name only: the sentence reaches users who must not see the
    server's folders (hosted mode)."""
    return str(reason).replace(str(path), path.name)


@contextmanager
def _pyav_decoded(path: Path, reason: str, max_seconds: float | None) -> Iterator[Decoded]:
    """Decoding through PyAV: for what libsndfile cannot read (``reason``: what it said)."""
    try:
        import av
    except ImportError:
        if _is_m4a(path):
            raise Undecodable(f"{path.name}: {NEEDS_PYAV}") from None
        raise Undecodable(f"{path.name} cannot be decoded here ({_named(reason, path)})") from None
    try:
        container = av.open(str(path))
    except (av.FFmpegError, OSError, ValueError) as exc:
        raise Undecodable(f"{path.name} cannot be decoded here ({_named(reason, path)}; FFmpeg: "
                          f"{_named(exc, path)})") from exc
    with container:
        streams = container.streams.audio
        if not streams:
            raise Undecodable(f"{path.name} holds no audio stream to decode.")
        stream = streams[0]
        codec = stream.codec_context
        try:
            total: int | None = read_stream_facts(path).frames
        except (UnreadableAudio, OSError):
            total = None
        if total is None and container.duration is not None:  # the container's length (microseconds)
            total = round(container.duration * int(codec.sample_rate) / 1_000_000)
        rate = int(codec.sample_rate)
        yield Decoded(rate, int(codec.layout.nb_channels), total,
                      _pyav_blocks(container, stream, path.name, _limit(total, rate, max_seconds)))


def _pyav_blocks(container: Any, stream: Any, name: str, limit: int | None) -> Iterator[np.ndarray]:
    import av
    import numpy as np

    resampler = av.AudioResampler(format="fltp")  # planar float: (channels, frames) whatever the codec gives
    left = limit
    try:
        for packet_frame in chain(container.decode(stream), [None]):  # None: flush the resampler
            for frame in resampler.resample(packet_frame):
                block = np.ascontiguousarray(frame.to_ndarray().T, dtype=np.float32)
                if left is not None:
                    block = block[:left]
                    left -= len(block)
                if len(block):
                    yield block
                if left is not None and left <= 0:
                    return
    except av.FFmpegError as exc:
        where = getattr(exc, "filename", None)
        said = _named(exc, Path(where)) if where else str(exc)
        raise Undecodable(f"{name} cannot be decoded here (FFmpeg: {said})") from exc
