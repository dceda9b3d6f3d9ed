"""Float blocks written to a file in one of MVSep's output formats: the counterpart of ``decode`` for mixes.

```python
with encoder(tmp, "flac24", sample_rate=44100, channels=2) as write:
    for block in blocks:                 # float32/float64 (frames, channels), full scale ±1
        write(block)
```

| format          | how                                                                              |
|-----------------|----------------------------------------------------------------------------------|
| wav, flac       | 16-bit integers (scaled by 2**15 and rounded: what libsndfile reads back)        |
| flac24          | 24-bit integers (the same, by 2**23)                                             |
| wav32           | 32-bit float, unchanged                                                          |
| mp3             | libsndfile's LAME, constant bit rate at its highest (320 kbps at 44.1/48 kHz)     |
| m4a             | AAC at ``MIX_AAC_BIT_RATE`` through PyAV (the ``m4a`` extra), the edit list exact |

Integer and lossy formats clip at full scale (a caller lowers a sum that would clip first: ``mix``). The file's
format is given, never guessed from its name, so a temporary ``.part`` name is fine.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mvsep_mcp.daw.decode import pyav, pyav_layout
from mvsep_mcp.daw.errors import DawError
from mvsep_mcp.daw.stream_facts import MP3_RATES
from mvsep_mcp.mvsep.formats import OutputFormatName
from mvsep_mcp.policy import MIX_AAC_BIT_RATE

if TYPE_CHECKING:
    import numpy as np

Write = Callable[["np.ndarray"], None]
# soundfile's (format, subtype) and the integer bits written (0: float)
_SNDFILE: dict[str, tuple[str, str, int]] = {
    "wav": ("WAV", "PCM_16", 16), "flac": ("FLAC", "PCM_16", 16), "flac24": ("FLAC", "PCM_24", 24),
    "wav32": ("WAV", "FLOAT", 0), "mp3": ("MP3", "MPEG_LAYER_III", 0),
}


def _integers(block: np.ndarray, bits: int) -> np.ndarray:
    """Float samples as libsndfile's integers of ``bits`` (24 bits sit in the top of an int32)."""
    import numpy as np

    top = 2 ** (bits - 1)
    values = np.clip(np.rint(np.asarray(block, dtype=np.float64) * top), -top, top - 1)
    integers: np.ndarray = values.astype(np.int16) if bits == 16 else (values.astype(np.int32) << (32 - bits))
    return integers


@contextmanager
def _sndfile(path: Path, fmt: str, rate: int, channels: int) -> Iterator[Write]:
    import numpy as np
    import soundfile as sf

    container, subtype, bits = _SNDFILE[fmt]
    if fmt == "mp3" and (rate not in MP3_RATES or channels > 2):
        raise DawError(f"An mp3 mix cannot be {rate} Hz with {channels} channels (MP3 has 8000-48000 Hz, mono or "
                       "stereo): choose wav, flac or m4a.")
    extra: dict[str, Any] = {"compression_level": 0.0, "bitrate_mode": "CONSTANT"} if fmt == "mp3" else {}
    with sf.SoundFile(str(path), "w", samplerate=rate, channels=channels, format=container, subtype=subtype,
                      **extra) as out:
        def write(block: np.ndarray) -> None:
            if bits:
                out.write(_integers(block, bits))
            else:
                data = np.asarray(block, dtype=np.float32)
                out.write(np.clip(data, -1.0, 1.0) if fmt == "mp3" else data)

        yield write


@contextmanager
def _aac(path: Path, rate: int, channels: int) -> Iterator[Write]:
    av = pyav("Writing an m4a mix (wav, flac and mp3 do without)")
    import numpy as np

    layout = pyav_layout(channels, "An m4a mix (choose wav or flac for more)")
    # the movie time scale is the sample rate, so the edit list states the length to the sample (FFmpeg's default
    # of 1000 rounds it to the millisecond)
    with av.open(str(path), "w", format="mp4", options={"movie_timescale": str(rate)}) as container:
        stream: Any = container.add_stream("aac", rate=rate, layout=layout)
        stream.bit_rate = MIX_AAC_BIT_RATE
        written = 0

        def encode(frame: Any) -> None:
            for packet in stream.encode(frame):
                container.mux(packet)

        def write(block: np.ndarray) -> None:
            nonlocal written
            planar = np.ascontiguousarray(np.clip(block, -1.0, 1.0).T, dtype=np.float32)
            if planar.shape[1]:
                frame = av.AudioFrame.from_ndarray(planar, format="fltp", layout=layout)
                frame.sample_rate, frame.pts = rate, written
                written += planar.shape[1]
                encode(frame)

        yield write
        encode(None)


@contextmanager
def encoder(path: Path, fmt: OutputFormatName, *, sample_rate: int, channels: int) -> Iterator[Write]:
    """A writer of float blocks to ``path`` in ``fmt`` (see the module docstring); the file is complete on exit."""
    if fmt == "m4a":
        with _aac(Path(path), sample_rate, channels) as write:
            yield write
    else:
        with _sndfile(Path(path), fmt, sample_rate, channels) as write:
            yield write
