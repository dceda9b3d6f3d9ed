"""A file's audio the way a mix or a DJ stem file takes it: at one rate and channel count, exactly ``frames`` long,
in blocks of one size, so that several files read side by side line up sample for sample.

```python
layout = Layout(sample_rate=44100, channels=2, frames=n)
with aligned_blocks(path, layout) as blocks:       # Undecodable / DawError: a sentence naming the file
    for block in blocks: ...                        # float32 (block_frames, channels); only the last one shorter
with lockstep([a, b, c], layout) as rows:           # a tuple of blocks per step, one from each file
    ...
```

- Decoded by ``decode.decoded`` (libsndfile; PyAV for M4A); a file at another rate is resampled with PyAV
  (FFmpeg's swresample), which needs the ``m4a`` extra.
- A mono file is spread to every channel; a stereo file asked for mono is averaged; any other difference in
  channels is refused.
- The start never moves (a stem starts where its input does: ``alignment``); the end is cut at ``frames`` or padded
  with silence up to it.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mvsep_mcp.daw.decode import decoded, pyav, pyav_layout
from mvsep_mcp.daw.errors import DawError
from mvsep_mcp.policy import DAW_PCM_BLOCK_FRAMES

if TYPE_CHECKING:  # numpy loads with the first decode, not with the server (cold start)
    import numpy as np

@dataclass(frozen=True)
class Layout:
    """What every file is read as: rate, channel count and length in frames."""

    sample_rate: int
    channels: int
    frames: int


def _channels(block: np.ndarray, channels: int, name: str) -> np.ndarray:
    import numpy as np

    have = block.shape[1]
    if have == channels:
        return block
    if have == 1:
        return np.repeat(block, channels, axis=1)
    if channels == 1:
        averaged: np.ndarray = block.mean(axis=1, keepdims=True, dtype=np.float32)
        return averaged
    raise DawError(f"{name} has {have} channels and the song {channels}; only mono and stereo files are mixed "
                   "together.")


def _resampled(blocks: Iterable[np.ndarray], rate: int, to_rate: int, channels: int,
               name: str) -> Iterator[np.ndarray]:
    """``blocks`` (``channels`` wide, at ``rate``) at ``to_rate``, through swresample."""
    av = pyav(f"Resampling {name} from {rate} Hz to the song's {to_rate} Hz")
    import numpy as np

    layout = pyav_layout(channels, name)
    resampler = av.AudioResampler(format="fltp", layout=layout, rate=to_rate)
    for block in _and_flush(blocks):
        frame = None if block is None else _frame(block, layout, rate)
        for out in resampler.resample(frame):
            yield np.ascontiguousarray(out.to_ndarray().T, dtype=np.float32)


def _and_flush(blocks: Iterable[np.ndarray]) -> Iterator[np.ndarray | None]:
    """``blocks``, then None (what flushes a resampler)."""
    yield from blocks
    yield None


def _frame(block: np.ndarray, layout: str, rate: int) -> Any:
    import av
    import numpy as np

    frame = av.AudioFrame.from_ndarray(np.ascontiguousarray(block.T, dtype=np.float32), format="fltp", layout=layout)
    frame.sample_rate = rate
    return frame


def fixed_blocks(blocks: Iterable[np.ndarray], frames: int, channels: int,
                 block_frames: int = DAW_PCM_BLOCK_FRAMES) -> Iterator[np.ndarray]:
    """``blocks`` regrouped into ``block_frames``-long blocks, ``frames`` in all (cut, or padded with silence)."""
    import numpy as np

    pending: list[np.ndarray] = []
    held = 0
    left = frames
    source = iter(blocks)
    while left > 0:
        want = min(block_frames, left)
        while held < want:
            block = next(source, None)
            if block is None:
                break
            if len(block):
                pending.append(block)
                held += len(block)
        joined = np.concatenate(pending) if pending else np.zeros((0, channels), dtype=np.float32)
        out, rest = joined[:want], joined[want:]
        if len(out) < want:
            out = np.concatenate([out, np.zeros((want - len(out), channels), dtype=np.float32)])
        pending, held = ([rest] if len(rest) else []), len(rest)
        left -= want
        yield out


@contextmanager
def aligned_blocks(path: Path, layout: Layout, block_frames: int = DAW_PCM_BLOCK_FRAMES) -> Iterator[
        Iterator[np.ndarray]]:
    """``path`` decoded as ``layout`` says, in blocks of ``block_frames`` (see the module docstring)."""
    name = Path(path).name
    with decoded(Path(path)) as audio:
        blocks: Iterable[np.ndarray] = (_channels(b, layout.channels, name) for b in audio.blocks)
        if audio.sample_rate != layout.sample_rate:
            blocks = _resampled(blocks, audio.sample_rate, layout.sample_rate, layout.channels, name)
        yield fixed_blocks(blocks, layout.frames, layout.channels, block_frames)


@contextmanager
def lockstep(paths: Sequence[Path], layout: Layout, block_frames: int = DAW_PCM_BLOCK_FRAMES) -> Iterator[
        Iterator[tuple[np.ndarray, ...]]]:
    """The files of ``paths`` read side by side: one block of each per step, all the same length."""
    with ExitStack() as stack:
        readers = [stack.enter_context(aligned_blocks(p, layout, block_frames)) for p in paths]
        yield zip(*readers, strict=True)
