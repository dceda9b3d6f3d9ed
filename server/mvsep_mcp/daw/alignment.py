"""Stems that line up: check a downloaded stem against the input, make PCM stems its exact length, record the rest.

Entry point: ``align_stem(input_path, stem_path, daw_ready=...)`` → ``StemAlignment`` (``.as_manifest()`` is the
JSON for the manifest's output entry). It never raises for audio that does not line up; ``reason`` says why.

- PCM stems (WAV, FLAC) that differ from the input's exact length by at most ``DAW_MAX_ADJUST_S`` are cut or padded
  with silence at the end, in place and atomically (``pcm_length``), when ``daw_ready`` is on. Models pad their last
  chunk or drop a partial one; the start is never moved (PCM has no priming, so a stem starts where the input does).
- Lossy stems (MP3, M4A) are never re-encoded: their encoder delay and padding (LAME header, MP4 edit list) and
  whether a gapless decoder gets exactly the input's length are recorded.
- A stem at another rate or channel count than the input (MP3 has no 96 kHz and no 5.1) is reported, not resampled;
  a PCM one still gets the length that matches the input in time.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

from mvsep_mcp.daw.errors import DawError
from mvsep_mcp.daw.pcm_length import set_pcm_frames
from mvsep_mcp.daw.stream_facts import StreamFacts, UnreadableAudio, mp3_limits, read_stream_facts
from mvsep_mcp.policy import DAW_MAX_ADJUST_S, DAW_READY_DEFAULT

log = logging.getLogger(__name__)

AlignmentStatus = Literal["matched", "trimmed", "padded", "recorded", "not_adjusted", "unreadable"]


class StemAlignment(BaseModel):
    """How one stem lines up with its input.

    ``status``: ``matched`` (PCM, already the input's length), ``trimmed``/``padded`` (PCM, made so by
    ``adjusted_frames`` frames), ``recorded`` (lossy: offsets recorded, nothing changed), ``not_adjusted`` (PCM left
    as it was: see ``reason``), ``unreadable``. ``exact``: decoded by a gapless decoder, the stem starts at the
    input's first sample and has its rate, channel count and length. ``stem`` describes the file as downloaded.
    """

    model_config = ConfigDict(frozen=True)

    status: AlignmentStatus
    exact: bool
    reason: str | None = None
    input: StreamFacts | None = None
    stem: StreamFacts | None = None
    frames_before: int | None = None
    frames_after: int | None = None
    adjusted_frames: int = 0  # + padded, - trimmed

    def as_manifest(self, *, include_input: bool = False) -> dict[str, Any]:
        """The JSON-ready dict for the manifest's output entry (``alignment``); None fields left out.

        The input's facts are the same for every stem of a job, so they are left out unless asked for: record them
        once with ``StreamFacts.as_manifest()`` in the manifest's input entry.
        """
        return self.model_dump(mode="json", exclude_none=True, exclude=None if include_input else {"input"})


def _ms(frames: int, rate: int) -> str:
    return f"{abs(frames) * 1000.0 / rate:.1f} ms"


def _format_reason(input_facts: StreamFacts, stem: StreamFacts) -> str | None:
    """Why the stem cannot have the input's rate and channel count, or None when it has them."""
    if (stem.sample_rate, stem.channels) == (input_facts.sample_rate, input_facts.channels):
        return None
    if stem.format == "mp3":
        limits = mp3_limits(input_facts.sample_rate, input_facts.channels)
        if limits:
            return limits
    return (f"the stem is {stem.sample_rate} Hz with {stem.channels} channel(s) and the input {input_facts.sample_rate}"
            f" Hz with {input_facts.channels}; it was not resampled or remixed (a DAW converts it on import)")


def _expected_frames(input_facts: StreamFacts, stem: StreamFacts) -> int | None:
    """The input's length in frames at the stem's rate (the same number when the rates agree)."""
    if input_facts.frames is None:
        return None
    if stem.sample_rate == input_facts.sample_rate:
        return input_facts.frames
    return round(input_facts.frames * stem.sample_rate / input_facts.sample_rate)


def _longer_or_shorter(diff: int, rate: int) -> str:
    return f"{abs(diff)} frames ({_ms(diff, rate)}) {'longer' if diff > 0 else 'shorter'} than the input"


def _join(*reasons: str | None) -> str | None:
    kept = [r for r in reasons if r]
    return "; ".join(kept) if kept else None


def _align_lossy(input_facts: StreamFacts, stem: StreamFacts, format_reason: str | None) -> StemAlignment:
    expected = _expected_frames(input_facts, stem)
    reasons: list[str | None] = [format_reason]
    if not stem.frames_exact and stem.gapless_source is None:
        typical = " (1105 frames for LAME)" if stem.format == "mp3" else ""
        reasons.append(f"the {stem.format.upper()} declares no gapless information (no LAME header or edit list), so "
                       f"decoders start it late{typical} and its exact length is unknown")
    elif not stem.frames_exact:
        reasons.append(f"the {stem.format.upper()}'s {stem.gapless_source} states its length only to the time scale "
                       "of its container (e.g. 1 ms), not to the sample")
    elif expected is not None and stem.frames is not None and stem.frames != expected:
        reasons.append(f"a gapless decoder gets {_longer_or_shorter(stem.frames - expected, stem.sample_rate)}; lossy "
                       "stems are not re-encoded")
    if not input_facts.frames_exact:
        reasons.append("the input's exact length is unknown")
    exact = (format_reason is None and stem.frames_exact and input_facts.frames_exact
             and stem.frames == expected)
    return StemAlignment(status="recorded", exact=exact, reason=_join(*reasons), input=input_facts, stem=stem,
                         frames_before=stem.frames, frames_after=stem.frames)


def _align_pcm(input_facts: StreamFacts, stem: StreamFacts, stem_path: Path, format_reason: str | None, *,
               daw_ready: bool, max_adjust_s: float, in_place: bool = False) -> StemAlignment:
    expected = _expected_frames(input_facts, stem)

    def result(status: AlignmentStatus, why: str | None = None, *, exact: bool = False,
               after: int | None = stem.frames, adjusted: int = 0) -> StemAlignment:
        return StemAlignment(status=status, exact=exact, reason=_join(format_reason, why), input=input_facts,
                             stem=stem, frames_before=stem.frames, frames_after=after, adjusted_frames=adjusted)

    if expected is None or not input_facts.frames_exact or stem.frames is None:
        return result("not_adjusted", "the input's exact length is unknown (a lossy input without gapless "
                                      "information), so the stem was left as MVSep made it")
    diff = stem.frames - expected
    if diff == 0:
        return result("matched", exact=format_reason is None)
    if not daw_ready:
        return result("not_adjusted", f"daw_ready is off: the stem is {_longer_or_shorter(diff, stem.sample_rate)}")
    if abs(diff) > max_adjust_s * stem.sample_rate:
        return result("not_adjusted", f"the stem is {_longer_or_shorter(diff, stem.sample_rate)}, more than the "
                                      f"{max_adjust_s:g} s of padding that is safe to cut or add; it was left as it "
                                      "was (is it from another input?)")
    try:
        set_pcm_frames(stem_path, stem.format, expected, in_place=in_place)
        after = read_stream_facts(stem_path).frames
    except (DawError, OSError, UnreadableAudio, RuntimeError) as exc:
        log.warning("could not change the length of %s: %s", stem_path.name, exc)
        return result("not_adjusted", str(exc))
    return result("padded" if diff < 0 else "trimmed", exact=format_reason is None and after == expected,
                  after=after, adjusted=-diff)


def align_stem(input_path: Path | None, stem_path: Path, *, daw_ready: bool = DAW_READY_DEFAULT,
               input_facts: StreamFacts | None = None, max_adjust_s: float = DAW_MAX_ADJUST_S,
               in_place: bool = False) -> StemAlignment:
    """Check ``stem_path`` against the input and, for PCM with ``daw_ready``, give it the input's exact length.

    ``input_facts`` (from ``read_stream_facts(input_path)``) saves reading the input again for every stem of a job.
    ``in_place``: a WAV not yet in use (a download being finished) is edited where it lies, not copied.
    ``stem_path`` may be a temporary ``.part`` name: formats are recognised by content. Never raises for audio.
    """
    stem_path = Path(stem_path)
    try:
        stem = read_stream_facts(stem_path)
    except (UnreadableAudio, OSError) as exc:
        return StemAlignment(status="unreadable", exact=False, reason=f"the stem cannot be read: {exc}")
    if input_facts is None:
        try:
            if input_path is None:
                raise UnreadableAudio("there is no input file (a URL or text job)")
            input_facts = read_stream_facts(Path(input_path))
        except (UnreadableAudio, OSError) as exc:
            status: AlignmentStatus = "not_adjusted" if stem.is_pcm else "recorded"
            return StemAlignment(status=status, exact=False, reason=f"the input cannot be read to compare: {exc}",
                                 stem=stem, frames_before=stem.frames, frames_after=stem.frames)
    format_reason = _format_reason(input_facts, stem)
    if stem.is_pcm and stem.format in ("wav", "flac"):
        return _align_pcm(input_facts, stem, stem_path, format_reason, daw_ready=daw_ready, in_place=in_place,
                          max_adjust_s=max_adjust_s)
    return _align_lossy(input_facts, stem, format_reason)
