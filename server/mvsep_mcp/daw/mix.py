"""Practice mixes: the sum of some of a song's stems as one file ("the song without the bass", "drums and bass only").

```python
choice = choose_stems(["Vocals", "Drums", "Bass", "Other", "Instrumental"], without=["bass"])
choice.stems, choice.mark          # ("Vocals", "Drums", "Other"), "no Bass" -> the title "Song (no Bass)"
gain = write_mix(tmp, [vocals, drums, other], layout, "flac")    # 1.0 unless the sum would clip
```

- **Which stems.** ``only`` takes exactly the stems named; ``without`` takes every stem but those named, and also
  leaves out the stems that are themselves a mix of others: an ``Instrumental`` (any label naming an instrumental
  or joining two with ``+``) when the job has stems of its own beside the vocals, and ``Drums: kick``-style parts
  of a stem the job has whole. Names are matched without regard to case; the stems keep the job's order.
- **Refusals** (``MixError``, one sentence naming what is possible): both ``without`` and ``only``, neither, a stem
  the job does not have, nothing left to mix.
- **Level.** The stems are summed sample for sample (``aligned_audio``: one rate, channel count and length, the
  input's). Only a sum whose peak would pass full scale is lowered, to ``MIX_PEAK_CEILING_DB``; the gain is returned
  for the manifest. That takes two passes over the stems (one for the peak, one to write), never the song in memory.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from mvsep_mcp.daw.aligned_audio import Layout, lockstep
from mvsep_mcp.daw.encode import encoder
from mvsep_mcp.daw.errors import DawError
from mvsep_mcp.mvsep.formats import OutputFormatName
from mvsep_mcp.policy import MIX_PEAK_CEILING_DB

if TYPE_CHECKING:
    import numpy as np


_ORDER = ("vocals", "drums", "bass", "other")  # how stems are usually listed; the rest follow by name


class MixError(DawError, ValueError):
    """A mix or a DJ stem file cannot be made from what was asked (the message names what is possible)."""


@dataclass(frozen=True)
class MixChoice:
    """The stems to sum, in the job's order, and the title's mark: ``no Bass`` or ``Drums + Bass``."""

    stems: tuple[str, ...]
    mark: str


def _listing(names: Sequence[str]) -> str:
    return ", ".join(names[:-1]) + f" and {names[-1]}" if len(names) > 1 else "".join(names)


def is_submix(label: str, labels: Sequence[str]) -> bool:
    """Whether the stem ``label`` is a mix of other stems of the job (see the module docstring)."""
    folded = label.casefold()
    others = [other.casefold() for other in labels if other != label]
    if ":" in folded and folded.split(":", 1)[0].strip() in others:
        return True
    mixed = "instrumental" in folded or "+" in folded
    return mixed and any("vocal" not in other and not ("instrumental" in other or "+" in other) for other in others)


def _find(names: Sequence[str], labels: Sequence[str]) -> list[str]:
    by_fold = {label.casefold(): label for label in labels}
    missing = [name for name in names if name.strip().casefold() not in by_fold]
    if missing:
        raise MixError(f"This job has no {missing[0]!r} stem; its stems are {_listing(labels)}.")
    return [by_fold[name.strip().casefold()] for name in names]


def choose_stems(labels: Sequence[str], *, without: Sequence[str] | None = None,
                 only: Sequence[str] | None = None) -> MixChoice:
    """The stems a mix sums (see the module docstring); ``MixError`` when the request cannot be met."""
    if without and only:
        raise MixError("Give either without (the stems to leave out) or only (the stems to keep), not both.")
    if not without and not only:
        raise MixError(f"Name the stems to leave out (without) or to keep (only); this job's stems are "
                       f"{_listing(labels)}.")
    if only:
        stems = tuple(dict.fromkeys(_find(only, labels)))
        return MixChoice(stems, " + ".join(stems))
    left_out = _find(without or (), labels)
    stems = tuple(sorted((label for label in labels if label not in left_out and not is_submix(label, labels)),
                         key=_usual_order))
    if not stems:
        raise MixError(f"Leaving out {_listing(left_out)} leaves nothing to mix; this job's stems are "
                       f"{_listing(labels)}.")
    marked = list(dict.fromkeys(left_out))
    return MixChoice(stems, "no " + (", ".join(marked[:-1]) + f" or {marked[-1]}" if len(marked) > 1 else marked[0]))


def _usual_order(label: str) -> tuple[int, str]:
    folded = label.casefold()
    return (_ORDER.index(folded) if folded in _ORDER else len(_ORDER), folded)


def clip_gain(peak: float) -> float:
    """1.0, or the gain that brings a sum peaking above full scale down to ``MIX_PEAK_CEILING_DB``."""
    return 1.0 if peak <= 1.0 else float(10 ** (MIX_PEAK_CEILING_DB / 20) / peak)


def summed(rows: Iterator[tuple[np.ndarray, ...]]) -> Iterator[np.ndarray]:
    """Each step's blocks added up (in float64: four stems' rounding stays far below a 24-bit step)."""
    import numpy as np

    for row in rows:
        total = np.zeros(row[0].shape, dtype=np.float64)
        for block in row:
            total += block
        yield total


def mix_peak(paths: Sequence[Path], layout: Layout) -> float:
    """The largest absolute sample of the sum of ``paths``."""
    import numpy as np

    with lockstep(paths, layout) as rows:
        return max((float(np.max(np.abs(block))) for block in summed(rows) if block.size), default=0.0)


def write_mix(target: Path, paths: Sequence[Path], layout: Layout, fmt: OutputFormatName) -> float:
    """Write the sum of ``paths`` to ``target`` in ``fmt``, lowered only if it would clip; returns the gain."""
    gain = clip_gain(mix_peak(paths, layout))
    with lockstep(paths, layout) as rows, encoder(target, fmt, sample_rate=layout.sample_rate,
                                                  channels=layout.channels) as write:
        for block in summed(rows):
            write(block * gain if gain != 1.0 else block)
    return gain
