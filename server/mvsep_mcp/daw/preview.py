"""Short previews of a stem for the stem player: the first seconds as a small mono MP3, made in memory.

``mp3_preview(path)`` reads the first ``PREVIEW_SECONDS`` of a stem (``decode``: libsndfile for WAV, FLAC, MP3, OGG;
PyAV, when installed, for M4A), mixes it to mono, lowers the rate to an MPEG-2 rate (22.05 or 24 kHz) and encodes
constant-bitrate MP3 (~40 kbit/s, ~150 KB for 30 s) with libsndfile's LAME. MP3 because every browser plays it (Ogg
does not play in older Safari) and the base install encodes it without FFmpeg. A preview above ``PREVIEW_MAX_BYTES``
is refused with a sentence.

The rate change is own code (a box filter, then decimation; linear interpolation for odd rates): the base install
has no resampler, and a 40 kbit/s preview does not need a better one.
"""

from __future__ import annotations

import io
import math
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from mvsep_mcp.daw.decode import Undecodable, decoded
from mvsep_mcp.daw.errors import DawError
from mvsep_mcp.daw.stream_facts import MP3_RATES
from mvsep_mcp.policy import PREVIEW_MAX_BYTES, PREVIEW_MAX_RATE, PREVIEW_MP3_LEVEL, PREVIEW_SECONDS

if TYPE_CHECKING:  # numpy and libsndfile load with the first preview, not with the server (cold start)
    import numpy as np

PREVIEW_MIME = "audio/mpeg"
_FALLBACK_RATE = 22050


class PreviewUnavailable(DawError, ValueError):
    """A stem that cannot be previewed: not decodable here, empty, or a preview too large for the host's bridge."""


@dataclass(frozen=True)
class Preview:
    """An encoded preview: the MP3 bytes, its MIME type, its length in seconds and rate."""

    data: bytes
    seconds: float
    sample_rate: int
    mime: str = PREVIEW_MIME


def preview_rate(mono: np.ndarray, rate: int) -> tuple[np.ndarray, int]:
    """``mono`` at an MP3 rate no higher than ``PREVIEW_MAX_RATE`` (box-filtered decimation, else interpolation)."""
    import numpy as np

    factor = max(1, math.ceil(rate / PREVIEW_MAX_RATE))
    if factor > 1:
        whole = len(mono) // factor * factor
        mono = mono[:whole].reshape(-1, factor).mean(axis=1)
    if rate % factor == 0 and rate // factor in MP3_RATES:
        return mono.astype(np.float32), rate // factor
    current = rate / factor
    count = int(len(mono) * _FALLBACK_RATE / current)
    positions = np.arange(count, dtype=np.float64) * (current / _FALLBACK_RATE)
    return np.interp(positions, np.arange(len(mono)), mono).astype(np.float32), _FALLBACK_RATE


def mp3_preview(path: Path, seconds: float = PREVIEW_SECONDS, *, max_bytes: int = PREVIEW_MAX_BYTES) -> Preview:
    """The first ``seconds`` of ``path`` as a mono MP3 (see the module docstring); ``PreviewUnavailable`` if not."""
    import numpy as np
    import soundfile as sf

    name = Path(path).name
    try:
        with decoded(Path(path), max_seconds=seconds) as audio:
            rate = audio.sample_rate
            blocks = list(audio.blocks)
            block = np.concatenate(blocks) if blocks else np.zeros((0, audio.channels), dtype=np.float32)
    except Undecodable as exc:
        raise PreviewUnavailable(f"{exc}; so it has no preview: open the file itself.") from exc
    if len(block) == 0:
        raise PreviewUnavailable(f"{name} holds no audio to preview.")
    mono, out_rate = preview_rate(block.mean(axis=1), rate)
    buffer = io.BytesIO()
    sf.write(buffer, np.clip(mono, -1.0, 1.0), out_rate, format="MP3", subtype="MPEG_LAYER_III",
             compression_level=PREVIEW_MP3_LEVEL, bitrate_mode="CONSTANT")
    data = buffer.getvalue()
    if len(data) > max_bytes:
        raise PreviewUnavailable(f"The preview of {name} would be {len(data) // 1000} KB, above the {max_bytes // 1000}"
                                 " KB a host's bridge is given; open the file itself.")
    return Preview(data=data, seconds=len(mono) / out_rate, sample_rate=out_rate)
