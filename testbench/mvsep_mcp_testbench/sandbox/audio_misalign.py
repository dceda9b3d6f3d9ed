"""Realistic imperfection for the sandbox's stems: lengths a few milliseconds off, MP3s without a gapless header.

Real separation outputs do not always line up with the input: a model pads its last chunk or drops a partial one
(a stem a few ms long or short), and an MP3 written without a LAME/Xing header makes every decoder start it an
encoder delay late (about 1105 samples for LAME). ``Misalignment`` says how the sandbox imitates that, the same way
on every run: stem number ``i`` of a job is ``length_errors_ms[i % len]`` ms longer (silence at the end) or shorter
(end cut off), and every ``mp3_headerless_every``-th MP3 stem (the 2nd, 4th… by default) carries no gapless header.

Switched on per sandbox with ``SandboxState.misalignment``; ``render_stems`` without one writes stems of exactly
the input's length (the sandbox's historical behaviour, which the audio tests rely on).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the state imports this module: keep numpy and the codecs out of its import time
    import numpy as np

    from mvsep_mcp_testbench.sandbox.audio_codecs import Writer


@dataclass(frozen=True)
class Misalignment:
    """How far stem number ``i`` strays: see the module docstring. ``Misalignment()`` is the realistic default."""

    length_errors_ms: tuple[float, ...] = (0.0, 4.0, -2.5, 11.0)
    mp3_headerless_every: int = 2  # 0: every MP3 keeps its gapless header

    def length_error_frames(self, index: int, sample_rate: int) -> int:
        """Frames stem ``index`` gains (+) or loses (-) at ``sample_rate``."""
        if not self.length_errors_ms:
            return 0
        return round(self.length_errors_ms[index % len(self.length_errors_ms)] * sample_rate / 1000.0)

    def mp3_gapless_header(self, index: int) -> bool:
        """Whether MP3 stem ``index`` is written with its LAME/Xing gapless header."""
        every = self.mp3_headerless_every
        return every <= 0 or (index + 1) % every != 0


class LengthChangingWriter:
    """Wraps a ``Writer``: drops the last ``-delta`` frames, or appends ``delta`` frames of silence, at close.

    Streams: a cut holds back only its ``-delta`` frames, so the stem's total length need not be known in advance.
    """

    def __init__(self, inner: Writer, delta: int) -> None:
        self._inner = inner
        self._delta = delta
        self._held: np.ndarray | None = None
        self._template: np.ndarray | None = None

    def write(self, block: np.ndarray) -> None:
        import numpy as np

        if block.shape[0] == 0:
            return
        if self._template is None:
            self._template = block[:0]
        if self._delta >= 0:
            self._inner.write(block)
            return
        held = block if self._held is None else np.concatenate([self._held, block])
        keep = -self._delta
        if held.shape[0] > keep:
            self._inner.write(held[: held.shape[0] - keep])
            held = held[held.shape[0] - keep:]
        self._held = held

    def close(self) -> None:
        import numpy as np

        if self._delta > 0 and self._template is not None:
            silence = np.zeros((self._delta, self._template.shape[1]), dtype=self._template.dtype)
            self._inner.write(silence)
        self._inner.close()
