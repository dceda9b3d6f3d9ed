"""Native Instruments Stems 1.0 (``.stem.mp4``), what Traktor, Mixxx 2.5+ and djay play: one MP4 file holding the
master track and four stems, and a ``stem`` box in ``moov/udta`` naming and colouring the stems.

```python
write_ni_stems(tmp, rows, sample_rate=44100, bits=16, tags=song_tags, model="Demucs4 HT")
# rows: per step a tuple of five blocks (master, drums, bass, other, vocals), float32 (frames, 2), all one length
read_stem_manifest(path)           # the stem box's JSON, parsed
```

- **Tracks.** Five stereo ALAC tracks in the order the format fixes (master, then ``STEM_NAMES``), written by
  PyAV (FFmpeg's muxer), each exactly as long as the rows, sample-aligned: ALAC has no encoder priming, so no edit
  list is needed to line the tracks up. FFmpeg marks only the master enabled (what NI's own tool does with
  ``MP4Box -add …:disable``), so an ordinary player plays the master. 16-bit, or 24-bit when a source has more.
- **Why ALAC, not AAC 256 kbps.** NI's reference tool (``ni-stem``) defaults to ALAC; the stems stay as MVSep made
  them (lossless) and the master as the input was; and AAC's priming and padding would have to be trimmed by every
  player's edit-list support for the tracks to start together. The cost is size: about 4x an AAC file.
- **The stem box.** JSON as NI's default metadata writes it: ``stems`` (name and colour each, in track order),
  ``mastering_dsp`` (compressor and limiter, both off: the master is the song as it is), ``version`` 1.
- **Tags.** The song's tags and front cover (``media.tag_write``, title unchanged), then the stem box.
- The file is checked before it is returned: five audio tracks, each the rows' length (``StemsFileError``).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mvsep_mcp.daw.decode import pyav
from mvsep_mcp.daw.errors import DawError
from mvsep_mcp.daw.mp4_udta import put_udta_box, read_udta_box
from mvsep_mcp.media.tag_model import TrackTags
from mvsep_mcp.media.tag_write import write_stem_tags

if TYPE_CHECKING:
    import numpy as np

STEM_NAMES = ("Drums", "Bass", "Other", "Vocals")  # the format's four, in track order after the master
STEM_COLOURS = ("#009E73", "#D55E00", "#CC79A7", "#56B4E9")  # NI's defaults, which Traktor and Mixxx show
NI_STEMS_SUFFIX = ".stem.mp4"
NI_STEMS_MIME = "audio/mp4"
NI_STEMS_FORMAT = "stem.mp4"  # the format a manifest entry names
STEM_BOX = b"stem"
CODEC = "alac"
# NI's default mastering block: a compressor and a limiter, both off
MASTERING_DSP: dict[str, Any] = {
    "compressor": {"enabled": False, "ratio": 3, "output_gain": 0.5, "release": 0.3, "attack": 0.003,
                   "input_gain": 0.5, "threshold": 0, "hp_cutoff": 300, "dry_wet": 50},
    "limiter": {"enabled": False, "release": 0.05, "threshold": 0, "ceiling": -0.35},
}


class StemsFileError(DawError):
    """The written ``.stem.mp4`` is not what the format asks for (the message says what is wrong)."""


def stem_manifest() -> dict[str, Any]:
    """The JSON the ``stem`` box holds."""
    return {"stems": [{"name": n, "color": c} for n, c in zip(STEM_NAMES, STEM_COLOURS, strict=True)],
            "mastering_dsp": MASTERING_DSP, "version": 1}


def read_stem_manifest(path: Path) -> dict[str, Any] | None:
    """The parsed JSON of ``path``'s ``stem`` box (None when it has none)."""
    raw = read_udta_box(Path(path), STEM_BOX)
    return None if raw is None else dict(json.loads(raw.rstrip(b"\0").decode("utf-8")))


def _encode(path: Path, rows: Iterable[tuple[np.ndarray, ...]], sample_rate: int, bits: int) -> int:
    av = pyav("Making DJ stems")
    import numpy as np

    written = 0
    with av.open(str(path), "w", format="mp4") as container:
        streams: list[Any] = []
        for name in ("Master", *STEM_NAMES):
            stream: Any = container.add_stream(CODEC, rate=sample_rate, layout="stereo")
            stream.codec_context.format = "s32p" if bits > 16 else "s16p"  # FFmpeg's ALAC: s32p is 24-bit
            stream.metadata["handler_name"] = name  # what VLC and ffprobe show for the track
            streams.append(stream)
        for row in rows:
            for stream, block in zip(streams, row, strict=True):
                frame = av.AudioFrame.from_ndarray(np.ascontiguousarray(np.clip(block, -1.0, 1.0).T,
                                                                        dtype=np.float32),
                                                   format="fltp", layout="stereo")
                frame.sample_rate, frame.pts = sample_rate, written
                for packet in stream.encode(frame):
                    container.mux(packet)
            written += len(row[0])
        for stream in streams:
            for packet in stream.encode(None):
                container.mux(packet)
    return written


def check_stems_file(path: Path, frames: int) -> None:
    """``StemsFileError`` unless ``path`` has five audio tracks of ``frames`` each and a stem box naming four."""
    import av

    with av.open(str(path)) as container:
        lengths = [round(s.duration * s.time_base * s.rate) if s.duration is not None and s.time_base else None
                   for s in container.streams.audio]
    if len(lengths) != 1 + len(STEM_NAMES) or any(n != frames for n in lengths):
        raise StemsFileError(f"{path.name} came out with tracks of {lengths} samples instead of five of {frames}.")
    manifest = read_stem_manifest(path)
    if manifest is None or len(manifest.get("stems", ())) != len(STEM_NAMES):
        raise StemsFileError(f"{path.name} came out without its stem box.")


def write_ni_stems(path: Path, rows: Iterable[tuple[np.ndarray, ...]], *, sample_rate: int, bits: int,
                   tags: TrackTags, model: str) -> int:
    """Write the ``.stem.mp4`` at ``path`` (any name: the format is given) from ``rows``; returns its frames."""
    frames = _encode(Path(path), rows, sample_rate, bits)
    write_stem_tags(Path(path), tags, stem="DJ stems", model=model, fmt="m4a", keep_title=True,
                    comment=f"DJ stems of MVSep stems ({model})")
    put_udta_box(Path(path), STEM_BOX, json.dumps(stem_manifest(), separators=(",", ":")).encode("utf-8"))
    check_stems_file(Path(path), frames)
    return frames
