"""DJ stems from a separation's stems: which files make the master and the four tracks, and the rows to encode.

```python
sources = dj_sources({"Vocals": v, "Drums": d, "Bass": b, "Other": o, "Instrumental": i}, master=song)
with dj_rows(sources, layout) as rows:           # per step: (master, drums, bass, other, vocals) blocks
    write_ni_stems(tmp, rows, ...)
sources.notes                                     # how Other and the master were made, for the answer
```

- **Drums, Bass, Vocals** are the job's stems of those names (any case): without all three there are no DJ stems.
- **Other** is the job's ``Other`` stem when the job's other stems are only mixes of these (an ``Instrumental``,
  ``mix.is_submix``). Otherwise (no ``Other``, or stems beside it such as Guitar and Piano that it lacks) Other is
  worked out as the rest: the song minus Drums, Bass and Vocals, sample for sample, so it holds everything else
  and the four tracks add up to the master exactly. That needs the song on disk.
- **The master** is the song (the job's input) when it is on disk; otherwise (a URL job, a moved file) the sum of
  the four stems, lowered only if it would clip (``mix.clip_gain``).
- Every track is read at the song's rate and length in stereo (``aligned_audio``); 24-bit when any source is
  deeper than 16 bits, else 16-bit.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from mvsep_mcp.daw.aligned_audio import Layout, lockstep
from mvsep_mcp.daw.mix import MixError, clip_gain, is_submix, mix_peak
from mvsep_mcp.daw.ni_stems import STEM_NAMES
from mvsep_mcp.daw.stream_facts import UnreadableAudio, read_stream_facts

if TYPE_CHECKING:
    import numpy as np

_NEEDED = ("Drums", "Bass", "Vocals")
_SHALLOW = {"PCM_16", "PCM_S8", "PCM_U8", "MPEG_LAYER_III", "AAC", "VORBIS", "OPUS"}  # 16 bits are enough


@dataclass(frozen=True)
class DjSources:
    """The files behind each track: ``master`` None means the sum of the four, ``other`` None the song's rest."""

    drums: Path
    bass: Path
    other: Path | None
    vocals: Path
    master: Path | None
    notes: tuple[str, ...] = field(default=())

    @property
    def used(self) -> tuple[str, ...]:
        """The job's stems the file is made from, in track order."""
        return tuple(name for name, path in zip(STEM_NAMES, (self.drums, self.bass, self.other, self.vocals),
                                                strict=True) if path is not None)


def _listing(names: list[str]) -> str:
    return ", ".join(names[:-1]) + f" and {names[-1]}" if len(names) > 1 else "".join(names)


def dj_sources(stems: Mapping[str, Path], master: Path | None) -> DjSources:
    """The sources of the four tracks and the master (see the module docstring); ``MixError`` when there are none."""
    by_fold = {label.casefold(): (label, path) for label, path in stems.items()}
    missing = [name for name in _NEEDED if name.casefold() not in by_fold]
    if missing:
        raise MixError(f"DJ stems need Drums, Bass and Vocals stems (Other can be worked out from the song), and this "
                       f"job has no {_listing(missing)} (its stems: {_listing(list(stems))}): separate the song with "
                       "a 4-stem model (search_models stem='drums').")
    labels = list(stems)
    core = {name.casefold() for name in (*_NEEDED, "Other")}
    extra = [label for label in labels if label.casefold() not in core and not is_submix(label, labels)]
    notes: list[str] = []
    other: Path | None = by_fold["other"][1] if "other" in by_fold and not extra else None
    if other is None:
        why = (f"the job's Other lacks its {_listing(extra)}" if "other" in by_fold
               else "the job has no Other stem")
        if master is None:
            raise MixError(f"DJ stems need an Other track and {why}, so it would be worked out as the song minus "
                           "Drums, Bass and Vocals, but the song is not on disk here (a URL job, or a moved file): "
                           "separate it with a model whose stems are Drums, Bass, Other and Vocals.")
        notes.append(f"Other is the song minus Drums, Bass and Vocals ({why}).")
    if master is None:
        notes.append("The master track is the sum of the four stems (the song itself is not on disk here).")
    return DjSources(drums=by_fold["drums"][1], bass=by_fold["bass"][1], other=other, vocals=by_fold["vocals"][1],
                     master=master, notes=tuple(notes))


def source_bits(paths: list[Path]) -> int:
    """16, or 24 when any of ``paths`` holds more than 16 bits a sample."""
    for path in paths:
        try:
            encoding = read_stream_facts(path).encoding
        except (UnreadableAudio, OSError):
            continue
        if encoding is not None and encoding.upper() not in _SHALLOW:
            return 24
    return 16


def _sum(row: tuple[np.ndarray, ...]) -> np.ndarray:
    total = row[0].copy()
    for block in row[1:]:
        total += block
    return total


@contextmanager
def dj_rows(sources: DjSources, layout: Layout) -> Iterator[Iterator[tuple[np.ndarray, ...]]]:
    """Per step, the blocks of (master, drums, bass, other, vocals), all ``layout``'s rate, stereo and length."""
    stereo = Layout(layout.sample_rate, 2, layout.frames)
    if sources.master is None:
        four = [p for p in (sources.drums, sources.bass, sources.other, sources.vocals) if p is not None]
        gain = clip_gain(mix_peak(four, stereo))
        with lockstep(four, stereo) as rows:
            yield ((_sum(row) * gain, *row) for row in rows)
    elif sources.other is None:
        with lockstep([sources.master, sources.drums, sources.bass, sources.vocals], stereo) as rows:
            yield ((master, drums, bass, master - drums - bass - vocals, vocals)
                   for master, drums, bass, vocals in rows)
    else:
        with lockstep([sources.master, sources.drums, sources.bass, sources.other, sources.vocals], stereo) as rows:
            yield rows
